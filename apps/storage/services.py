"""Writes to a branch's buckets, each audited with the bucket, the keys or folder and the counts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from apps.branches.models import Branch
from apps.storage import keys, operations, s3
from apps.storage.buckets import Bucket, branch_buckets, bucket_name_problem, region_problem
from apps.storage.demo import seed_demo_files as seed_demo_files
from apps.storage.models import ExtraBucket, PendingUpload, StorageTask
from console.audit import audit_record
from console.aws_errors import AwsAccessDenied, AwsError, AwsNotFound
from console.progress import requeue_failed
from console.queue import send_on_commit

logger = logging.getLogger(__name__)

AUDITED_NAMES = 50  # keys listed in one audit event; the counts are always whole


class StorageInvalid(ValueError):
    """The request cannot be carried out; the message says why, for a person."""


def _audit(
    *,
    actor: Any,
    action: str,
    bucket: Bucket | str,
    where: str,
    detail: dict[str, Any],
    outcome: str = "success",
    message: str = "",
) -> None:
    name = bucket if isinstance(bucket, str) else bucket.name
    audit_record(
        actor=actor,
        action=action,
        target_type="storage",
        target=f"{name}/{where}",
        outcome=outcome,
        message=message,
        detail={"bucket": name, **detail},
    )


def _names(items: list[str] | tuple[str, ...]) -> list[str]:
    return [keys.plain_name(k) for k in items[:AUDITED_NAMES]]


# Buckets


def bucket_add(*, actor: Any, branch: Branch, name: str, region: str) -> ExtraBucket:
    name, region = name.strip(), region.strip()
    problem = bucket_name_problem(name) or region_problem(region)
    if problem:
        raise StorageInvalid(problem)
    # A bucket the outputs name but the branch's stack does not own may still be added on purpose.
    if any(b.name == name and not b.refused for b in branch_buckets(branch)):
        raise StorageInvalid(f"{name} is already one of this branch's buckets.")
    try:
        region = s3.bucket_region(name, region)
    except AwsNotFound:
        raise StorageInvalid(f"There is no bucket named {name} (HeadBucket in {region} found none).") from None
    except AwsAccessDenied:
        raise StorageInvalid(f"The console may not read the bucket {name}: grant it s3:ListBucket on that bucket.") from None
    extra = ExtraBucket.objects.create(branch=branch, name=name, region=region, added_by=actor if _person(actor) else None)
    _audit(
        actor=actor,
        action="storage.bucket_add",
        bucket=name,
        where="",
        detail={"region": region, "branch": f"{branch.app.app_id}/{branch.name}"},
    )
    return extra


def bucket_remove(*, actor: Any, extra: ExtraBucket) -> None:
    """Take an added bucket off the branch's list (the bucket itself is untouched)."""
    branch = extra.branch
    extra.delete()
    _audit(
        actor=actor,
        action="storage.bucket_remove",
        bucket=extra.name,
        where="",
        detail={"branch": f"{branch.app.app_id}/{branch.name}"},
    )


def _person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


# Folders and uploads


def folder_create(*, actor: Any, bucket: Bucket, parent: str, name: str) -> str:
    """Create `parent` + `name` + "/" (a zero-byte marker); its key."""
    name = name.strip()
    problem = ("The parent is not a folder." if not keys.is_folder_prefix(parent) else "") or keys.folder_name_problem(name)
    key = parent + name + "/"
    problem = problem or keys.key_problem(key)
    if problem:
        raise StorageInvalid(problem)
    if s3.head(bucket.name, bucket.region, key) is not None:
        raise StorageInvalid(f"The folder {keys.plain_name(name)} already exists here.")
    s3.put_folder(bucket.name, bucket.region, key)
    _audit(
        actor=actor,
        action="storage.folder_create",
        bucket=bucket,
        where=key,
        detail={"folder": keys.plain_name(key)},
    )
    return key


def upload_put(
    *,
    actor: Any,
    bucket: Bucket,
    key: str,
    body: IO[bytes],
    length: int,
    content_type: str,
    overwrote: bool,
) -> None:
    s3.put(bucket.name, bucket.region, key, body, length, content_type)
    _audit(
        actor=actor,
        action="storage.upload",
        bucket=bucket,
        where=key,
        detail={"file": keys.plain_name(key), "bytes": length, "parts": 1, "overwrote": overwrote},
    )


def upload_start(*, bucket: Bucket, key: str, content_type: str) -> str:
    """Start a multipart upload and remember it until it completes or is aborted; its id."""
    upload_id = s3.multipart_start(bucket.name, bucket.region, key, content_type)
    PendingUpload.objects.create(bucket=bucket.name, region=bucket.region, key=key, upload_id=upload_id)
    return upload_id


def upload_complete(
    *,
    actor: Any,
    bucket: Bucket,
    key: str,
    upload_id: str,
    size: int,
    parts: list[tuple[int, str]],
    overwrote: bool,
) -> None:
    s3.multipart_complete(bucket.name, bucket.region, key, upload_id, parts)
    PendingUpload.objects.filter(upload_id=upload_id).delete()
    _audit(
        actor=actor,
        action="storage.upload",
        bucket=bucket,
        where=key,
        detail={"file": keys.plain_name(key), "bytes": size, "parts": len(parts), "overwrote": overwrote},
    )


def upload_abort(*, actor: Any, bucket: Bucket, key: str, upload_id: str) -> None:
    s3.multipart_abort(bucket.name, bucket.region, key, upload_id)
    PendingUpload.objects.filter(upload_id=upload_id).delete()
    _audit(
        actor=actor,
        action="storage.upload_abort",
        bucket=bucket,
        where=key,
        detail={"file": keys.plain_name(key)},
    )


# Delete, copy, move


def uploads_abort_stale() -> int:
    """Abort the console's multipart uploads left unfinished for over STALE_UPLOAD_HOURS."""
    started_before = timezone.now() - timedelta(hours=settings.STALE_UPLOAD_HOURS)
    aborted = 0
    for pending in PendingUpload.objects.filter(started_at__lt=started_before):
        try:
            s3.multipart_abort(pending.bucket, pending.region, pending.key, pending.upload_id)
        except AwsError as error:  # kept for the next round; one bucket must not stop the others
            logger.warning("stale upload %s of %s not aborted: %s", pending.upload_id, pending.bucket, error)
            continue
        pending.delete()
        aborted += 1
    if aborted:
        audit_record(
            actor=None,
            action="storage.upload_abort",
            target_type="storage",
            target="stale uploads",
            message=f"aborted {aborted} upload(s) left unfinished for over {settings.STALE_UPLOAD_HOURS} h",
        )
    return aborted


def _selection_detail(selection: operations.Selection) -> dict[str, Any]:
    return {
        "files": _names(selection.files),
        "folders": _names(selection.folders),
        "file_count": len(selection.files),
        "folder_count": len(selection.folders),
    }


def _outcome_detail(outcome: operations.Outcome) -> dict[str, Any]:
    return {"objects": outcome.done, "failed": outcome.failed, "failures": [keys.plain_name(k) for k, _ in outcome.failures[:20]]}


def selection_delete(*, actor: Any, bucket: Bucket, where: str, selection: operations.Selection) -> operations.Outcome:
    outcome = operations.delete(bucket, selection)
    _audit(
        actor=actor,
        action="storage.delete",
        bucket=bucket,
        where=where,
        outcome="failure" if outcome.failed else "success",
        detail={**_selection_detail(selection), **_outcome_detail(outcome)},
    )
    return outcome


def selection_transfer(
    *,
    actor: Any,
    bucket: Bucket,
    where: str,
    selection: operations.Selection,
    destination: str,
    move: bool,
) -> operations.Outcome:
    try:
        operations.check_transfer(selection, destination)
    except (operations.TransferInvalid, operations.SelectionInvalid) as invalid:
        raise StorageInvalid(str(invalid)) from None
    outcome = (operations.move if move else operations.copy)(bucket, selection, destination)
    _audit(
        actor=actor,
        action="storage.move" if move else "storage.copy",
        bucket=bucket,
        where=where,
        outcome="failure" if outcome.failed else "success",
        detail={
            **_selection_detail(selection),
            "destination": keys.plain_name(destination) if destination else "/",
            **_outcome_detail(outcome),
        },
    )
    return outcome


def task_queue(
    *,
    actor: Any,
    branch: Branch,
    bucket: Bucket,
    kind: str,
    selection: operations.Selection,
    destination: str = "",
    total: int,
) -> StorageTask:
    """A delete, copy or move for a worker (many objects); it is audited when it ends."""
    if kind != StorageTask.Kind.DELETE:
        try:
            operations.check_transfer(selection, destination)
        except (operations.TransferInvalid, operations.SelectionInvalid) as invalid:
            raise StorageInvalid(str(invalid)) from None
    task = StorageTask.objects.create(
        branch=branch,
        bucket=bucket.name,
        region=bucket.region,
        kind=kind,
        total=total,
        payload={**selection.as_json(), "dest": destination},
        created_by=actor if _person(actor) else None,
    )
    where = selection.folders[0] if selection.folders else ""
    _audit(
        actor=actor,
        action=f"storage.{kind.lower()}_queued",
        bucket=bucket,
        where=where,
        detail={**_selection_detail(selection), "task": task.pk, "objects": total},
    )
    send_on_commit("apps.storage.tasks.run_storage_task", task.pk)
    return task


def task_retry(*, actor: Any, task: StorageTask) -> bool:
    """Queue a failed task again; it continues after what was done. False when it cannot be retried."""
    if not requeue_failed(StorageTask, task.pk):
        return False
    send_on_commit("apps.storage.tasks.run_storage_task", task.pk)
    audit_record(
        actor=actor,
        action="storage.retry",
        target_type="storage",
        target=task.bucket,
        detail={"bucket": task.bucket, "task": task.pk, "kind": task.kind, "resume_at": task.resume_at},
    )
    return True
