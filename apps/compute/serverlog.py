"""Servers' output, on its way to the branch page: masked, batched, trimmed.

The supervisor may run on another machine than the web page that shows the lines,
so they go to the database (ComputeLogLine), a batch every half second, and each
branch keeps its last COMPUTE_LOG_LINES."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, close_old_connections

from apps.branches.models import Branch
from apps.compute.models import ComputeDeployment, ComputeLogLine

logger = logging.getLogger(__name__)

MAX_LINE = 4000
FLUSH_SECONDS = 0.5
TRIM_EVERY = 50  # flushes between two trims


@dataclass(frozen=True)
class Line:
    branch_pk: int
    deployment_pk: int | None
    host: str
    time: datetime
    stream: str
    text: str


class LogSink:
    """Collects lines from any thread; a thread of its own writes them in batches."""

    def __init__(self) -> None:
        self._lines: queue.Queue[Line] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flushes = 0

    def put(self, line: Line) -> None:
        self._lines.put(replace(line, text=line.text[:MAX_LINE]))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="compute-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # the database may be away: the lines wait for the next flush
                logger.exception("Compute server output could not be written; retrying")
                close_old_connections()

    def flush(self) -> int:
        batch: list[Line] = []
        while True:
            try:
                batch.append(self._lines.get_nowait())
            except queue.Empty:
                break
        if not batch:
            return 0
        try:
            try:
                ComputeLogLine.objects.bulk_create(_rows(batch))
            except IntegrityError:
                # A deployment whose server failed to start is dropped by its build, and a
                # branch may be disconnected, while their lines wait here.
                ComputeLogLine.objects.bulk_create(_rows(_still_there(batch)))
        except Exception:
            for line in batch[-1000:]:  # keep the newest for the next try, never grow without bound
                self._lines.put(line)
            raise
        self._flushes += 1
        if self._flushes % TRIM_EVERY == 1:
            trim({line.branch_pk for line in batch})
        return len(batch)


def _rows(batch: list[Line]) -> list[ComputeLogLine]:
    return [
        ComputeLogLine(
            branch_id=line.branch_pk,
            deployment_id=line.deployment_pk,
            host=line.host,
            time=line.time,
            stream=line.stream,
            text=line.text,
        )
        for line in batch
    ]


def _still_there(batch: list[Line]) -> list[Line]:
    """The lines of branches that still exist, without the deployments that do not."""
    branches = set(Branch.objects.filter(pk__in={line.branch_pk for line in batch}).values_list("pk", flat=True))
    deployments = set(
        ComputeDeployment.objects.filter(pk__in={line.deployment_pk for line in batch}).values_list("pk", flat=True)
    )
    return [
        line if line.deployment_pk in deployments else replace(line, deployment_pk=None)
        for line in batch
        if line.branch_pk in branches
    ]


def trim(branch_pks: set[int]) -> None:
    """Keep each branch's last COMPUTE_LOG_LINES lines."""
    for branch_pk in branch_pks:
        lines = ComputeLogLine.objects.filter(branch_id=branch_pk).order_by("-id")
        cutoff = lines.values_list("id", flat=True)[settings.COMPUTE_LOG_LINES : settings.COMPUTE_LOG_LINES + 1]
        if cutoff:
            ComputeLogLine.objects.filter(branch_id=branch_pk, id__lte=cutoff[0]).delete()
