"""Counting calls per minute in the shared cache (Redis in production).

A sliding window: this minute's calls plus last minute's, weighted by how much of it is
still inside the last 60 s, so twice the limit cannot pass across a minute's edge as it
would with a fixed window. While Redis is unreachable the cache drops writes
(console/cache.py) and the limits fail open, which the README says."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone


def within_rate(name: str, per_minute: int) -> bool:
    """Count one call of `name`; False when it is over `per_minute`."""
    now = timezone.now().timestamp()
    window, elapsed = divmod(now, 60)
    key = f"rate:{name}:{int(window)}"
    cache.add(key, 0, timeout=180)
    try:
        current = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=180)
        current = 1
    previous = cache.get(f"rate:{name}:{int(window) - 1}") or 0
    return current + previous * (1 - elapsed / 60) <= per_minute
