"""Long work a worker carries out for a page (data imports and seeds, storage deletes,
copies and moves): one abstract model and one lifecycle, so every kind claims, beats,
is reaped and retried the same way (console.heartbeat beats and reaps).

A task row is PENDING until a worker claims it with one conditional UPDATE (a message
delivered twice runs it once), RUNNING while the worker beats, then SUCCEEDED or FAILED;
a FAILED row another attempt may get past (`retryable`) can be queued again, and goes
on after `resume_at`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from console.heartbeat import reap, requeue_lost, stopped_worker_message


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


def claim[T: ProgressTask](model: type[T], pk: int, **match: object) -> T | None:
    """The task, now RUNNING and counting one more attempt, if this caller claimed it
    (it was PENDING and matched); None when another worker has it or it is gone."""
    now = timezone.now()
    claimed = model._default_manager.filter(pk=pk, status=ProgressTask.Status.PENDING, **match).update(
        status=ProgressTask.Status.RUNNING, heartbeat_at=now
    )
    if not claimed:
        return None
    task = model._default_manager.select_related("branch__app").get(pk=pk)
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


def reap_stalled[T: ProgressTask](model: type[T], *, progress: Callable[[T], str], resend: Callable[[int], object]) -> list[int]:
    """Fail the RUNNING tasks whose worker stopped, saying how far they got (`progress`:
    "412 of 1,000 rows written"), and queue again the PENDING ones whose message was
    lost (`resend(pk)`). Returns the failed tasks' pks."""

    def failed(task: T) -> dict[str, Any]:
        status = ProgressTask.Status.FAILED
        return {
            "status": status,
            "retryable": True,
            "finished_at": timezone.now(),
            "error": stopped_worker_message(progress(task)),
        }

    reaped = reap(model, running=ProgressTask.Status.RUNNING, failed_fields=failed)
    requeue_lost(model, waiting=ProgressTask.Status.PENDING, send=resend)
    return reaped
