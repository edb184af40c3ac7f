"""Hostile build specs on a real Celery worker with real bubblewrap: each test tries one
attack a pull request could carry, and shows that it failed while the build itself still
ended and reported normally.

A hostile build writes what it found into its own hosted artifacts, where log masking
does not apply; so each test looks for the loot in the log AND in the deployed files.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from apps.builds.sandbox import isolation_problem, outer_uid_for
from apps.hosting.models import DeployedFile
from apps.hosting.selectors import deployed_bytes
from conftest import http_server, queued_to_workers, worker_env
from console.aws import aws_credentials
from console.emulator import Emulator
from console.worker_process import start_worker
from tests.test_build_worker import build_processes, build_spec, ended, log_text, new_app, pid_gone, start_job, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(isolation_problem() is not None, reason=f"builds cannot be isolated here: {isolation_problem()}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="builds run as users of their own only under a root worker"),
]

ROOT = Path(__file__).resolve().parents[1]
S = Job.Status
MAX_PROCESSES = 64
DISK_LIMIT_MB = 64
MEMORY_LIMIT_MB = 512


@pytest.fixture
def hostile_worker(transactional_db: None, emulator: Emulator, settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A worker with low process and disk limits; yields the file its output goes to."""
    output = tmp_path / "worker.log"
    env = worker_env(
        emulator,
        BUILD_MAX_PROCESSES=str(MAX_PROCESSES),
        BUILD_DISK_LIMIT_MB=str(DISK_LIMIT_MB),
        BUILD_MEMORY_LIMIT_MB=str(MEMORY_LIMIT_MB),
    )
    with queued_to_workers(emulator, settings) as workers, output.open("wb") as sink:
        workers.append(start_worker(env, "--pool", "prefork", "--concurrency", "2", name="hostile", stdout=sink))
        yield output


@pytest.fixture
def marker_file() -> Iterator[tuple[Path, str]]:
    """A file of the console's own (under var/), holding a random value no build may read."""
    value = f"console-only-{secrets.token_hex(16)}"
    path = ROOT / "var" / f"isolation-marker-{secrets.token_hex(6)}"
    path.parent.mkdir(exist_ok=True)
    path.write_text(value)
    try:
        yield path, value
    finally:
        path.unlink(missing_ok=True)


def site(*commands: str) -> str:
    """A spec whose build runs the commands and hosts whatever they left in dist/."""
    return build_spec(
        frontend={
            "phases": {"build": {"commands": ["mkdir -p dist", *commands, "echo done > dist/index.html"]}},
            "artifacts": {"baseDirectory": "dist", "files": ["**/*"]},
        }
    )


def find_named(name: str) -> str:
    """A command that looks for the file everywhere the build can see (but /proc and /usr) into find.txt."""
    return f"find / \\( -path /proc -o -path /usr \\) -prune -o -name '{name}' -print 2>/dev/null > dist/find.txt || true"


def published(branch: Branch, path: str) -> str:
    """One file the build published."""
    branch.refresh_from_db()
    assert branch.live_deployment is not None
    assert branch.live_deployment is not None
    return (deployed_bytes(branch.live_deployment, path) or b"").decode()


def loot(branch: Branch) -> str:
    """Everything the build published."""
    branch.refresh_from_db()
    if branch.live_deployment is None:
        return ""
    deployment = branch.live_deployment
    assert deployment is not None
    files = DeployedFile.objects.filter(deployment=deployment).order_by("path")
    return "\n".join((deployed_bytes(deployment, f.path) or b"").decode("utf-8", errors="replace") for f in files)


def built(branch: Branch, worker_log: Path, timeout: float = 120) -> tuple[Job, str]:
    job = ended(start_job(branch), timeout)
    text = log_text(job)
    assert job.status == S.SUCCEED, f"{job.status}: {job.status_reason}\n{text}\n{worker_log.read_text(errors='replace')}"
    return job, text + "\n" + loot(branch)


def test_reading_secret_key_from_the_environment_or_any_proc_environ_finds_nothing(
    hostile_worker: Path, make_repo: Callable[..., Path]
) -> None:
    secret_key = settings.SECRET_KEY
    assert len(secret_key) >= 32
    spec = site(
        "env > dist/env.txt",
        "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' > dist/proc-environ.txt || true",
        "ls /proc | grep -E '^[0-9]+$' > dist/pids.txt",
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done > dist/cmdlines.txt 2>/dev/null || true",
    )
    _, branch, _ = new_app(make_repo, spec)
    job, found = built(branch, hostile_worker)
    assert secret_key not in found
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY", "DJANGO_SETTINGS_MODULE"):
        assert f"{name}=" not in found, name
    # It sees only its own processes: bwrap's init, its shell and the few commands of the moment.
    pids = loot(branch).split("cmdlines")[0]
    assert "celery" not in found
    assert len([line for line in pids.splitlines() if line.strip().isdigit()]) < 10, pids
    assert "user build, network on" in log_text(job)


def test_reading_the_console_s_aws_secret_key_finds_none_and_a_role_gives_other_keys(
    hostile_worker: Path, make_repo: Callable[..., Path], emulator: Emulator
) -> None:
    console = aws_credentials()
    spec = site(
        'echo "id=${AWS_ACCESS_KEY_ID:-none} key=${AWS_SECRET_ACCESS_KEY:-none}" > dist/keys.txt',
        "cat ~/.aws/credentials /root/.aws/credentials > dist/files.txt 2>&1 || true",
        # The instance metadata service answers nothing either.
        "(timeout 5 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' && echo META-REACHED || echo META-BLOCKED) >> dist/keys.txt",
    )
    app, branch, _ = new_app(make_repo, spec)
    _, found = built(branch, hostile_worker)
    assert "id=none key=none" in found
    assert "META-BLOCKED" in found
    assert f"id={console.access_key}" not in found

    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    role = iam.create_role(RoleName=f"hostile-{secrets.token_hex(4)}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    App.objects.filter(pk=app.pk).update(service_role_arn=role)
    job, found = built(branch, hostile_worker)
    keys = next(line for line in found.splitlines() if line.startswith("id="))
    assert keys.startswith("id=ASIA"), keys  # STS's temporary credentials, not the console's
    assert f"id={console.access_key} " not in keys
    assert f"key={console.secret_key}" not in keys
    assert f"temporary credentials of the service role {role}" in log_text(job)


def test_reading_the_database_file_and_var_secret_key_fails(
    hostile_worker: Path, make_repo: Callable[..., Path], marker_file: tuple[Path, str]
) -> None:
    marker, value = marker_file
    database = Path(str(connection.settings_dict["NAME"]))
    targets = [marker, ROOT / "var" / "secret_key", ROOT / "var" / "console.sqlite3", ROOT / "manage.py"]
    if database.is_absolute() and database.exists():
        targets.append(database)
    reads = [
        f"(cat {t} > dist/read-{i}.txt 2>&1 && echo READ-{i} || echo DENIED-{i}) >> dist/report.txt"
        for i, t in enumerate(targets)
    ]
    spec = site(
        *reads,
        find_named(marker.name),
        # The local services: PostgreSQL (trust auth here) and Redis would hand over everything.
        "(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' && echo PG-REACHED || echo PG-BLOCKED) >> dist/report.txt",
        "(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379' && echo REDIS-REACHED || echo REDIS-BLOCKED) >> dist/report.txt",
    )
    _, branch, _ = new_app(make_repo, spec)
    _, found = built(branch, hostile_worker)
    assert value not in found
    assert published(branch, "find.txt") == ""  # find found nothing
    for index in range(len(targets)):
        assert f"DENIED-{index}" in found, (targets[index], found)
    assert "PG-BLOCKED" in found
    assert "REDIS-BLOCKED" in found
    if database.exists() and database.suffix == ".sqlite3":
        assert "SQLite format 3" not in found


def test_reading_another_running_build_s_workspace_fails(hostile_worker: Path, make_repo: Callable[..., Path]) -> None:
    value = f"victim-{secrets.token_hex(12)}"
    victim_spec = build_spec(
        frontend={"phases": {"build": {"commands": [f"echo {value} > victim-marker.txt", "echo victim-ready", "sleep 120"]}}}
    )
    _, victim, _ = new_app(make_repo, victim_spec, name="Victim")
    victim_job = start_job(victim)
    try:
        wait_for(lambda: "victim-ready" in log_text(victim_job), 90, message="the victim build to write its marker")
        workspaces = settings.BUILD_WORKSPACE_DIR
        spec = site(
            f"ls -laR {workspaces} > dist/ls.txt 2>&1 || true",
            f"cat {workspaces}/*/src/victim-marker.txt > dist/cat.txt 2>&1 || true",
            find_named("victim-marker.txt"),
            "grep -r victim- /tmp /home 2>/dev/null > dist/grep.txt || true",
        )
        _, attacker, _ = new_app(make_repo, spec, name="Attacker")
        _, found = built(attacker, hostile_worker)
        assert value not in found
        assert published(attacker, "find.txt") == ""  # find found nothing
        victim_job.refresh_from_db()
        assert victim_job.status == S.RUNNING  # the victim was not disturbed either
    finally:
        jobs.job_cancel(job=victim_job, actor=None)
    assert ended(victim_job, 30).status == S.CANCELLED


def test_writing_into_the_console_s_checkout_fails(
    hostile_worker: Path, make_repo: Callable[..., Path], marker_file: tuple[Path, str]
) -> None:
    marker, value = marker_file
    new_file = ROOT / f"isolation-write-{secrets.token_hex(6)}"
    spec = site(
        f"(echo pwned >> {marker} && echo WROTE-MARKER || echo DENIED-MARKER) >> dist/report.txt 2>&1",
        f"(touch {new_file} && echo WROTE-NEW || echo DENIED-NEW) >> dist/report.txt 2>&1",
        "(touch /usr/bin/hostile && echo WROTE-USR || echo DENIED-USR) >> dist/report.txt 2>&1",
        "(echo x >> /etc/passwd && echo WROTE-ETC || echo DENIED-ETC) >> dist/report.txt 2>&1",
    )
    _, branch, _ = new_app(make_repo, spec)
    try:
        _, found = built(branch, hostile_worker)
        for what in ("MARKER", "NEW", "USR", "ETC"):
            assert f"DENIED-{what}" in found, found
        assert marker.read_text() == value
        assert not new_file.exists()
        assert not Path("/usr/bin/hostile").exists()
    finally:
        new_file.unlink(missing_ok=True)


def test_a_fork_bomb_fails_the_build_not_the_machine(hostile_worker: Path, make_repo: Callable[..., Path]) -> None:
    spec = build_spec(
        frontend={"phases": {"build": {"commands": ["echo bomb-marker", "bomb() { bomb | bomb & }; bomb", "sleep 60"]}}}
    )
    _, branch, _ = new_app(make_repo, spec)
    job = ended(start_job(branch), 90)
    assert job.status == S.FAILED, f"{job.status}: {job.status_reason}\n{log_text(job)}"
    assert job.status_reason == (
        f"The build reached its limit of {MAX_PROCESSES} processes (BUILD_MAX_PROCESSES). Every process of the build was stopped."
    )
    assert "bomb-marker" in log_text(job)
    wait_for(lambda: build_processes(job) == [], 10, message="every process of the fork bomb to end")
    assert subprocess.run(["true"], check=False).returncode == 0  # the machine still forks


def test_writing_past_the_disk_limit_fails_the_build(hostile_worker: Path, make_repo: Callable[..., Path]) -> None:
    fill = "for i in $(seq 1 30); do head -c 10000000 /dev/zero > blob-$i; sleep 0.2; done; sleep 60"
    spec = build_spec(frontend={"phases": {"build": {"commands": ["echo filling", fill]}}})
    _, branch, _ = new_app(make_repo, spec)
    job = ended(start_job(branch), 90)
    assert job.status == S.FAILED, f"{job.status}: {job.status_reason}\n{log_text(job)}"
    assert f"more than its disk limit of {DISK_LIMIT_MB} MB (BUILD_DISK_LIMIT_MB)" in job.status_reason, job.status_reason
    assert job.status_reason.startswith("The build wrote ")


def test_one_file_larger_than_the_disk_limit_fails_the_command_and_says_which_limit(
    hostile_worker: Path, make_repo: Callable[..., Path]
) -> None:
    spec = build_spec(
        frontend={"phases": {"build": {"commands": [f"head -c {(DISK_LIMIT_MB + 1) * 1024 * 1024} /dev/zero > big"]}}}
    )
    _, branch, _ = new_app(make_repo, spec)
    job = ended(start_job(branch), 90)
    assert job.status == S.FAILED
    assert job.exit_code == 153  # SIGXFSZ
    assert f"A file reached the disk limit of {DISK_LIMIT_MB} MB (BUILD_DISK_LIMIT_MB)." in job.status_reason


def test_allocating_past_the_memory_limit_fails_the_command_and_says_which_limit(
    hostile_worker: Path, make_repo: Callable[..., Path]
) -> None:
    spec = build_spec(frontend={"phases": {"build": {"commands": ["python3 -c 'x = bytearray(2 * 1024 ** 3)'"]}}})
    _, branch, _ = new_app(make_repo, spec)
    job = ended(start_job(branch), 90)
    assert job.status == S.FAILED
    assert "MemoryError" in log_text(job)
    assert job.status_reason.endswith(
        f"A process ran out of memory: the limit is {MEMORY_LIMIT_MB} MB per process (BUILD_MEMORY_LIMIT_MB)."
    )


@contextlib.contextmanager
def console_port() -> Iterator[int]:
    """An HTTP server standing in for the console's own port."""
    with http_server(http.server.SimpleHTTPRequestHandler) as server:
        yield server.server_address[1]


def _probe(port: int, label: str) -> str:
    return (
        f"(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo {label}-REACHED || echo {label}-BLOCKED) >> dist/net.txt"
    )


@pytest.mark.parametrize("network", [False, True], ids=["network-off", "network-on"])
def test_reaching_the_console_s_own_http_port_fails_with_the_network_off_or_on(
    hostile_worker: Path, make_repo: Callable[..., Path], emulator: Emulator, network: bool
) -> None:
    emulator_port = int(emulator.endpoint_url.rsplit(":", 1)[1].strip("/"))
    with console_port() as port:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the port is really open to the console's own user
        spec = site(_probe(port, "CONSOLE"), _probe(emulator_port, "EMULATOR"))
        app, branch, _ = new_app(make_repo, spec)
        App.objects.filter(pk=app.pk).update(build_network=network)
        job, found = built(branch, hostile_worker)
    assert "CONSOLE-BLOCKED" in found, found
    # The AWS endpoint the console hands to builds stays reachable with the network on, only.
    assert ("EMULATOR-REACHED" if network else "EMULATOR-BLOCKED") in found, found
    assert ("network on" if network else "network off") in log_text(job)


def test_a_cancelled_build_leaves_no_process_even_one_that_left_its_process_group(
    hostile_worker: Path, make_repo: Callable[..., Path]
) -> None:
    spec = build_spec(
        frontend={"phases": {"build": {"commands": ["setsid sleep 300 & nohup sleep 301 & echo started", "sleep 302"]}}}
    )
    _, branch, _ = new_app(make_repo, spec)
    job = start_job(branch)
    wait_for(lambda: len(build_processes(job, "sleep")) == 3, 90, message="the build's three sleeps")
    pids = build_processes(job)
    jobs.job_cancel(job=job, actor=None)
    assert ended(job, 20).status == S.CANCELLED
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(pid_gone(pid) for pid in pids):
        time.sleep(0.2)
    assert all(pid_gone(pid) for pid in pids)
    assert outer_uid_for(job.pk) is not None
