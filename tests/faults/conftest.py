"""Fault injection on real processes: workers killed with SIGKILL mid-task, services
restarted under load. Each test names the fault and the promise it proves."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from conftest import drain_output, queued_to_workers, worker_env
from console.emulator import Emulator
from console.worker_process import start_worker

# Workers of these tests beat fast so a dead one is noticed in seconds, not a minute.
HEARTBEAT = {"TASK_HEARTBEAT_INTERVAL_SECONDS": "0.2", "TASK_HEARTBEAT_TIMEOUT_SECONDS": "2"}


class Workers:
    """Starts real Celery workers (solo pool: the task runs in the process we kill) and
    kills them the way a lost machine or the OOM killer does: SIGKILL, no goodbye."""

    def __init__(self, emulator: Emulator, started: list[subprocess.Popen[Any]]) -> None:
        self._emulator, self._started = emulator, started
        self.output: deque[str] = deque(maxlen=400)

    def start(self, name: str = "fault-worker") -> subprocess.Popen[Any]:
        process = start_worker(worker_env(self._emulator, **HEARTBEAT), "--pool", "solo", name=name)
        self._started.append(process)
        self.output = drain_output(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[Any]) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def tail(self) -> str:
        return "".join(list(self.output)[-60:])


@pytest.fixture
def workers(transactional_db: None, emulator: Emulator, settings: Any) -> Iterator[Workers]:
    settings.TASK_HEARTBEAT_INTERVAL_SECONDS = float(HEARTBEAT["TASK_HEARTBEAT_INTERVAL_SECONDS"])
    settings.TASK_HEARTBEAT_TIMEOUT_SECONDS = int(HEARTBEAT["TASK_HEARTBEAT_TIMEOUT_SECONDS"])
    with queued_to_workers(emulator, settings) as started:
        yield Workers(emulator, started)


def past_heartbeat_timeout() -> None:
    """Sleep until a task whose worker just died has been silent for longer than the timeout."""
    time.sleep(settings.TASK_HEARTBEAT_TIMEOUT_SECONDS + 0.5)
