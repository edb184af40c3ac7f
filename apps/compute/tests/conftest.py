"""Compute tests: a folder of their own for servers and the control socket, a supervisor
that is stopped with every server at the end, fresh caches of routes and ports."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

from apps.branches.tests.conftest import app, repo
from apps.builds.sandbox import isolation_problem
from apps.compute import client, hostd, routing
from apps.compute.supervisor import Supervisor
from apps.compute.tests.servers import NODE

__all__ = ["app", "repo"]

needs_servers = [
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed"),
    pytest.mark.skipif(isolation_problem() is not None, reason=f"servers cannot be isolated here: {isolation_problem()}"),
]


@pytest.fixture(autouse=True)
def compute_dir(settings: Any) -> Iterator[Any]:
    # Under the checkout, not /tmp/pytest-of-root (0700): a server's own user must reach its folder.
    folder = django_settings.BASE_DIR / "var" / f"compute-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)  # noqa: S103 - its servers' users pass through it
    settings.COMPUTE_DIR = folder
    routing._routes.cache_clear()
    client._ports.clear()
    yield folder
    routing._routes.cache_clear()
    client._ports.clear()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    found = Supervisor(host="test-host")
    try:
        yield found
    finally:
        found.stop_all("the test ended")
        found.sink.flush()


@pytest.fixture
def running_hostd(compute_dir: Any) -> Iterator[threading.Event]:
    """hostd's control socket and sweeps in a thread of this process (sweeping every 0.2 s)."""
    stop = threading.Event()
    thread = threading.Thread(target=hostd.serve, args=(stop,), kwargs={"sweep_seconds": 0.2}, daemon=True)
    thread.start()
    for _ in range(100):
        if hostd.socket_path().exists():
            break
        threading.Event().wait(0.05)
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)
