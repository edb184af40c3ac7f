"""Cross-cutting periodic tasks."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "console:worker-heartbeat"


@shared_task(name="console.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> str:
    """Beat sends this every 30 s; the dashboard shows when a worker last ran it."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
