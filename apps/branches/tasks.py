"""Celery tasks: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from apps.branches import jobs
from apps.branches.runner import run_job

# Long enough for the longest allowed build (8 h) plus cloning and deploying.
_BUILD_TASK_LIMIT = 8 * 3600 + 900


@shared_task(name="apps.branches.tasks.process_branch_queue", acks_late=True, ignore_result=True, time_limit=_BUILD_TASK_LIMIT)
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
        process_branch_queue.delay(branch_pk)


@shared_task(name="apps.branches.tasks.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    return jobs.reap_stale_jobs()
