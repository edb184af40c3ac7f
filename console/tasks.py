"""Cross-cutting periodic tasks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "console:worker-heartbeat"
# Beat queues a heartbeat every 30 s; silence for longer than this means trouble.
HEARTBEAT_STALE_AFTER = timedelta(minutes=2)


@shared_task(name="console.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> str:
    """Beat sends this every 30 s; the dashboard shows when a worker last ran it."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


def worker_last_seen() -> datetime | None:
    """When a worker last ran the heartbeat, or None if never (or the cache was cleared)."""
    value = cache.get(HEARTBEAT_KEY)
    return datetime.fromisoformat(value) if value else None


def workers_healthy(now: datetime | None = None) -> bool:
    seen = worker_last_seen()
    return seen is not None and (now or timezone.now()) - seen < HEARTBEAT_STALE_AFTER
