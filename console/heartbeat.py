"""Heartbeats of long tasks, and the reaper that fails the tasks whose worker died.

A worker killed mid-task (out of memory, a redeploy, a lost machine) cannot say so:
its task stays RUNNING. While a task runs, a thread of its worker stamps the row's
`heartbeat_at` every TASK_HEARTBEAT_INTERVAL_SECONDS; the thread dies with the process,
so a row whose stamp is older than TASK_HEARTBEAT_TIMEOUT_SECONDS has no worker left.
A thread rather than the task's own progress calls: one slow S3 copy or DynamoDB batch
must not look like a dead worker.

Apps keep their own models and messages; this module knows only "a model with a
status and a heartbeat_at".
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def _stamp(model: type[models.Model], pk: int) -> None:
    model._default_manager.filter(pk=pk).update(heartbeat_at=timezone.now())


@contextlib.contextmanager
def beating(model: type[models.Model], pk: int, *, interval: float | None = None) -> Iterator[None]:
    """Stamp the row now, then every `interval` seconds until the block ends."""
    every = settings.TASK_HEARTBEAT_INTERVAL_SECONDS if interval is None else interval
    _stamp(model, pk)
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    _stamp(model, pk)
                except Exception:
                    # The database may be restarting: the next beat tries again, and the
                    # timeout is several beats long.
                    logger.warning("heartbeat of %s %s not written", model.__name__, pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)


def stalled_before(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.TASK_HEARTBEAT_TIMEOUT_SECONDS)


def reap(
    model: type[models.Model],
    *,
    running: str,
    failed_fields: Callable[[Any], dict[str, Any]],
    now: datetime | None = None,
) -> list[int]:
    """Fail every row in `running` status whose heartbeat stopped; `failed_fields(row)` gives
    what to write (status, the reason with what was done). Each row is failed by one
    conditional update, so a task that beats again meanwhile is left alone. Returns the pks."""
    cutoff = stalled_before(now)
    reaped = []
    for row in model._default_manager.filter(status=running, heartbeat_at__lt=cutoff):
        fields = failed_fields(row)
        if model._default_manager.filter(pk=row.pk, status=running, heartbeat_at__lt=cutoff).update(**fields):
            reaped.append(row.pk)
            logger.warning("%s %s failed: its worker stopped beating", model.__name__, row.pk)
    return reaped


def requeue_lost(
    model: type[models.Model],
    *,
    waiting: str | tuple[str, ...],
    send: Callable[[int], object],
    now: datetime | None = None,
    cutoff: datetime | None = None,
    **reset: object,
) -> list[int]:
    """Queue again the rows `waiting` (a status or several) and quiet since `cutoff` (by
    default the heartbeat timeout): their message was lost (a broker restarted without
    persistence, or it was down when they were queued), or their worker stopped. Each is
    stamped (and given `reset`) so it is queued again at most once per timeout; a
    duplicate message finds nothing to claim. Returns the pks."""
    cutoff = cutoff or stalled_before(now)
    statuses = (waiting,) if isinstance(waiting, str) else waiting
    quiet = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    requeued = []
    for pk in model._default_manager.filter(quiet, status__in=statuses).values_list("pk", flat=True):
        stamp = {"heartbeat_at": now or timezone.now(), **reset}
        if model._default_manager.filter(quiet, pk=pk, status__in=statuses).update(**stamp):
            send(pk)
            requeued.append(pk)
    return requeued


RETRY_CONTINUES = "Retry continues from there without writing anything twice."


def stopped_worker_message(done: str, retry: str = RETRY_CONTINUES) -> str:
    """What a reaped task says: why it stopped, how far it got, what Retry does."""
    silence = settings.TASK_HEARTBEAT_TIMEOUT_SECONDS
    return f"The worker running this task stopped (no heartbeat for {silence} s) after {done}. {retry}"
