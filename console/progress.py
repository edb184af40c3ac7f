"""Long work a worker carries out for a page (data imports and seeds, storage deletes,
copies and moves, teardowns of previews): one abstract model and one lifecycle, so every
kind claims, beats, fails, is reaped and retried the same way (console.heartbeat beats
and reaps), and one progress fragment (templates/console/progress.html) shows it.

A task row is PENDING until a worker claims it with one conditional UPDATE (a message
delivered twice runs it once), RUNNING while the worker beats, then SUCCEEDED or FAILED;
a FAILED row another attempt may get past (`retryable`) can be queued again, and goes
on after `resume_at`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from console.audit import audit_record
from console.aws_errors import AwsError
from console.heartbeat import RETRY_CONTINUES, reap, requeue_lost, stopped_worker_message

logger = logging.getLogger(__name__)

UNEXPECTED_ERROR = "The task stopped on an unexpected error; see the worker log."


class ProgressTask(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Waiting"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Done"
        FAILED = "FAILED", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The task's input (a selection, a CSV and its mapping, a seed's count and constraints).
    payload = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=2000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stamped while a worker runs it (console.heartbeat); the reaper fails it when it stops.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # What finished batches handled: a Retry goes on after it.
    resume_at = models.PositiveIntegerField(default=0)
    # Failed in a way another attempt may get past (its worker died, AWS refused), with its input kept.
    retryable = models.BooleanField(default=False)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED and self.retryable

    @property
    def active(self) -> bool:
        """Waiting or running: its page polls for progress."""
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    # What the progress fragment (templates/console/progress.html) says; kinds say it in their words.
    @property
    def percent(self) -> int:
        return min(100, int(100 * self.done / self.total)) if self.total else 0

    @property
    def progress_text(self) -> str:
        return f"{self.done} of {self.total} done"

    @property
    def retry_text(self) -> str:
        return "Continues from where it stopped."


def claim[T: ProgressTask](
    model: type[T], pk: int, *, related: Sequence[str] = ("branch__app",), fresh: dict[str, Any] | None = None, **match: object
) -> T | None:
    """The task, now RUNNING and counting one more attempt, if this caller claimed it
    (it was PENDING and matched); None when another worker has it or it is gone. `fresh`:
    fields an attempt starts anew (a teardown's steps); `related`: rows the work reads."""
    now = timezone.now()
    claimed = model._default_manager.filter(pk=pk, status=ProgressTask.Status.PENDING, **match).update(
        status=ProgressTask.Status.RUNNING, heartbeat_at=now, **(fresh or {})
    )
    if not claimed:
        return None
    task = model._default_manager.select_related(*related).get(pk=pk)
    task.attempts += 1
    model._default_manager.filter(pk=pk).update(attempts=task.attempts)
    return task


def requeue_failed(model: type[ProgressTask], pk: int) -> bool:
    """Put a retryable FAILED task back to PENDING (one conditional UPDATE); False when it
    is not failed, or may not be retried."""
    return bool(
        model._default_manager.filter(pk=pk, status=ProgressTask.Status.FAILED, retryable=True).update(
            status=ProgressTask.Status.PENDING, error="", finished_at=None, retryable=False, heartbeat_at=timezone.now()
        )
    )


def finish(model: type[ProgressTask], pk: int, *, status: str, error: str, retryable: bool = False, **fields: Any) -> None:
    """The task's final state, with its own counts and report in `fields`."""
    model._default_manager.filter(pk=pk).update(
        status=status, error=error[:2000], finished_at=timezone.now(), retryable=retryable, **fields
    )


def reap_stalled[T: ProgressTask](
    model: type[T], *, progress: Callable[[T], str], resend: Callable[[int], object], retry: str = RETRY_CONTINUES
) -> list[int]:
    """Fail the RUNNING tasks whose worker stopped, saying how far they got (`progress`:
    "412 of 1,000 rows written") and what Retry does (`retry`), and queue again the PENDING
    ones whose message was lost (`resend(pk)`). Returns the failed tasks' pks."""

    def failed(task: T) -> dict[str, Any]:
        status = ProgressTask.Status.FAILED
        message = stopped_worker_message(progress(task), retry)
        return {"status": status, "retryable": True, "finished_at": timezone.now(), "error": message}

    reaped = reap(model, running=ProgressTask.Status.RUNNING, failed_fields=failed)
    requeue_lost(model, waiting=ProgressTask.Status.PENDING, send=resend)
    return reaped


def hand_on_stalled(model: type[ProgressTask], *, cutoff: datetime, resend: Callable[[int], object]) -> list[int]:
    """For work that goes on without its worker (CloudFormation deleting a stack): the
    RUNNING tasks whose worker stopped beating before `cutoff`, and the PENDING ones quiet
    since then (their message was lost), go back to PENDING and are queued again
    (`resend(pk)`). Returns their pks."""
    stalled = (ProgressTask.Status.PENDING, ProgressTask.Status.RUNNING)
    handed = requeue_lost(model, waiting=stalled, send=resend, cutoff=cutoff, status=ProgressTask.Status.PENDING)
    return sorted(handed)


@dataclass(frozen=True)
class AuditOf:
    """How a task's end is audited: what was done, to what, and what to say of the task."""

    actor: Any
    action: str
    target_type: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)

    def record(self, *, failure: str = "", **detail: Any) -> None:
        outcome = "failure" if failure else "success"
        audit_record(
            actor=self.actor,
            action=self.action,
            target_type=self.target_type,
            target=self.target,
            outcome=outcome,
            message=failure[:500],
            detail={**self.detail, **detail},
        )


def attempt[R](
    task: ProgressTask,
    work: Callable[[], R],
    *,
    expected: tuple[type[Exception], ...],
    end: Callable[..., None],
    audit: AuditOf,
    retryable: bool | None = None,
) -> R | None:
    """Carry out a task's work. An expected failure (bad input, a refusal from AWS) ends
    the task FAILED with its message and an audit event, and gives None; it may be retried
    when AWS may answer differently next time (AwsError). Anything else ends it FAILED and
    retryable (a task is never left RUNNING, a soft time limit lands here too) and goes on
    up. `retryable`, when given, decides for every failure of this kind instead.
    `end(status=, error=, retryable=)` writes the final state."""
    try:
        return work()
    except expected as failure:
        may_retry = isinstance(failure, AwsError) if retryable is None else retryable
        end(status=ProgressTask.Status.FAILED, error=str(failure), retryable=may_retry)
        audit.record(failure=str(failure))
        return None
    except Exception:
        logger.exception("%s %s failed", type(task).__name__, task.pk)
        end(status=ProgressTask.Status.FAILED, error=UNEXPECTED_ERROR, retryable=True if retryable is None else retryable)
        raise
