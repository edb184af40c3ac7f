"""Celery tasks of git operations: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from apps.gitops.teardown import run_teardown as teardown


@shared_task(name="apps.gitops.tasks.run_teardown", acks_late=True, ignore_result=True, time_limit=3 * 3600)
def run_teardown(teardown_pk: int) -> None:
    teardown(teardown_pk)


@shared_task(name="apps.gitops.tasks.reap_stalled_teardowns", ignore_result=True)
def reap_stalled_teardowns() -> list[int]:
    from apps.gitops.teardown import reap_stalled_teardowns as reap

    return reap()


@shared_task(name="apps.gitops.tasks.poll_repositories", ignore_result=True, time_limit=1800)
def poll_repositories() -> int:
    """Beat: one poll cycle over every app that has something to do on a change."""
    from apps.gitops.polling import apps_to_poll, poll_cycle

    return len(poll_cycle(apps_to_poll()))


@shared_task(name="apps.gitops.tasks.poll_app", ignore_result=True, time_limit=600)
def poll_app(app_pk: int) -> str:
    from apps.gitops.polling import poll_one

    return poll_one(app_pk)


@shared_task(name="apps.gitops.tasks.sweep_preview_stacks", ignore_result=True)
def sweep_preview_stacks() -> int:
    """Beat: list preview stacks whose pull request is gone, per app (shown on its Previews page)."""
    from apps.branches.models import App
    from apps.gitops.sweep import sweep_app

    found = 0
    for app in App.objects.all():
        found += len(sweep_app(app))
    return found


@shared_task(name="apps.gitops.tasks.branch_created", ignore_result=True, time_limit=600)
def branch_created(app_pk: int, branch: str, source: str) -> str:
    """A git host said a branch was created (no commit in the event): read its head, then act as on a push."""
    from apps.branches.models import App
    from apps.branches.services import GitError, remote_heads, store_heads
    from apps.gitops import gitsync

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
