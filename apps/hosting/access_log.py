"""The access log of hosted requests, written without slowing them.

A request only appends a record to this process's buffer; a background thread
writes the buffer in one bulk INSERT every FLUSH_SECONDS (or as soon as it holds
FLUSH_RECORDS), and at exit. A crash loses at most the last few seconds of
records, never a response. The buffer is bounded: under a flood that the
database cannot keep up with, the oldest unwritten records are dropped (and
counted in the log) rather than memory growing without end.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, close_old_connections

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
FLUSH_RECORDS = 500
MAX_BUFFERED = 50_000


@dataclass(frozen=True)
class Hit:
    time: datetime
    app_id: int
    branch_id: int | None
    branch_name: str
    method: str
    host: str
    path: str
    status: int
    bytes_sent: int
    duration_ms: float
    client_ip: str | None
    user_agent: str


_buffer: deque[Hit] = deque(maxlen=MAX_BUFFERED)
_lock = threading.Lock()
_wake = threading.Event()
_thread: threading.Thread | None = None
_dropped = 0


def record(hit: Hit) -> None:
    """Queue one hit for the next batch (never blocks on the database)."""
    global _dropped
    with _lock:
        if len(_buffer) == MAX_BUFFERED:
            _dropped += 1
        _buffer.append(hit)
        size = len(_buffer)
    _ensure_thread()
    if size >= FLUSH_RECORDS:
        _wake.set()


def _take() -> list[Hit]:
    global _dropped
    with _lock:
        hits = list(_buffer)
        _buffer.clear()
        dropped, _dropped = _dropped, 0
    if dropped:
        logger.warning("Access log: %d records dropped (the database did not keep up)", dropped)
    return hits


def discard() -> None:
    """Drop what is buffered (tests: hits of earlier tests name rows that are gone)."""
    _take()


def flush() -> int:
    """Write what is buffered now; the number of records written."""
    from apps.hosting.models import AccessLogEntry

    hits = _take()
    if not hits:
        return 0
    rows = [
        AccessLogEntry(
            time=hit.time,
            app_id=hit.app_id,
            branch_id=hit.branch_id,
            branch_name=hit.branch_name[:255],
            method=hit.method[:8],
            host=hit.host[:255],
            path=hit.path[:2048],
            status=hit.status,
            bytes_sent=hit.bytes_sent,
            duration_ms=hit.duration_ms,
            client_ip=hit.client_ip,
            user_agent=hit.user_agent[:512],
        )
        for hit in hits
    ]
    try:
        AccessLogEntry.objects.bulk_create(rows, batch_size=1000)
    except DatabaseError:
        # The database is away: the records are lost, the site keeps serving.
        logger.exception("Access log: %d records could not be written", len(rows))
        return 0
    return len(rows)


def _run() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        close_old_connections()
        flush()


def _ensure_thread() -> None:
    global _thread
    if not settings.HOSTING_ACCESS_LOG_THREAD:
        return  # tests write the buffer themselves (flush), inside their own transaction
    if _thread is not None and _thread.is_alive():
        return
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="access-log-writer", daemon=True)
            _thread.start()
            atexit.register(flush)  # what the last interval buffered
