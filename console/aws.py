"""The one place that builds boto3 clients.

Endpoint, region, retries and timeouts come from settings; credentials from
boto3's standard chain. Apps call `aws_client("ssm")` from their own AWS module
and never build clients themselves, so tests and the emulator swap in one place.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from django.conf import settings

# boto3 sessions are not thread-safe, clients are: clients are made under a lock from
# one session and shared by every thread (pools of worker threads then reuse them
# instead of building a session and loading service models per thread).
_lock = threading.Lock()
_shared: dict[str, Any] = {}


def client_config() -> Config:
    return Config(
        # "standard" retries throttling and transient errors with backoff and
        # leaves real failures (access denied, validation) to fail at once.
        retries={"mode": "standard", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        user_agent_extra="amplify-selfhosted-console",
    )


# Service models are the same JSON whatever the credentials: a session made anew (tests
# that switch endpoint or credentials) keeps the loader, and with it the parsed models
# (a new session with three clients: ~150 ms with its own loader, ~30 ms with this one).
_loader = botocore.loaders.create_loader()


def _session() -> boto3.session.Session:
    """The shared session; call with `_lock` held."""
    session = _shared.get("session")
    if session is None:
        core = botocore.session.get_session()
        core.register_component("data_loader", _loader)
        session = _shared["session"] = boto3.session.Session(botocore_session=core)
        # boto3 adds its own data folder to the loader's search path each time.
        _loader.search_paths[:] = list(dict.fromkeys(_loader.search_paths))
    return session


@lru_cache(maxsize=64)
def _cached_client(service: str, region: str, endpoint_url: str | None) -> Any:
    with _lock:
        return _session().client(service, region_name=region, endpoint_url=endpoint_url, config=client_config())


def aws_client(service: str, *, region: str | None = None) -> Any:
    """A boto3 client for `service` in `region` (default: the console's region)."""
    return _cached_client(service, region or settings.AWS_REGION, settings.AWS_ENDPOINT_URL)


def clear_client_cache() -> None:
    """Forget cached clients (tests that switch endpoint or credentials)."""
    with _lock:
        _cached_client.cache_clear()
        _shared.pop("session", None)


def aws_credentials() -> Any:
    """The frozen credentials of the standard chain (for builds), or None."""
    with _lock:
        credentials = _session().get_credentials()
    return credentials.get_frozen_credentials() if credentials is not None else None
