"""Job services: start, claim, cancel, retry, redeploy, finish, reap.

Every status change is a conditional UPDATE (`filter(status__in=...)`), so a
cancel racing a finish, or a redelivered task, cannot corrupt a job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.branches.models import Branch
from apps.builds.events import JobEvent, job_event
from apps.builds.models import Job, JobStep, LogChunk
from apps.builds.process import process_identity
from console.audit import audit_record
from console.queue import send_on_commit

logger = logging.getLogger(__name__)

S = Job.Status
# Which endings listeners hear of (a cancelled job is no news).
_ENDED_EVENTS: dict[str, JobEvent] = {S.SUCCEED: JobEvent.SUCCEEDED, S.FAILED: JobEvent.FAILED}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _queue_branch(branch_pk: int) -> None:
    send_on_commit("apps.builds.tasks.process_branch_queue", branch_pk)


def job_start(
    *,
    branch: Branch,
    job_type: str,
    triggered_by: str,
    commit_id: str = "",
    commit_message: str = "",
    commit_time: datetime | None = None,
    source_job: Job | None = None,
    redeploy: bool = False,
    actor: Any = None,
    automatic: bool = False,
    skip_reason: str = "",
) -> Job:
    """Write a PENDING job with the branch's next id and queue it after commit.

    `automatic`: a push, poll or incoming webhook started it (the runner may skip it);
    `skip_reason`: the trigger already knows it is skipped: the job is written SKIPPED."""
    status = S.SKIPPED if skip_reason else S.PENDING
    with transaction.atomic():
        # Locks the branch row (PostgreSQL) so concurrent starts get distinct ids.
        locked = Branch.objects.select_for_update().get(pk=branch.pk)
        job_id = locked.next_job_id
        Branch.objects.filter(pk=branch.pk).update(next_job_id=F("next_job_id") + 1)
        job = Job.objects.create(
            branch=locked,
            job_id=job_id,
            job_type=job_type,
            status=status,
            commit_id=commit_id,
            commit_message=commit_message,
            commit_time=commit_time,
            triggered_by=triggered_by[:200],
            source_job=source_job,
            redeploy=redeploy,
            automatic=automatic,
            status_reason=skip_reason,
            ended_at=timezone.now() if skip_reason else None,
        )
        JobStep.objects.bulk_create(JobStep(job=job, name=name, status=status) for name in JobStep.Name.values)
        audit_record(
            actor=actor,
            action="job.redeploy" if redeploy else "job.skip" if skip_reason else "job.start",
            target_type="job",
            target=f"{branch.app.app_id}/{branch.name}/{job_id}",
            message=f"{job_type} job #{job_id} by {triggered_by}" + (f": {skip_reason}" if skip_reason else ""),
        )
        if not skip_reason:
            _queue_branch(branch.pk)
    return job


def _again(job: Job, *, job_type: str, what: str, redeploy: bool, actor: Any) -> Job:
    """A new job on the same commit as `job` (a retry, or a redeploy of its files)."""
    return job_start(
        branch=job.branch,
        job_type=job_type,
        triggered_by=f"{actor.get_username()} ({what} of #{job.job_id})",
        commit_id=job.commit_id,
        commit_message=job.commit_message,
        commit_time=job.commit_time,
        source_job=job,
        redeploy=redeploy,
        actor=actor,
    )


def job_retry(*, job: Job, actor: Any) -> Job:
    if job.status not in (S.FAILED, S.CANCELLED):
        raise ValidationError("Only failed or cancelled jobs can be retried.")
    return _again(job, job_type=Job.Type.RETRY, what="retry", redeploy=False, actor=actor)


def job_redeploy(*, job: Job, actor: Any) -> Job:
    if job.status != S.SUCCEED or not hasattr(job, "deployment"):
        raise ValidationError("Only a successful job with hosted files can be redeployed.")
    return _again(job, job_type=Job.Type.MANUAL, what="redeploy", redeploy=True, actor=actor)


def job_cancel(*, job: Job, actor: Any) -> Job:
    """Waiting jobs end at once; running ones go CANCELLING and their runner kills the build."""
    now = timezone.now()
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, status__in=Job.WAITING).update(
            status=S.CANCELLED, ended_at=now, status_reason="Cancelled before it started."
        ):
            job.steps.update(status=S.CANCELLED)
        elif not Job.objects.filter(pk=job.pk, status__in=(S.PROVISIONING, S.RUNNING)).update(status=S.CANCELLING):
            raise ValidationError("This job has already ended.")
        audit_record(
            actor=actor,
            action="job.cancel",
            target_type="job",
            target=f"{job.branch.app.app_id}/{job.branch.name}/{job.job_id}",
        )
    job.refresh_from_db()
    return job


def claim_next_job(branch_pk: int) -> Job | None:
    """The oldest waiting job of the branch, if none is active; None otherwise."""
    with transaction.atomic():
        Branch.objects.select_for_update().filter(pk=branch_pk).first()
        if Job.objects.filter(branch_id=branch_pk, status__in=Job.ACTIVE).exists():
            return None
        job = Job.objects.filter(branch_id=branch_pk, status__in=Job.WAITING).order_by("job_id").first()
        if job is None:
            return None
        now = timezone.now()
        claimed = Job.objects.filter(pk=job.pk, status__in=Job.WAITING).update(
            status=S.PROVISIONING, worker=worker_name(), heartbeat_at=now, started_at=now
        )
    if not claimed:
        return None
    job.refresh_from_db()
    return job


def _kill_orphaned_build(worker: str, process_group: int | None, started: str) -> bool:
    """A worker killed mid-build can leave the build's processes running. The reaper
    can end them only on the same machine; elsewhere they die when they next write
    to their output pipe, whose reader (the dead worker) is gone.

    The stored id is only a number: after a restart another process may hold it. The
    group is killed only while its leader is the very process the build started."""
    if not process_group or worker.rsplit(":", 1)[0] != socket.gethostname():
        return False
    if not started or process_identity(process_group) != started:
        logger.warning("not killing process group %s: it is no longer the build's (stale id)", process_group)
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process_group, signal.SIGKILL)
        return True
    return False


def job_heartbeat(job_pk: int) -> str:
    """Refresh the heartbeat; returns the job's current status (to notice CANCELLING)."""
    Job.objects.filter(pk=job_pk, status__in=Job.ACTIVE).update(heartbeat_at=timezone.now())
    return str(Job.objects.filter(pk=job_pk).values_list("status", flat=True).first() or "")


def job_set_running(job_pk: int, **fields: Any) -> bool:
    """PROVISIONING -> RUNNING once the commit is known: the job has started (listeners hear it)."""
    with transaction.atomic():
        started = bool(Job.objects.filter(pk=job_pk, status=S.PROVISIONING).update(status=S.RUNNING, **fields))
        if started:
            job_event(job_pk, JobEvent.STARTED)
    return started


def job_skip(job_pk: int, reason: str, **fields: Any) -> bool:
    """PROVISIONING -> SKIPPED: the runner found the automatic build not worth running.
    Listeners hear nothing: the build never started."""
    now = timezone.now()
    with transaction.atomic():
        skipped = bool(
            Job.objects.filter(pk=job_pk, status=S.PROVISIONING).update(
                status=S.SKIPPED, ended_at=now, status_reason=reason, **fields
            )
        )
        if skipped:
            JobStep.objects.filter(job_id=job_pk).update(status=S.SKIPPED, ended_at=now)
    return skipped


def step_update(job_pk: int, name: str, status: str) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"status": status}
    if status == S.RUNNING:
        fields["started_at"] = now
        last = LogChunk.objects.filter(job_id=job_pk).order_by("-seq").values_list("seq", flat=True).first()
        fields["first_log_seq"] = (last or 0) + 1
    else:
        fields["ended_at"] = now
    JobStep.objects.filter(job_id=job_pk, name=name).update(**fields)


def job_finish(job_pk: int, status: str, *, reason: str = "", failed_command: str = "", exit_code: int | None = None) -> bool:
    """End an active job. A job being cancelled ends CANCELLED whatever the build did."""
    now = timezone.now()
    with transaction.atomic():
        final: str
        if Job.objects.filter(pk=job_pk, status=S.CANCELLING).update(
            status=S.CANCELLED, ended_at=now, status_reason=reason or "Cancelled."
        ):
            final = S.CANCELLED
        elif Job.objects.filter(pk=job_pk, status__in=(S.PROVISIONING, S.RUNNING)).update(
            status=status, ended_at=now, status_reason=reason, failed_command=failed_command[:2000], exit_code=exit_code
        ):
            final = status
        else:
            return False
        # The step that was running ends as the job did; steps never reached did not run.
        steps = JobStep.objects.filter(job_id=job_pk)
        steps.filter(status=S.RUNNING).update(status=final, ended_at=now)
        steps.filter(status=S.PENDING).update(status=S.SUCCEED if final == S.SUCCEED else S.CANCELLED)
        if final in _ENDED_EVENTS:
            job_event(job_pk, _ENDED_EVENTS[final])
    return True


def reap_stale_jobs(now: Any = None) -> list[int]:
    """Fail active jobs whose worker stopped heart-beating; queue their branches again.

    Also re-queues branches whose waiting jobs have sat idle with nothing active
    (their task message was lost, e.g. with a broker restart).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS)
    stale = list(
        Job.objects.filter(status__in=Job.ACTIVE, heartbeat_at__lt=cutoff).values_list(
            "pk", "branch_id", "worker", "process_group", "process_started"
        )
    )
    reaped = []
    idle = (
        Job.objects.filter(status__in=Job.WAITING, created_at__lt=cutoff)
        .exclude(branch__jobs__status__in=Job.ACTIVE)
        .values_list("branch_id", flat=True)
        .distinct()
    )
    for branch_pk in idle:
        _queue_branch(branch_pk)
    for pk, branch_pk, worker, process_group, started in stale:
        _kill_orphaned_build(worker, process_group, started)
        reason = f"The worker running this job ({worker}) stopped: no heartbeat for {settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS} s."
        with transaction.atomic():
            if Job.objects.filter(pk=pk, status__in=Job.ACTIVE, heartbeat_at__lt=cutoff).update(
                status=S.FAILED, ended_at=now, status_reason=reason
            ):
                JobStep.objects.filter(job_id=pk, status__in=(S.PENDING, S.RUNNING)).update(status=S.FAILED, ended_at=now)
                audit_record(actor=None, action="job.reap", target_type="job", target=str(pk), outcome="failure", message=reason)
                job_event(pk, JobEvent.FAILED)
                reaped.append(pk)
                _queue_branch(branch_pk)
    return reaped
