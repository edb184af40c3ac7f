"""The demo's background work: seeding its data once its build has deployed the tables,
and building the frontend demo once the backend it reads is deployed."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)

# The demo's builds take a minute or two on the emulator; a stuck one is given up after 30 minutes.
DEMO_DATA_POLL_SECONDS = 3
DEMO_DATA_MAX_POLLS = 600


@shared_task(
    name="apps.demo.tasks.seed_demo_data",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=DEMO_DATA_MAX_POLLS,
    time_limit=600,
)
def seed_demo_data(self: Any, branch_pk: int) -> None:
    """`make run`: seed the demo branch's tables once its build has deployed them.
    Idempotent: a model whose table holds records is left alone."""
    from apps.demo.seed import BuildPending, seed_demo_data_after_build

    try:
        seed_demo_data_after_build(branch_pk, say=logger.info)
    except BuildPending as pending:
        raise self.retry(exc=pending, countdown=DEMO_DATA_POLL_SECONDS) from None


@shared_task(
    name="apps.demo.tasks.build_frontend_demo",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=DEMO_DATA_MAX_POLLS,
    time_limit=120,
)
def build_frontend_demo(self: Any, branch_pk: int, backend_branch_pk: int) -> None:
    """`make run`: build the frontend demo once the backend it reads (the todo app's main)
    is deployed. Idempotent: a build started since that deployment is not started again."""
    from apps.demo.frontend_demo import build_frontend_after_backend
    from apps.demo.seed import BuildPending

    try:
        build_frontend_after_backend(branch_pk, backend_branch_pk, say=logger.info)
    except BuildPending as pending:
        raise self.retry(exc=pending, countdown=DEMO_DATA_POLL_SECONDS) from None
