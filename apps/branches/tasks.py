"""Celery tasks: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from apps.branches import jobs
from apps.branches.isolation import check_build_isolation
from apps.branches.runner import run_job
from apps.branches.teardown import run_teardown as teardown
from console.queue import send

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
        send(process_branch_queue, branch_pk)


@shared_task(name="apps.branches.tasks.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    return jobs.reap_stale_jobs()


@shared_task(name="apps.branches.tasks.probe_build_isolation", ignore_result=True)
def probe_build_isolation() -> str | None:
    """Tell the dashboard whether this worker can isolate builds."""
    return check_build_isolation()


@shared_task(name="apps.branches.tasks.run_teardown", acks_late=True, ignore_result=True, time_limit=3 * 3600)
def run_teardown(teardown_pk: int) -> None:
    teardown(teardown_pk)


@shared_task(name="apps.branches.tasks.reap_stalled_teardowns", ignore_result=True)
def reap_stalled_teardowns() -> list[int]:
    from apps.branches.teardown import reap_stalled_teardowns as reap

    return reap()


@shared_task(name="apps.branches.tasks.poll_repositories", ignore_result=True, time_limit=1800)
def poll_repositories() -> int:
    """Beat: one poll cycle over every app that has something to do on a change."""
    from apps.branches.polling import apps_to_poll, poll_cycle

    return len(poll_cycle(apps_to_poll()))


@shared_task(name="apps.branches.tasks.poll_app", ignore_result=True, time_limit=600)
def poll_app(app_pk: int) -> str:
    from apps.branches.polling import poll_one

    return poll_one(app_pk)


@shared_task(name="apps.branches.tasks.sweep_preview_stacks", ignore_result=True)
def sweep_preview_stacks() -> int:
    """Beat: list preview stacks whose pull request is gone, per app (shown on its Previews page)."""
    from apps.branches.models import App
    from apps.branches.sweep import sweep_app

    found = 0
    for app in App.objects.all():
        found += len(sweep_app(app))
    return found


@shared_task(name="apps.branches.tasks.read_repository_heads", ignore_result=True, time_limit=600)
def read_repository_heads(app_pk: int) -> None:
    """For pages: the repository's branches, read off the web process (remote_reads)."""
    from apps.branches.models import App
    from apps.branches.remote_reads import read_heads_now

    app = App.objects.filter(pk=app_pk).first()
    if app is not None:
        read_heads_now(app)


@shared_task(name="apps.branches.tasks.read_backend_stack", ignore_result=True, time_limit=600)
def read_backend_stack(branch_pk: int) -> None:
    """For pages: the branch's stack, read off the web process (remote_reads)."""
    from apps.branches.models import Branch
    from apps.branches.remote_reads import read_stack_now

    branch = Branch.objects.select_related("app").filter(pk=branch_pk).first()
    if branch is not None:
        read_stack_now(branch)


@shared_task(name="apps.branches.tasks.branch_created", ignore_result=True, time_limit=600)
def branch_created(app_pk: int, branch: str, source: str) -> str:
    """A git host said a branch was created (no commit in the event): read its head, then act as on a push."""
    from apps.branches import gitsync
    from apps.branches.git import GitError, remote_heads
    from apps.branches.models import App
    from apps.branches.remote_reads import store_heads

    app = App.objects.filter(pk=app_pk).first()
    if app is None:
        return "app gone"
    try:
        heads = remote_heads(app.repository, credentials=app.git_credentials)
    except GitError as error:
        store_heads(app, None, str(error))
        return f"branch {branch} created; its head could not be read ({error}); the poll will pick it up"
    store_heads(app, heads)
    if branch not in heads:
        return f"branch {branch} created but not found in the repository"
    return gitsync.branch_pushed(app, branch, heads[branch], "", source=source)
