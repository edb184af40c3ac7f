"""Deleting sandboxes: requested on the page, the CLI or by the retention policy,
carried out by a Celery task that follows the stack to DELETE_COMPLETE or
DELETE_FAILED (with CloudFormation's reason), then optionally deletes its secrets.
Each is a SandboxDeletion, a progress task (console.progress)."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.sandboxes import cloudformation
from apps.sandboxes.inventory import secret_prefix
from apps.sandboxes.models import Sandbox, SandboxDeletion
from apps.secrets.services import sandbox_secrets_delete
from console.audit import audit_record
from console.aws_errors import AwsError, AwsNotFound
from console.cloudformation import delete_stack, stack_failure_reason
from console.heartbeat import beating
from console.progress import AuditOf, attempt, claim, finish
from console.queue import send_on_commit

S = SandboxDeletion.Status


class DeletionFailed(Exception):
    pass


def request_deletion(
    *,
    actor: Any,
    sandboxes: Iterable[Sandbox],
    with_secrets: bool,
    reason: str = "",
    queue: bool = True,
) -> list[Sandbox]:
    """Mark each sandbox for deletion and (unless the caller runs it itself, as the
    CLI does) queue the task; one already being deleted is left alone. Returns the
    sandboxes marked."""
    queued = []
    now = timezone.now()
    person = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    asked = {
        "status": S.PENDING,
        "with_secrets": with_secrets,
        "created_by": person,
        "requested_by_name": person.get_username() if person else (reason or "system"),
    }
    for sandbox in sandboxes:
        deletion, created = SandboxDeletion.objects.get_or_create(sandbox=sandbox, defaults=asked)
        # Asked again after it ended: it starts anew, unless another request got there first.
        claimed = created or SandboxDeletion.objects.filter(pk=deletion.pk).exclude(status__in=SandboxDeletion.ACTIVE).update(
            **asked, error="", created_at=now, heartbeat_at=None, finished_at=None, attempts=0, report={}
        )
        if not claimed:
            continue
        audit_record(
            actor=actor,
            action="sandbox.delete",
            target_type="sandbox",
            target=f"{sandbox.region}/{sandbox.stack_name}",
            # Not "with_secrets": the audit trail redacts any key that mentions secrets.
            message=reason,
            detail={"deletes_ssm_parameters": with_secrets, "stack_id": sandbox.stack_id},
        )
        queued.append(sandbox)
        if queue:
            send_on_commit("apps.sandboxes.tasks.delete_sandbox", sandbox.pk)
    return queued


def run_deletion(sandbox_pk: int, *, sleep: Callable[[float], None] = time.sleep) -> Sandbox | None:
    """Carry out a requested deletion; a redelivered task finds nothing to claim. The
    sandbox as it ends (its `deletion` says how), or None when nothing was claimed."""
    deletion_pk = SandboxDeletion.objects.filter(sandbox_id=sandbox_pk).values_list("pk", flat=True).first()
    deletion = claim(SandboxDeletion, deletion_pk, related=("sandbox", "created_by")) if deletion_pk else None
    if deletion is None:
        return None
    sandbox = deletion.sandbox
    audit = AuditOf(actor=None, action="sandbox.deleted", target_type="sandbox", target=f"{sandbox.region}/{sandbox.stack_name}")
    with beating(SandboxDeletion, deletion.pk):
        deleted_secrets = attempt(
            deletion,
            lambda: _carry_out(deletion, sleep),
            expected=(DeletionFailed, AwsError),
            end=functools.partial(finish, SandboxDeletion, deletion.pk),
            audit=dataclasses.replace(audit, action="sandbox.delete_failed"),
            retryable=False,  # asking again is the way on after a failure (the page offers Delete)
        )
    if deleted_secrets is not None:
        Sandbox.objects.filter(pk=sandbox_pk).update(secret_count=0)
        finish(SandboxDeletion, deletion.pk, status=S.SUCCEEDED, error="", report={"ssm_parameters_deleted": deleted_secrets})
        audit.record(ssm_parameters_deleted=deleted_secrets)
    return Sandbox.objects.select_related("deletion").get(pk=sandbox_pk)


def _carry_out(deletion: SandboxDeletion, sleep: Callable[[float], None]) -> list[str]:
    """Delete the stack, then (if asked) its secrets; the names of the secrets deleted."""
    sandbox = deletion.sandbox
    _delete_stack(sandbox, sleep)
    # The stack is gone, whatever happens to its secrets next (the first deletion time stays).
    gone = Sandbox.objects.filter(pk=sandbox.pk)
    gone.update(
        status=Sandbox.Status.DELETED,
        stack_status="DELETE_COMPLETE",
        status_reason="",
        deleted_at=Coalesce("deleted_at", Value(timezone.now())),
        resource_count=0,
    )
    if sandbox.status != Sandbox.Status.DELETED:  # this deletion removed it: credit the requester
        gone.update(deleted_by=deletion.created_by, deleted_by_name=deletion.requested_by_name)
    if not deletion.with_secrets:
        return []
    prefix = secret_prefix(sandbox.namespace, sandbox.identifier, sandbox.backend_hash)
    return sandbox_secrets_delete(sandbox.region, prefix)


def _delete_stack(sandbox: Sandbox, sleep: Callable[[float], None]) -> None:
    if sandbox.status == Sandbox.Status.DELETED:
        return  # deleting what is already gone is harmless
    delete_stack(sandbox.stack_id, region=sandbox.region)
    deadline = time.monotonic() + settings.SANDBOX_DELETE_WAIT_SECONDS
    while True:
        try:
            stack = cloudformation.describe_sandbox(sandbox.region, sandbox.stack_id)
        except AwsNotFound:
            stack = None
        if stack is None or stack.stack_status == "DELETE_COMPLETE":
            return
        # (The deletion's heartbeat is run_deletion's `beating`.)
        Sandbox.objects.filter(pk=sandbox.pk).update(
            status=stack.status, stack_status=stack.stack_status, status_reason=stack.status_reason
        )
        if stack.stack_status == "DELETE_FAILED":
            reason = stack.status_reason or stack_failure_reason(sandbox.stack_id, region=sandbox.region) or "no reason given"
            raise DeletionFailed(f"CloudFormation could not delete {sandbox.stack_name}: {reason}")
        if time.monotonic() > deadline:
            raise DeletionFailed(
                f"{sandbox.stack_name} is still {stack.stack_status} after {settings.SANDBOX_DELETE_WAIT_SECONDS} s; "
                "it may still finish: refresh later, or delete again."
            )
        sleep(settings.SANDBOX_DELETE_POLL_SECONDS)
