"""Cross-cutting periodic tasks, and the demo's data seed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

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


# The demo's builds take a minute or two on the emulator; a stuck one is given up after 30 minutes.
DEMO_DATA_POLL_SECONDS = 3
DEMO_DATA_MAX_POLLS = 600


@shared_task(
    name="console.tasks.seed_demo_data",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=DEMO_DATA_MAX_POLLS,
    time_limit=600,
)
def seed_demo_data(self: Any, branch_pk: int) -> None:
    """`make run`: seed the demo branch's tables once its build has deployed them.
    Idempotent: a model whose table holds records is left alone."""
    from console.demo import BuildPending, seed_demo_data_after_build

    try:
        seed_demo_data_after_build(branch_pk, say=logger.info)
    except BuildPending as pending:
        raise self.retry(exc=pending, countdown=DEMO_DATA_POLL_SECONDS) from None
