"""Celery tasks of builds: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from apps.builds import jobs
from apps.builds.isolation import check_build_isolation
from apps.builds.runner import run_job
from console.queue import send

# Long enough for the longest allowed build (8 h) plus cloning and deploying.
_BUILD_TASK_LIMIT = 8 * 3600 + 900


@shared_task(name="apps.builds.tasks.process_branch_queue", acks_late=True, ignore_result=True, time_limit=_BUILD_TASK_LIMIT)
def process_branch_queue(branch_pk: int) -> None:
    """Run the branch's next waiting job, if no other job of the branch is active.

    A redelivered or duplicate task finds nothing to claim and does nothing. After a
    job ends the task queues itself again, so waiting jobs run one at a time, in order.
    """
    job = jobs.claim_next_job(branch_pk)
    if job is None:
        return
    try:
        run_job(job.pk)
    finally:
        send(process_branch_queue, branch_pk)


@shared_task(name="apps.builds.tasks.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    return jobs.reap_stale_jobs()


@shared_task(name="apps.builds.tasks.probe_build_isolation", ignore_result=True)
def probe_build_isolation() -> str | None:
    """Tell the dashboard whether this worker can isolate builds."""
    return check_build_isolation()
