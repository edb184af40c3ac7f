"""Queueing Celery tasks so that a broker outage never loses work nor breaks a page.

Every long piece of work is first a database row (a job, a task, a teardown) and only
then a message naming it. If the broker cannot take the message (Redis restarting),
the row stays waiting and the app's sweeper queues it again a little later; the page
that asked for the work still answers. Claims are atomic, so a message sent twice
runs the work once.

Services name the task they queue ("apps.builds.tasks.process_branch_queue") instead of
importing it: a tasks module imports the services it runs, never the other way round.
Every task is named by its module and function, so the name finds it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# Publishing waits this long for the broker before leaving the message to the sweeper.
_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.4, "interval_max": 1.0}


def task_named(name: str) -> Task:
    """The Celery task called `name` (its module's path and its function's name)."""
    try:
        task = import_string(name)
    except ImportError:
        task = None
    if not isinstance(task, Task) or task.name != name:
        raise LookupError(f"no Celery task is named {name!r}")
    return task


def send(task: Task | str, *args: Any) -> bool:
    """Queue `task(*args)` now; False (and a warning) when the broker cannot be reached."""
    if isinstance(task, str):
        task = task_named(task)
    try:
        task.apply_async(args=args, retry=True, retry_policy=_RETRY_POLICY)
    except OperationalError as error:
        logger.warning("%s%r not queued (the broker is unreachable: %s); its sweeper will queue it", task.name, args, error)
        return False
    return True


def send_on_commit(task: Task | str, *args: Any) -> None:
    """Queue `task(*args)` once the current transaction has committed the row it names."""
    transaction.on_commit(lambda: send(task, *args))
