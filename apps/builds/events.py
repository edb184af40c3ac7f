"""Extension point for what happens when a build starts and ends (apps.notifications).

Builds import none of their listeners: an app that wants to hear of jobs registers a
listener when Django starts. Listeners run inside the transaction that changed the job's
status, each in a savepoint of its own, so what they write commits with the change and a
listener that fails neither undoes it nor stops the others (it is logged)."""

from __future__ import annotations

import enum
import logging
from typing import Protocol

from django.db import transaction

logger = logging.getLogger(__name__)


class JobEvent(enum.StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobListener(Protocol):
    def __call__(self, job_pk: int, event: JobEvent) -> None:
        """Hear that the job `job_pk` started or ended; queue work with send_on_commit."""


_listeners: list[JobListener] = []


def register_job_listener(listener: JobListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def job_event(job_pk: int, event: JobEvent) -> None:
    for listener in _listeners:
        try:
            with transaction.atomic():
                listener(job_pk, event)
        except Exception:  # a listener's failure must never fail the build
            logger.exception("job listener %r failed on %s of job %s", listener, event, job_pk)
