"""Teardowns written before they were progress tasks keep working after the migration."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps as installed_apps

from apps.branches.models import App
from apps.gitops.models import Teardown

progress_migration = import_module("apps.gitops.migrations.0002_teardown_progress_task")


def test_old_failed_teardowns_can_still_be_retried_and_ended_ones_are_stamped(app: App) -> None:
    def old_row(status: str) -> Teardown:
        return Teardown.objects.create(
            app=app, kind=Teardown.Kind.PREVIEW, branch_name=f"pr-{status}", stack_name="s", status=status, error="why"
        )

    failed, done, waiting = old_row("FAILED"), old_row("SUCCEEDED"), old_row("PENDING")
    progress_migration.mark_ended(installed_apps, None)
    for row in (failed, done, waiting):
        row.refresh_from_db()
    assert (failed.retryable, failed.can_retry, failed.finished_at) == (True, True, failed.updated_at)
    assert done.finished_at == done.updated_at
    assert waiting.finished_at is None
    assert failed.error == "why"  # the old `reason` column, under its new name
