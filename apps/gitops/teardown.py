"""Carrying out a teardown: stop the branch's jobs, remove its hosted files, delete
its backend stack and wait for CloudFormation's verdict, then remove the branch.

Every step is safe to repeat (deleting what is gone is a no-op), so a Retry runs them
all again; `steps_done` says how far an attempt got. A running teardown beats
(console.heartbeat); one whose worker died is failed by the reaper."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.branches.models import Branch
from apps.builds import services as build_services
from apps.builds.models import Job
from apps.gitops.models import Teardown
from apps.hosting.models import Deployment
from apps.prstatus import services as prstatus_services
from apps.secrets.services import secrets_remove_branch
from console.aws_errors import AwsError
from console.cloudformation import delete_stack, describe_stack, stack_failure_reason
from console.heartbeat import beating
from console.progress import AuditOf, attempt, claim, finish, reap_stalled
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
    """Carry out a waiting teardown; a redelivered task finds nothing to claim."""
    teardown = claim(Teardown, teardown_pk, related=("app",), fresh={"error": "", "steps_done": [], "done": 0})
    if teardown is None:
        return
    audit = AuditOf(
        actor=None, action="teardown.done", target_type="branch", target=f"{teardown.app.app_id}/{teardown.branch_name}"
    )
    with beating(Teardown, teardown_pk):
        steps = attempt(
            teardown,
            lambda: _carry_out(teardown),
            expected=(TeardownFailed, AwsError),
            end=functools.partial(finish, Teardown, teardown_pk),
            audit=dataclasses.replace(audit, action="teardown.fail"),
            retryable=True,  # every step is safe to repeat: a failed teardown may always be retried
        )
        if steps is not None:
            finish(Teardown, teardown_pk, status=T.SUCCEEDED, error="")
            audit.record()
            _tell_pull_request(teardown)


def _tell_pull_request(teardown: Teardown) -> None:
    """A preview's pull request hears that its preview is gone (if the app reports to it)."""
    number = teardown.branch_name.removeprefix("pr-")
    if teardown.kind == Teardown.Kind.PREVIEW and number.isdigit():
        prstatus_services.preview_torn_down(app=teardown.app, number=int(number), preview_name=teardown.branch_name)


def _carry_out(teardown: Teardown) -> list[str]:
    """The steps, in order; each finished one is counted at once (`steps_done`, `done`)."""
    teardown_pk = teardown.pk
    done: list[str] = []

    def finished(step: str) -> None:
        done.append(step)
        Teardown.objects.filter(pk=teardown_pk).update(steps_done=list(done), done=len(done))

    branch = teardown.app.branches.filter(name=teardown.branch_name).first()
    total = 3 * (branch is not None) + teardown.delete_stack + (teardown.kind == Teardown.Kind.PREVIEW)
    Teardown.objects.filter(pk=teardown_pk).update(total=total)
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
    return done


def reap_stalled_teardowns() -> list[int]:
    """Fail the running teardowns whose worker stopped (their Retry runs every step again;
    the pks), and queue again the waiting ones whose message was lost."""

    def progress(teardown: Teardown) -> str:
        return ", ".join(STEP_NAMES.get(step, step) for step in teardown.steps_done) or "no step finished"

    return reap_stalled(
        Teardown,
        progress=progress,
        resend=lambda pk: send("apps.gitops.tasks.run_teardown", pk),
        retry="Retry runs every step again (each is safe to repeat).",
    )


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
