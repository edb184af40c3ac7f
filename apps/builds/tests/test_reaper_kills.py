"""The reaper ends a dead worker's build only while its process group is still that build's."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.builds import jobs
from apps.builds.models import Job
from apps.builds.process import kill_group, process_identity
from apps.builds.tests.builds import build, make_app
from conftest import wait_for


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A process leading its own group, as a build's sandbox does: the reaper's possible victim."""
    process = subprocess.Popen(["sleep", "120"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def _stale_job(make_repo: Callable[..., Path], process_group: int, started: str) -> Job:
    app = make_app(make_repo)
    job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="t")
    jobs.claim_next_job(job.branch_id)
    Job.objects.filter(pk=job.pk).update(process_group=process_group, process_started=started)
    return job


def _reap(settings: Any) -> list[int]:
    return jobs.reap_stale_jobs(now=timezone.now() + timedelta(seconds=settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS + 1))


def test_process_identity_tells_a_process_from_a_later_one_with_the_same_id(bystander: subprocess.Popen[bytes]) -> None:
    identity = process_identity(bystander.pid)
    assert identity
    assert identity == process_identity(bystander.pid)  # stable while the process lives
    assert identity != process_identity(os.getpid())
    bystander.kill()
    bystander.wait()
    assert process_identity(bystander.pid) == ""


def test_the_reaper_refuses_a_process_group_id_now_held_by_another_process(
    db: None, make_repo: Callable[..., Path], settings: Any, bystander: subprocess.Popen[bytes]
) -> None:
    # The build's leader started at another time (or before a reboot): its id was reused.
    job = _stale_job(make_repo, bystander.pid, f"{process_identity(bystander.pid)[:-1]}9-earlier")
    assert _reap(settings) == [job.pk]
    assert bystander.poll() is None  # alive: not the build's process
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_the_reaper_refuses_a_row_that_never_recorded_who_led_the_group(
    db: None, make_repo: Callable[..., Path], settings: Any, bystander: subprocess.Popen[bytes]
) -> None:
    job = _stale_job(make_repo, bystander.pid, "")
    assert _reap(settings) == [job.pk]
    assert bystander.poll() is None


def test_the_reaper_kills_the_group_while_its_leader_is_the_builds(
    db: None, make_repo: Callable[..., Path], settings: Any, bystander: subprocess.Popen[bytes]
) -> None:
    job = _stale_job(make_repo, bystander.pid, process_identity(bystander.pid))
    assert _reap(settings) == [job.pk]
    assert bystander.wait(timeout=10) == -signal.SIGKILL


def test_unisolated_a_child_that_left_the_group_outlives_it() -> None:
    # What is true without the sandbox (BUILD_ISOLATION=off): killing the group misses a
    # setsid child. Sandboxed builds end it with their PID namespace (tests/test_hostile_builds.py).
    leader = subprocess.Popen(
        ["bash", "-c", "setsid sleep 120 >/dev/null 2>&1 </dev/null & echo $!; sleep 120"],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert leader.stdout is not None
    escaped = int(leader.stdout.readline())
    try:
        wait_for(lambda: os.getsid(escaped) == escaped, 5, message="the child to start its own session")
        kill_group(leader.pid, leader)
        assert leader.wait(timeout=10) != 0
        assert process_identity(escaped), "the setsid child should still run"
    finally:
        os.kill(escaped, signal.SIGKILL)


def test_a_build_records_who_leads_its_process_group(db: None, make_repo: Callable[..., Path]) -> None:
    spec = "version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n        - sleep 1\n"
    job = build(make_app(make_repo, spec))
    assert job.status == Job.Status.SUCCEED, job.status_reason
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert job.process_group
    assert job.process_started.startswith(f"{boot}:")


def test_the_job_says_what_a_cancel_or_timeout_really_ended(settings: Any) -> None:
    from apps.builds.runner import _what_was_stopped

    assert _what_was_stopped() == "every process of the build was stopped"
    settings.BUILD_ISOLATION = "off"
    assert "one that left its group may still run" in _what_was_stopped()
