"""A real Celery worker process on the configured broker (Redis in CI) runs tasks."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from console.celery import app as celery_app
from console.tasks import HEARTBEAT_KEY, worker_heartbeat
from console.worker_process import start_worker, stop_worker

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[str]]:
    env = {"DJANGO_SETTINGS_MODULE": "console.settings_test", "CELERY_TASK_ALWAYS_EAGER": "0"}
    process = start_worker(env, "--pool", "solo", name="heartbeat-test")
    yield process
    stop_worker(process)


def test_a_queued_task_runs_on_a_real_worker(worker: subprocess.Popen[str]) -> None:
    cache.delete(HEARTBEAT_KEY)
    celery_app.conf.task_always_eager = False
    try:
        worker_heartbeat.apply_async()
    finally:
        celery_app.conf.task_always_eager = True
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and cache.get(HEARTBEAT_KEY) is None:
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else "worker exited"
        time.sleep(0.25)
    assert cache.get(HEARTBEAT_KEY) is not None, "the worker did not run the task within 60 s"
