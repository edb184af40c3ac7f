"""Celery tasks of the core: reads of remote state for pages, off the web process."""

from __future__ import annotations

from celery import shared_task


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
