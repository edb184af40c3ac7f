"""A job's log: masked, line-buffered, written to the database in chunks.

Web and workers may run on different machines, so the log lives in the
database (LogChunk rows), never only on the worker's disk. Lines are masked
before they are stored: a secret value never reaches a row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.db import transaction
from django.db.models import F

from apps.builds.models import Job, LogChunk
from console.db_outage import DATABASE_AWAY, forget_connection

MASK = "********"
# Stored logs stop growing past this; the build itself goes on.
MAX_LOG_BYTES = 10 * 1024 * 1024
MIN_SECRET_LENGTH = 4


def stored_log(job: Job, *, from_seq: int | None = None, before_seq: int | None = None) -> Iterator[bytes]:
    """The job's stored log (masked when written), chunk by chunk for streaming; a part of
    it when given the chunk numbers it runs from and stops before."""
    chunks = LogChunk.objects.filter(job=job)
    if from_seq is not None:
        chunks = chunks.filter(seq__gte=from_seq)
    if before_seq is not None:
        chunks = chunks.filter(seq__lt=before_seq)
    texts = chunks.order_by("seq").values_list("text", flat=True).iterator()
    return (text.encode() for text in texts)


class Masker:
    def __init__(self, secrets: list[str]) -> None:
        values: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                values.add(secret)
                # A multi-line secret printed line by line is masked line by line.
                values.update(line for line in secret.splitlines() if len(line) >= MIN_SECRET_LENGTH)
        # Longest first, so a secret containing another is masked whole.
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text


class JobLog:
    """Collects output and flushes complete lines at most every `interval` seconds."""

    def __init__(self, job: Job, masker: Masker, interval: float = 0.5) -> None:
        self.job_pk = job.pk
        self.mask = masker
        self.interval = interval
        self._pending: list[str] = []
        self._partial = ""
        self._last_flush = time.monotonic()
        self._seq = (LogChunk.objects.filter(job_id=job.pk).order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
        self._size = job.log_size
        self._truncated = False

    def line(self, text: str) -> None:
        """A line of the console's own (not the build's output)."""
        self.write(text.rstrip("\n") + "\n")
        self.flush()

    def write(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        self._pending.extend(line + "\n" for line in lines)
        if time.monotonic() - self._last_flush >= self.interval:
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        if final and self._partial:
            self._pending.append(self._partial + "\n")
            self._partial = ""
        self._last_flush = time.monotonic()
        if not self._pending or self._truncated:
            self._pending.clear()
            return
        masked = self.mask("".join(self._pending))
        text, size, truncated = masked, len(masked.encode("utf-8")), False
        if self._size + size > MAX_LOG_BYTES:
            text = f"[log truncated: stored logs stop at {MAX_LOG_BYTES // (1024 * 1024)} MB; the build goes on]\n"
            size, truncated = len(text), True
        try:
            with transaction.atomic():  # the chunk and the size together, or neither
                LogChunk.objects.create(job_id=self.job_pk, seq=self._seq, text=text)
                Job.objects.filter(pk=self.job_pk).update(log_size=F("log_size") + size)
        except DATABASE_AWAY as error:
            # The database is restarting: keep the lines (masked already) for the next flush.
            forget_connection(error)
            self._pending = [masked]
            return
        self._pending.clear()
        self._truncated = truncated
        self._seq += 1
        self._size += size
