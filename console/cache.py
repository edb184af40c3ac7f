"""The cache backend: Django's Redis cache, made to ride out a Redis restart.

Nothing the console keeps in the cache is the only copy of anything (isolation probe
results, the orphaned-stack sweep, the worker heartbeat, webhook rate counters), so
while Redis is away a read finds nothing, a write is dropped and a counter starts
again: pages keep answering instead of failing on a cache they can do without.
Webhook rate limits fail open for that time, which the README says.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
OUTAGE = (RedisConnectionError, RedisTimeoutError)
F = TypeVar("F", bound=Callable[..., Any])


def _riding_out(fallback: Callable[..., Any]) -> Callable[[F], F]:
    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except OUTAGE as error:
                logger.warning("cache %s skipped: Redis is unreachable (%s)", method.__name__, error)
                return fallback(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _default(key: str, default: Any = None, version: int | None = None) -> Any:
    return default


def _counter_start(key: str, delta: int = 1, version: int | None = None) -> int:
    return delta


class ResilientRedisCache(RedisCache):
    get = _riding_out(_default)(RedisCache.get)
    get_many = _riding_out(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _riding_out(lambda *a, **k: False)(RedisCache.has_key)
    set = _riding_out(lambda *a, **k: None)(RedisCache.set)
    set_many = _riding_out(lambda *a, **k: [])(RedisCache.set_many)
    add = _riding_out(lambda *a, **k: False)(RedisCache.add)
    touch = _riding_out(lambda *a, **k: False)(RedisCache.touch)
    delete = _riding_out(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _riding_out(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _riding_out(_counter_start)(RedisCache.incr)
