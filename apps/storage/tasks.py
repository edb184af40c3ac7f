"""Deletes, copies and moves of many objects, run by a worker from a StorageTask.

The task takes the row's id and claims it (PENDING to RUNNING in one conditional
UPDATE), so a redelivered message does nothing; counts move as batches finish.

A running task beats (console.heartbeat); one whose worker died is failed by the reaper
with how far it got, and Retry continues: a delete or a move finds what is left (what
it did is gone from the source; selected files already handled are skipped), a copy
skips the objects of finished batches. The batch in flight when the worker died is
done again over itself (same keys, same content), never twice.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from apps.storage import keys, operations
from apps.storage.buckets import Bucket
from apps.storage.models import StorageTask
from console.aws_errors import AwsError
from console.heartbeat import beating
from console.progress import AuditOf, attempt, claim, finish, reap_stalled
from console.queue import send

logger = logging.getLogger(__name__)
S = StorageTask.Status


@shared_task(
    name="apps.storage.tasks.run_storage_task", acks_late=True, ignore_result=True, soft_time_limit=3500, time_limit=3600
)
def run_storage_task(task_pk: int) -> None:
    task = claim(StorageTask, task_pk)
    if task is not None:
        with beating(StorageTask, task_pk):
            carry_out(task)


@shared_task(name="apps.storage.tasks.reap_stalled_tasks", ignore_result=True)
def reap_stalled_tasks() -> list[int]:
    """Fail the running tasks whose worker stopped, saying how far they got (the pks), and
    queue again the waiting ones whose message was lost."""

    def progress(task: StorageTask) -> str:
        return f"{task.done:,} of {task.total:,} objects {_PAST[task.kind]}"

    return reap_stalled(StorageTask, progress=progress, resend=lambda pk: send(run_storage_task, pk))


_PAST: dict[str, str] = {StorageTask.Kind.DELETE: "deleted", StorageTask.Kind.COPY: "copied", StorageTask.Kind.MOVE: "moved"}


def _selection(payload: dict[str, Any]) -> operations.Selection:
    files, folders = payload.get("files") or [], payload.get("folders") or []
    return operations.Selection(files=tuple(str(k) for k in files), folders=tuple(str(f) for f in folders))


def carry_out(task: StorageTask) -> None:
    bucket = Bucket(name=task.bucket, region=task.region, label=task.bucket, source="task")
    selection, destination = _selection(task.payload), str(task.payload.get("dest") or "")
    # What earlier attempts did: this one counts on from there.
    done_before, failed_before, handled_before = task.done, task.failed, task.resume_at
    failures_before = [tuple(f) for f in (task.report or {}).get("failures", [])]
    if task.kind != StorageTask.Kind.COPY and handled_before:
        # Deleted and moved objects are gone from the source; selected files come first.
        handled_files = min(handled_before, len(selection.files))
        selection = operations.Selection(files=selection.files[handled_files:], folders=selection.folders)

    def so_far(outcome: operations.Outcome) -> dict[str, Any]:
        failures = (failures_before + outcome.failures)[: operations.KEPT_FAILURES]
        return {
            "done": done_before + outcome.done,
            "failed": failed_before + outcome.failed,
            "report": {"failures": [list(f) for f in failures]},
        }

    def progress(outcome: operations.Outcome) -> None:
        handled = handled_before + outcome.done + outcome.failed
        StorageTask.objects.filter(pk=task.pk).update(resume_at=handled, **so_far(outcome))

    def work() -> operations.Outcome:
        if task.kind == StorageTask.Kind.DELETE:
            return operations.delete(bucket, selection, progress)
        if task.kind == StorageTask.Kind.MOVE:
            return operations.move(bucket, selection, destination, progress)
        return operations.copy(bucket, selection, destination, progress, skip=handled_before)

    audit = AuditOf(
        actor=task.created_by,
        action=f"storage.{task.kind.lower()}",
        target_type="storage",
        target=f"{task.bucket}/{selection.folders[0] if selection.folders else ''}",
        detail={"bucket": task.bucket, "task": task.pk},
    )
    expected = (AwsError, operations.SelectionInvalid, operations.TransferInvalid)
    done = attempt(task, work, expected=expected, end=lambda **state: _finish(task, **state), audit=audit)
    if done is None:
        return
    totals = so_far(done)
    outcome = operations.Outcome(
        done=totals["done"], failed=totals["failed"], failures=[tuple(f) for f in totals["report"]["failures"]]
    )
    failed = bool(outcome.failed)
    _finish(
        task,
        status=S.FAILED if failed else S.SUCCEEDED,
        outcome=outcome,
        error=f"{outcome.failed:,} objects failed; they are listed below." if failed else "",
    )
    audit.record(
        failure=f"{outcome.failed:,} objects failed" if failed else "",
        **{
            "objects": outcome.done,
            "failed": outcome.failed,
            "folders": [keys.plain_name(f) for f in selection.folders[:50]],
            "file_count": len(selection.files),
            "destination": keys.plain_name(destination) if destination else "/",
        },
    )


def _finish(
    task: StorageTask, *, status: str, error: str, outcome: operations.Outcome | None = None, retryable: bool = False
) -> None:
    fields: dict[str, Any] = {}
    if outcome is not None:
        fields |= {"done": outcome.done, "failed": outcome.failed, "report": outcome.as_json()}
    finish(StorageTask, task.pk, status=status, error=error, retryable=retryable, **fields)


@shared_task(name="apps.storage.tasks.abort_stale_uploads", ignore_result=True)
def abort_stale_uploads() -> int:
    from apps.storage.services import uploads_abort_stale

    return uploads_abort_stale()
