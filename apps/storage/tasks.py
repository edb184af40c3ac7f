"""Deletes, copies and moves of many objects, run by a worker from a StorageTask.

The task takes the row's id and claims it (PENDING to RUNNING in one conditional
UPDATE), so a redelivered message does nothing; counts move as batches finish.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from apps.storage import keys, operations
from apps.storage.buckets import Bucket
from apps.storage.models import StorageTask
from console.audit import audit_record
from console.aws_errors import AwsError

logger = logging.getLogger(__name__)
S = StorageTask.Status


@shared_task(
    name="apps.storage.tasks.run_storage_task", acks_late=True, ignore_result=True, soft_time_limit=3500, time_limit=3600
)
def run_storage_task(task_pk: int) -> None:
    claimed = StorageTask.objects.filter(pk=task_pk, status=S.PENDING).update(status=S.RUNNING)
    if claimed:
        carry_out(StorageTask.objects.select_related("branch__app").get(pk=task_pk))


def _selection(payload: dict[str, Any]) -> operations.Selection:
    files, folders = payload.get("files") or [], payload.get("folders") or []
    return operations.Selection(files=tuple(str(k) for k in files), folders=tuple(str(f) for f in folders))


def carry_out(task: StorageTask) -> None:
    bucket = Bucket(name=task.bucket, region=task.region, label=task.bucket, source="task")
    selection, destination = _selection(task.payload), str(task.payload.get("dest") or "")

    def progress(outcome: operations.Outcome) -> None:
        StorageTask.objects.filter(pk=task.pk).update(done=outcome.done, failed=outcome.failed)

    action = f"storage.{task.kind.lower()}"
    target = f"{task.bucket}/{selection.folders[0] if selection.folders else ''}"
    try:
        if task.kind == StorageTask.Kind.DELETE:
            outcome = operations.delete(bucket, selection, progress)
        else:
            move = task.kind == StorageTask.Kind.MOVE
            outcome = (operations.move if move else operations.copy)(bucket, selection, destination, progress)
    except (AwsError, operations.SelectionInvalid, operations.TransferInvalid) as failure:
        _finish(task, status=S.FAILED, error=str(failure))
        audit_record(actor=task.created_by, action=action, target_type="storage", target=target, outcome="failure",
                     message=str(failure)[:500], detail={"bucket": task.bucket, "task": task.pk})  # fmt: skip
        return
    except Exception:
        # Never leave the task RUNNING for ever (a soft time limit lands here too).
        logger.exception("storage task %s failed", task.pk)
        _finish(task, status=S.FAILED, error="The task stopped on an unexpected error; see the worker log.")
        raise
    failed = bool(outcome.failed)
    _finish(task, status=S.FAILED if failed else S.SUCCEEDED, outcome=outcome,
            error=f"{outcome.failed:,} objects failed; they are listed below." if failed else "")  # fmt: skip
    audit_record(
        actor=task.created_by, action=action, target_type="storage", target=target, outcome="failure" if failed else "success",
        detail={"bucket": task.bucket, "task": task.pk, "objects": outcome.done, "failed": outcome.failed,
                "folders": [keys.plain_name(f) for f in selection.folders[:50]], "file_count": len(selection.files),
                "destination": keys.plain_name(destination) if destination else "/"},
    )  # fmt: skip


def _finish(task: StorageTask, *, status: str, error: str, outcome: operations.Outcome | None = None) -> None:
    fields: dict[str, Any] = {"status": status, "error": error[:2000], "finished_at": timezone.now()}
    if outcome is not None:
        fields |= {"done": outcome.done, "failed": outcome.failed, "report": outcome.as_json()}
    StorageTask.objects.filter(pk=task.pk).update(**fields)


@shared_task(name="apps.storage.tasks.abort_stale_uploads", ignore_result=True)
def abort_stale_uploads() -> int:
    from apps.storage.services import uploads_abort_stale

    return uploads_abort_stale()
