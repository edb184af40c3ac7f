"""Queueing by name: services name the task; the name finds the registered task."""

from __future__ import annotations

import pytest
from celery import current_app

from console.queue import send, task_named


def test_a_name_finds_its_task() -> None:
    task = task_named("apps.gitops.tasks.run_teardown")
    assert task.name == "apps.gitops.tasks.run_teardown"
    assert task.run.__module__ == "apps.gitops.tasks"


@pytest.mark.parametrize(
    "name",
    [
        "apps.gitops.tasks.no_such_task",  # the module has no such function
        "apps.gitops.teardown.run_teardown",  # a function, not a task
        "apps.branches.services.app_create",
    ],
)
def test_a_name_that_is_no_task_is_refused(name: str) -> None:
    with pytest.raises(LookupError, match="no Celery task"):
        task_named(name)


def test_every_task_is_named_by_its_module_and_function() -> None:
    for name in ("apps.builds.tasks", "apps.gitops.tasks", "apps.branches.tasks", "apps.storage.tasks"):
        __import__(name)
    ours = {name: task for name, task in current_app.tasks.items() if name.startswith("apps.")}
    assert len(ours) >= 10
    for name, task in ours.items():
        assert name == f"{task.run.__module__}.{task.run.__name__}"


def test_sending_by_name_runs_the_task(db: None, settings: object) -> None:
    # Eager in tests: the read task runs and finds no app (nothing to do, no error).
    assert send("apps.branches.tasks.read_repository_heads", 10**9) is True
