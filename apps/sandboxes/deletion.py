"""Deleting sandboxes: requested on the page, the CLI or by the retention policy,
carried out by a Celery task that follows the stack to DELETE_COMPLETE or
DELETE_FAILED (with CloudFormation's reason), then optionally deletes its secrets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.sandboxes import cloudformation
from apps.sandboxes.inventory import secret_prefix
from apps.sandboxes.models import Sandbox
from apps.secrets.services import sandbox_secrets_delete
from console.audit import audit_record
from console.aws_errors import AwsError, AwsNotFound
from console.cloudformation import delete_stack, stack_failure_reason
from console.queue import send_on_commit

D = Sandbox.Deletion


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
    for sandbox in sandboxes:
        claimed = (
            Sandbox.objects.filter(pk=sandbox.pk)
            .filter(~Q(deletion__in=(D.REQUESTED, D.RUNNING)))
            .update(deletion=D.REQUESTED, deletion_reason="", deletion_with_secrets=with_secrets, deletion_requested_at=now)
        )
        if not claimed:
            continue
        person = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        Sandbox.objects.filter(pk=sandbox.pk).update(
            deletion_requested_by=person,
            deletion_requested_by_name=person.get_username() if person else (reason or "system"),
        )
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
    """Carry out a requested deletion; a redelivered task finds nothing to claim."""
    claimed = Sandbox.objects.filter(pk=sandbox_pk, deletion=D.REQUESTED).update(
        deletion=D.RUNNING, deletion_heartbeat=timezone.now()
    )
    if not claimed:
        return None
    sandbox = Sandbox.objects.get(pk=sandbox_pk)
    target = f"{sandbox.region}/{sandbox.stack_name}"
    try:
        _delete_stack(sandbox, sleep)
        # The stack is gone, whatever happens to its secrets next (the first deletion time stays).
        gone = Sandbox.objects.filter(pk=sandbox_pk)
        gone.update(
            status=Sandbox.Status.DELETED,
            stack_status="DELETE_COMPLETE",
            status_reason="",
            deleted_at=Coalesce("deleted_at", Value(timezone.now())),
            resource_count=0,
        )
        if sandbox.status != Sandbox.Status.DELETED:  # this deletion removed it: credit the requester
            gone.update(deleted_by=F("deletion_requested_by"), deleted_by_name=F("deletion_requested_by_name"))
        deleted_secrets: list[str] = []
        if sandbox.deletion_with_secrets:
            prefix = secret_prefix(sandbox.namespace, sandbox.identifier, sandbox.backend_hash)
            deleted_secrets = sandbox_secrets_delete(sandbox.region, prefix)
    except (DeletionFailed, AwsError) as failure:
        Sandbox.objects.filter(pk=sandbox_pk).update(deletion=D.FAILED, deletion_reason=str(failure)[:2000])
        audit_record(
            actor=None,
            action="sandbox.delete_failed",
            target_type="sandbox",
            target=target,
            outcome="failure",
            message=str(failure)[:500],
        )
        return Sandbox.objects.get(pk=sandbox_pk)
    Sandbox.objects.filter(pk=sandbox_pk).update(deletion=D.SUCCEEDED, secret_count=0)
    audit_record(
        actor=None,
        action="sandbox.deleted",
        target_type="sandbox",
        target=target,
        detail={"ssm_parameters_deleted": deleted_secrets},
    )
    return Sandbox.objects.get(pk=sandbox_pk)


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
        Sandbox.objects.filter(pk=sandbox.pk).update(
            status=stack.status,
            stack_status=stack.stack_status,
            status_reason=stack.status_reason,
            deletion_heartbeat=timezone.now(),
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
