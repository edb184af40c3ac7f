"""Carrying out a teardown: stop the branch's jobs, remove its hosted files, delete
its backend stack and wait for CloudFormation's verdict, then remove the branch.

Every step is safe to repeat (deleting what is gone is a no-op), so a Retry runs them
all again; `steps_done` says how far an attempt got. A running teardown beats
(console.heartbeat); one whose worker died is failed by the reaper."""

from __future__ import annotations

import contextlib
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.branches.models import Branch
from apps.builds import services as build_services
from apps.builds.models import Job
from apps.gitops.models import Teardown
from apps.hosting.models import Deployment
from apps.secrets.services import secrets_remove_branch
from console.audit import audit_record
from console.aws_errors import AwsError
from console.cloudformation import delete_stack, describe_stack, stack_failure_reason
from console.heartbeat import beating, reap, requeue_lost, stopped_worker_message
from console.queue import send

T = Teardown.Status


class TeardownFailed(Exception):
    pass


STEP_NAMES = {
    "jobs": "builds stopped",
    "hosting": "hosted files removed",
    "stack": "backend stack deleted",
    "secrets": "preview secrets deleted",
    "branch": "branch removed",
}


def run_teardown(teardown_pk: int) -> None:
    claimed = Teardown.objects.filter(pk=teardown_pk, status=T.PENDING).update(
        status=T.RUNNING, reason="", steps_done=[], heartbeat_at=timezone.now()
    )
    if not claimed:
        return  # a redelivered task, or someone else has it
    teardown = Teardown.objects.select_related("app").get(pk=teardown_pk)
    Teardown.objects.filter(pk=teardown_pk).update(attempts=teardown.attempts + 1)
    with beating(Teardown, teardown_pk):
        _carry_out(teardown)


def _carry_out(teardown: Teardown) -> None:
    teardown_pk = teardown.pk
    done: list[str] = []

    def finished(step: str) -> None:
        done.append(step)
        Teardown.objects.filter(pk=teardown_pk).update(steps_done=list(done))

    try:
        branch = teardown.app.branches.filter(name=teardown.branch_name).first()
        if branch is not None:
            _stop_jobs(branch)
            finished("jobs")
            _remove_hosting(branch)
            finished("hosting")
        if teardown.delete_stack:
            _delete_stack(teardown.stack_name)
            finished("stack")
        if teardown.kind == Teardown.Kind.PREVIEW:
            # A preview's own secrets die with it; the shared ones and its base branch's stay.
            secrets_remove_branch(actor=None, app_id=teardown.app.app_id, branch=teardown.branch_name)
            finished("secrets")
        if branch is not None:
            branch.delete()
            finished("branch")
    except (TeardownFailed, AwsError) as failure:
        Teardown.objects.filter(pk=teardown_pk).update(status=T.FAILED, reason=str(failure))
        audit_record(
            actor=None,
            action="teardown.fail",
            target_type="branch",
            target=f"{teardown.app.app_id}/{teardown.branch_name}",
            outcome="failure",
            message=str(failure)[:500],
        )
        return
    Teardown.objects.filter(pk=teardown_pk).update(status=T.SUCCEEDED)
    audit_record(actor=None, action="teardown.done", target_type="branch", target=f"{teardown.app.app_id}/{teardown.branch_name}")


def reap_stalled_teardowns() -> list[int]:
    """Fail the running teardowns whose worker stopped (their Retry runs every step again;
    the pks), and queue again the waiting ones whose message was lost."""

    def failed(teardown: Teardown) -> dict[str, object]:
        steps = ", ".join(STEP_NAMES.get(step, step) for step in teardown.steps_done) or "no step finished"
        retry = "Retry runs every step again (each is safe to repeat)."
        return {"status": T.FAILED, "reason": stopped_worker_message(steps, retry)}

    reaped = reap(Teardown, running=T.RUNNING, failed_fields=failed)
    requeue_lost(Teardown, waiting=T.PENDING, send=lambda pk: send("apps.gitops.tasks.run_teardown", pk))
    return reaped


def _stop_jobs(branch: Branch) -> None:
    for job in branch.jobs.filter(status__in=(*Job.WAITING, Job.Status.PROVISIONING, Job.Status.RUNNING)):
        # A job that ended meanwhile refuses the cancel, which is what we want anyway.
        with contextlib.suppress(ValidationError):
            build_services.job_cancel(job=job, actor=None)
    deadline = time.monotonic() + settings.TEARDOWN_JOB_WAIT_SECONDS
    while branch.jobs.filter(status__in=Job.ACTIVE).exists():
        if time.monotonic() > deadline:
            raise TeardownFailed("A build of the branch is still running after it was cancelled; retry in a moment.")
        time.sleep(0.5)


def _remove_hosting(branch: Branch) -> None:
    with transaction.atomic():
        Branch.objects.filter(pk=branch.pk).update(live_deployment=None)
        Deployment.objects.filter(branch=branch).delete()


def _delete_stack(stack_name: str) -> None:
    delete_stack(stack_name)
    deadline = time.monotonic() + settings.TEARDOWN_STACK_WAIT_SECONDS
    while True:
        stack = describe_stack(stack_name)
        if stack is None or stack.stack_status == "DELETE_COMPLETE":
            return
        if stack.stack_status == "DELETE_FAILED":
            reason = stack_failure_reason(stack_name) or "no reason given"
            raise TeardownFailed(f"CloudFormation could not delete {stack_name}: {reason}")
        if time.monotonic() > deadline:
            raise TeardownFailed(
                f"{stack_name} is still {stack.stack_status} after {settings.TEARDOWN_STACK_WAIT_SECONDS} s; retry later."
            )
        time.sleep(2)
