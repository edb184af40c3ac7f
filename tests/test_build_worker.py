"""Builds end to end on a real Celery worker, real git repositories and real processes.

The worker is a separate process sharing the test database (see `live_worker` in
conftest.py); jobs started here are queued to it on the configured broker. Each test
polls the database for the outcome, the way the job page does.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from apps.branches import services
from apps.branches.models import App, Branch
from apps.branches.outputs import parse_outputs
from apps.builds import jobs
from apps.builds.models import Job, JobStep, LogChunk
from apps.builds.process import CANCEL, ProcessResult, run_script
from apps.builds.sandbox import outer_uid_for
from apps.builds.webhooks import webhook_create
from apps.secrets.scopes import Scope
from apps.secrets.services import secret_set
from conftest import post_to, queued_to_workers, wait_for, worker_env
from console.aws import aws_credentials
from console.emulator import Emulator
from console.worker_process import start_worker

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parents[1]
S = Job.Status
SHA = re.compile(r"[0-9a-f]{40}")


# --- a private broker ------------------------------------------------------------------


# --- helpers -------------------------------------------------------------------------


def build_spec(**sections: Any) -> str:
    """An amplify.yml; dumped from Python so the shell commands need no YAML quoting."""
    return yaml.safe_dump({"version": 1, **sections}, sort_keys=False, width=10_000)


def head_sha(repo: Path, branch: str = "main") -> str:
    sha = subprocess.run(
        ["git", "rev-parse", f"refs/heads/{branch}"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert SHA.fullmatch(sha), sha
    return sha


def new_app(make_repo: Callable[..., Path], spec: str, name: str = "Shop") -> tuple[App, Branch, Path]:
    repo = make_repo(("main",), {"amplify.yml": spec, "README.md": "shop\n"})
    app = services.app_create(actor=None, name=name, repository=str(repo), production_branch="main")
    return app, app.branches.get(name="main"), repo


def start_job(branch: Branch) -> Job:
    return jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")


def log_text(job: Job) -> str:
    return "".join(LogChunk.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def ended(job: Job, timeout: float) -> Job:
    def check() -> bool:
        job.refresh_from_db()
        return job.status in Job.ENDED

    wait_for(check, timeout, message=f"job #{job.job_id} to end (status {job.status})")
    return job


def step_statuses(job: Job) -> dict[str, str]:
    return dict(JobStep.objects.filter(job=job).values_list("name", "status"))


def pid_gone(pid: int) -> bool:
    """True if no such process, or only its zombie is left (it runs nothing any more)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def read_pids(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(word) for word in path.read_text().split() if word.isdigit()]


def spawner(pids: Path) -> str:
    """A command whose children and grandchildren sleep for 5 minutes; 4 pids go to `pids`
    (the child shell, its sleep, the grandchild shell, its sleep)."""
    assert re.fullmatch(r"[\w/.-]+", str(pids)), pids
    inner = f'bash -c "echo \\$\\$ >> {pids}; sleep 300 & echo \\$! >> {pids}; wait"'
    return f"bash -c 'echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; {inner} & wait'"


def build_processes(job: Job, name: str | None = None) -> list[int]:
    """Host pids of the job's sandboxed processes (it runs as a host uid of its own), by command name."""
    uid = outer_uid_for(job.pk)
    assert uid is not None, "these tests need a root worker, which runs each build as a uid of its own"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            named = name is None or (entry / "comm").read_text().strip() == name
            # A zombie runs nothing any more.
            if entry.stat().st_uid == uid and named and not pid_gone(int(entry.name)):
                found.append(int(entry.name))
    return found


def kill_leftovers(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


# --- 1. a full build: backend outputs, frontend artifacts, hosting ------------------------

OUTPUTS = {
    "version": "1.4",
    "data": {
        "aws_region": "us-east-1",
        "url": "https://abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com/graphql",
        "api_key": "da2-fakeapikey00000000000000",
        "default_authorization_type": "API_KEY",
        "authorization_types": ["AWS_IAM"],
    },
    "storage": {
        "aws_region": "us-east-1",
        "bucket_name": "shop-uploads-1234",
        "buckets": [{"name": "uploads", "bucket_name": "shop-uploads-1234", "aws_region": "us-east-1"}],
    },
}
INDEX_HTML = "<!doctype html><html><head><link rel=stylesheet href=app.css></head><body><h1>Shop</h1></body></html>"
APP_CSS = "body { color: #c00; }\n"


def test_a_build_succeeds_captures_outputs_and_serves_its_files(
    live_worker: subprocess.Popen[str], worker_output: deque[str], make_repo: Callable[..., Path]
) -> None:
    assert parse_outputs(json.dumps(OUTPUTS)) == OUTPUTS
    spec = build_spec(
        backend={
            "phases": {
                "preBuild": {"commands": ["echo backend-prebuild-marker"]},
                "build": {
                    "commands": [
                        "echo backend-build-marker",
                        f"printf '%s' '{json.dumps(OUTPUTS)}' > amplify_outputs.json",
                    ]
                },
            }
        },
        frontend={
            "phases": {
                "preBuild": {"commands": ["echo frontend-prebuild-marker"]},
                "build": {
                    "commands": [
                        "echo frontend-build-marker",
                        "mkdir -p dist",
                        f"printf '%s' '{INDEX_HTML}' > dist/index.html",
                        "printf 'body { color: #c00; }\\n' > dist/app.css",
                    ]
                },
                "postBuild": {"commands": ['echo "frontend-postbuild-marker on $AWS_BRANCH"']},
            },
            "artifacts": {"baseDirectory": "dist", "files": ["**/*"]},
        },
    )
    app, branch, repo = new_app(make_repo, spec)
    sha = head_sha(repo)

    job = ended(start_job(branch), 90)

    log = log_text(job)
    assert job.status == S.SUCCEED, f"{job.status}: {job.status_reason}\n{log}\n{''.join(worker_output)}"
    assert job.commit_id == sha
    assert job.commit_message == "first"
    assert step_statuses(job) == {"BUILD": S.SUCCEED, "DEPLOY": S.SUCCEED, "VERIFY": S.SUCCEED}
    assert job.started_at is not None
    assert job.ended_at is not None
    assert job.started_at <= job.ended_at
    for line in (
        "## Starting phase: backend preBuild",
        "backend-prebuild-marker",
        "## Starting phase: backend build",
        "backend-build-marker",
        "## Captured amplify_outputs.json (version 1.4)",
        "## Starting phase: frontend preBuild",
        "frontend-prebuild-marker",
        "frontend-build-marker",
        "## Starting phase: frontend postBuild",
        "frontend-postbuild-marker on main",
        f"## Commit {sha}",
    ):
        assert line in log, f"{line!r} missing from the log:\n{log}"
    assert log.index("backend-build-marker") < log.index("frontend-prebuild-marker") < log.index("frontend-postbuild-marker")

    branch.refresh_from_db()
    assert branch.backend_outputs == OUTPUTS
    assert branch.backend_outputs_job_id == job.pk
    assert branch.live_deployment is not None
    assert branch.live_deployment.job_id == job.pk

    host = f"main.{app.app_id}.localhost:8000"
    page = Client().get("/", HTTP_HOST=host)
    assert page.status_code == 200
    assert page.content == INDEX_HTML.encode()
    assert page["Content-Type"] == "text/html; charset=utf-8"
    css = Client().get("/app.css", HTTP_HOST=host)
    assert css.status_code == 200
    assert css.content == APP_CSS.encode()
    assert css["Content-Type"] == "text/css; charset=utf-8"
    assert Client().get("/missing.js", HTTP_HOST=host).status_code == 404


# --- 2. failures: a failing command, an invalid spec ------------------------------------


def test_a_failing_command_and_an_invalid_spec_fail_the_job(
    live_worker: subprocess.Popen[str], worker_output: deque[str], make_repo: Callable[..., Path]
) -> None:
    failing = build_spec(
        frontend={
            "phases": {
                "preBuild": {"commands": ["echo before-failure-marker", "exit 3", "echo after-failure-marker"]},
                "build": {"commands": ["echo build-never-marker"]},
            },
            "artifacts": {"baseDirectory": "dist", "files": ["**/*"]},
        }
    )
    invalid = "version: 1\nfrontend:\n  phases:\n    biuld:\n      commands:\n        - echo spec-never-marker\n"
    _, failing_branch, _ = new_app(make_repo, failing, "Failing")
    _, invalid_branch, _ = new_app(make_repo, invalid, "Invalid")
    failing_job, invalid_job = start_job(failing_branch), start_job(invalid_branch)

    ended(failing_job, 90)
    log = log_text(failing_job)
    assert failing_job.status == S.FAILED, f"{failing_job.status}: {failing_job.status_reason}\n{''.join(worker_output)}"
    assert failing_job.exit_code == 3
    assert failing_job.failed_command == "exit 3"
    assert failing_job.status_reason == "Command failed with exit code 3: exit 3"
    assert "before-failure-marker" in log
    assert "# Executing command: exit 3" in log
    assert "after-failure-marker" not in log
    assert "build-never-marker" not in log
    assert step_statuses(failing_job)["BUILD"] == S.FAILED
    failing_branch.refresh_from_db()
    assert failing_branch.live_deployment is None

    ended(invalid_job, 90)
    assert invalid_job.status == S.FAILED
    assert "biuld" in invalid_job.status_reason, invalid_job.status_reason
    assert "unknown key" in invalid_job.status_reason
    assert "spec-never-marker" not in log_text(invalid_job)
    assert "biuld" in log_text(invalid_job)


# --- 3. cancel and timeout end every process of the build --------------------------------


def test_cancel_stops_a_running_build_and_all_its_descendants(
    live_worker: subprocess.Popen[str], worker_output: deque[str], make_repo: Callable[..., Path]
) -> None:
    # The build's children and grandchildren sleep; one even leaves the process group.
    inner = 'bash -c "sleep 300 & setsid sleep 301 & wait"'
    spec = build_spec(frontend={"phases": {"build": {"commands": ["echo cancel-me-marker", f"{inner} & sleep 302 & wait"]}}})
    _, branch, _ = new_app(make_repo, spec)
    job = start_job(branch)
    pids: list[int] = []
    try:

        def running_with_children() -> bool:
            job.refresh_from_db()
            assert job.status not in Job.ENDED, f"{job.status}: {job.status_reason}\n{''.join(worker_output)}"
            return job.status == S.RUNNING and len(build_processes(job, "sleep")) == 3

        wait_for(running_with_children, 90, message="the build to run with its 3 sleeping descendants")
        pids = build_processes(job)
        wait_for(lambda: Job.objects.filter(pk=job.pk, process_group__isnull=False).exists(), 10)
        job.refresh_from_db()
        sandbox = job.process_group
        assert sandbox is not None
        assert not any(pid_gone(pid) for pid in [sandbox, *pids])

        cancelled_at = time.monotonic()
        assert jobs.job_cancel(job=job, actor=None).status == S.CANCELLING
        ended(job, 15)
        assert job.status == S.CANCELLED, job.status_reason
        assert time.monotonic() - cancelled_at < 15
        assert job.status_reason == "Cancelled: every process of the build was stopped."
        assert step_statuses(job)["BUILD"] == S.CANCELLED
        assert "cancel-me-marker" in log_text(job)
        alive = [pid for pid in [sandbox, *pids] if not pid_gone(pid)]
        assert not alive, f"still running after the cancel: {alive}"
        wait_for(lambda: build_processes(job) == [], 5, message="no process of the build's user to be left")
    finally:
        kill_leftovers(pids)


def _script(tmp_path: Path, command: str) -> Path:
    script = tmp_path / "phase.sh"
    script.write_text(f"set -e\necho started\n{command}\necho never-reached\n")
    return script


def test_run_script_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids_file = tmp_path / "timeout-pids"
    output: list[str] = []
    started = time.monotonic()
    result = run_script(
        ["bash", str(_script(tmp_path, spawner(pids_file)))],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        on_output=output.append,
        on_tick=lambda pgid: None,
        deadline=started + 2,
    )
    pids = read_pids(pids_file)
    try:
        assert result.timed_out
        assert not result.cancelled
        assert result.exit_code != 0
        # 2 s to the deadline, then kill_group. (It always sits out its 5 s grace: the shell,
        # dead but not yet reaped by run_script, keeps `killpg(pgid, 0)` succeeding.)
        assert time.monotonic() - started < 10
        assert len(pids) == 4, pids
        assert all(pid_gone(pid) for pid in pids), [pid for pid in pids if not pid_gone(pid)]
        assert "started\n" in output
        assert "never-reached\n" not in output
    finally:
        kill_leftovers(pids)


def run_spawner(tmp_path: Path, pids_file: Path, tick: Callable[[int], str | None]) -> ProcessResult:
    """run_script on a spawner's script, ticking every 0.2 s, for at most a minute."""
    return run_script(
        ["bash", str(_script(tmp_path, spawner(pids_file)))],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        on_output=lambda text: None,
        on_tick=tick,
        deadline=time.monotonic() + 60,
        tick_seconds=0.2,
    )


def test_run_script_kills_the_whole_process_group_when_watching_it_fails(tmp_path: Path) -> None:
    pids_file = tmp_path / "raise-pids"

    def tick(pgid: int) -> str | None:
        if len(read_pids(pids_file)) == 4:
            raise RuntimeError("the database went away")
        return None

    with pytest.raises(RuntimeError, match="the database went away"):
        run_spawner(tmp_path, pids_file, tick)
    pids = read_pids(pids_file)
    try:
        assert len(pids) == 4, pids
        assert all(pid_gone(pid) for pid in pids), [pid for pid in pids if not pid_gone(pid)]
    finally:
        kill_leftovers(pids)


def test_run_script_cancel_through_on_tick_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids_file = tmp_path / "tick-pids"
    groups: list[int] = []

    def tick(pgid: int) -> str | None:
        groups.append(pgid)
        return CANCEL if len(read_pids(pids_file)) == 4 else None

    result = run_spawner(tmp_path, pids_file, tick)
    pids = read_pids(pids_file)
    try:
        assert result.cancelled
        assert not result.timed_out
        assert len(pids) == 4, pids
        assert len(set(groups)) == 1
        assert all(pid_gone(pid) for pid in [groups[0], *pids]), [pid for pid in pids if not pid_gone(pid)]
    finally:
        kill_leftovers(pids)


# --- 4. a worker killed mid-build: the reaper fails the job, the queue goes on ------------


def _start_worker(emulator: Emulator, output: Path, *options: str) -> subprocess.Popen[bytes]:
    env = worker_env(emulator, BUILD_HEARTBEAT_TIMEOUT_SECONDS="4", BUILD_REAPER_INTERVAL_SECONDS="2")
    with output.open("wb") as sink:
        return start_worker(env, *options, name=output.stem, stdout=sink)


@pytest.fixture
def reaper_workers(transactional_db: None, emulator: Emulator, settings: Any) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Workers the test starts itself (stopped at the end), with a 4 s heartbeat timeout."""
    settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS = 4
    with queued_to_workers(emulator, settings) as workers:
        yield workers


def test_kill_9_of_the_worker_ends_every_build_process_its_job_is_reaped_and_the_next_runs(
    reaper_workers: list[subprocess.Popen[bytes]], emulator: Emulator, make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    long_or_quick = (
        'if [ "$AWS_JOB_ID" = 0000000001 ]; then sleep 300 & setsid sleep 301 & wait; else echo quick-build-marker; fi'
    )
    spec = build_spec(frontend={"phases": {"build": {"commands": ["echo killed-build-marker", long_or_quick]}}})
    _, branch, repo = new_app(make_repo, spec)
    logs = {name: tmp_path / f"{name}.log" for name in ("worker1", "worker2")}

    def worker_logs() -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs.values() if p.exists())

    worker1 = _start_worker(emulator, logs["worker1"], "--pool", "solo")
    reaper_workers.append(worker1)
    first = start_job(branch)
    pids: list[int] = []
    try:

        def first_running() -> bool:
            first.refresh_from_db()
            assert first.status not in Job.ENDED, f"{first.status}: {first.status_reason}\n{worker_logs()}"
            assert worker1.poll() is None, worker_logs()
            return first.status == S.RUNNING and len(build_processes(first, "sleep")) == 2

        wait_for(first_running, 90, message="the long build to run")
        pids = build_processes(first)
        assert first.worker.endswith(f":{worker1.pid}"), first.worker
        second = start_job(branch)

        os.kill(worker1.pid, signal.SIGKILL)
        worker1.wait(timeout=10)
        killed_at = time.monotonic()
        worker2 = _start_worker(
            emulator, logs["worker2"], "--pool", "prefork", "--concurrency", "2", "-B", "--schedule", str(tmp_path / "beat")
        )
        reaper_workers.append(worker2)

        ended(first, 20)
        assert first.status == S.FAILED, f"{first.status}: {first.status_reason}\n{worker_logs()}"
        assert time.monotonic() - killed_at < 20
        assert "stopped" in first.status_reason, first.status_reason
        assert f":{worker1.pid})" in first.status_reason, first.status_reason
        assert "heartbeat" in first.status_reason
        assert step_statuses(first)["BUILD"] == S.FAILED

        ended(second, 60)
        assert second.status == S.SUCCEED, f"{second.status}: {second.status_reason}\n{worker_logs()}"
        assert first.ended_at is not None
        assert second.started_at is not None
        assert second.started_at >= first.ended_at
        assert second.commit_id == head_sha(repo)
        assert "quick-build-marker" in log_text(second)
        assert worker2.poll() is None

        # The sandbox had PR_SET_PDEATHSIG and a PID namespace of its own: the kernel
        # ended every process of the build with the worker, even one that left its group.
        assert all(pid_gone(pid) for pid in pids), [pid for pid in pids if not pid_gone(pid)]
        wait_for(lambda: build_processes(first) == [], 5, message="no process of the build's user to be left")
    finally:
        kill_leftovers(pids)


# --- 5. many webhook calls at once: every one becomes a job, run one at a time in order --


def test_fifty_concurrent_webhook_calls_make_fifty_jobs_run_in_order(
    live_worker: subprocess.Popen[str],
    worker_output: deque[str],
    live_server: Any,
    settings: Any,
    make_repo: Callable[..., Path],
) -> None:
    settings.WEBHOOK_RATE_LIMIT_PER_MINUTE = 1000  # the rate counter lives in the shared cache
    # Django's test server listens with a backlog of 10 (WSGIServer.request_queue_size):
    # of 50 simultaneous connections about half are reset before Django sees them. The
    # console runs under gunicorn (backlog 2048); give the test server a real backlog.
    live_server.thread.httpd.socket.listen(128)
    spec = build_spec(
        frontend={
            "phases": {"build": {"commands": ["mkdir -p out && echo hook-build-marker > out/index.html"]}},
            "artifacts": {"baseDirectory": "out", "files": ["**/*"]},
        }
    )
    _, branch, repo = new_app(make_repo, spec)
    sha = head_sha(repo)
    webhook = webhook_create(actor=None, branch=branch, name="ci")
    base = f"{live_server.url}/webhooks"
    url = f"{base}?id={webhook.webhook_id}&token={webhook.token}&operation=startbuild"

    assert post_to(f"{base}?id={webhook.webhook_id}&token=wrong-{webhook.token}&operation=startbuild")[0] == 403
    assert post_to(f"{base}?id={webhook.webhook_id}&operation=startbuild")[0] == 403
    assert post_to(f"{base}?id=no-such-webhook&token={webhook.token}&operation=startbuild")[0] == 403
    assert post_to(f"{base}?id={webhook.webhook_id}&token={webhook.token}&operation=deletebranch")[0] == 400
    assert post_to(f"{base}?id={webhook.webhook_id}&token={webhook.token}")[0] == 400
    assert not Job.objects.filter(branch=branch).exists()

    barrier = threading.Barrier(50)

    def call(_: int) -> tuple[int, dict[str, Any]]:
        barrier.wait(timeout=30)
        return post_to(url)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(call, range(50)))
    assert [status for status, _ in answers] == [202] * 50, answers
    summaries = [body["jobSummary"] for _, body in answers]
    assert sorted(int(s["jobId"]) for s in summaries) == list(range(1, 51))
    assert {s["jobType"] for s in summaries} == {"WEB_HOOK"}
    # A webhook call never waits on git: each job's worker resolves the head when it clones.
    assert {s["commitId"] for s in summaries} == {""}

    def all_ended() -> bool:
        return Job.objects.filter(branch=branch).exclude(status__in=Job.ENDED).count() == 0

    wait_for(all_ended, 180, interval=1, message="the 50 webhook jobs to end")
    built = list(Job.objects.filter(branch=branch).order_by("job_id"))
    assert [j.job_id for j in built] == list(range(1, 51))
    assert {j.job_type for j in built} == {Job.Type.WEB_HOOK}
    failed = [(j.job_id, j.status, j.status_reason) for j in built if j.status != S.SUCCEED]
    assert not failed, f"{failed}\n{''.join(worker_output)}"
    assert {j.commit_id for j in built} == {sha}
    for previous, current in itertools.pairwise(built):
        assert previous.ended_at is not None
        assert current.started_at is not None
        assert current.started_at >= previous.ended_at, f"#{current.job_id} started before #{previous.job_id} ended"
    branch.refresh_from_db()
    assert branch.live_deployment is not None
    assert branch.live_deployment.job_id == built[-1].pk
    assert Job.objects.filter(branch=branch).count() == 50


# --- 6. secrets printed by a build are masked in the stored log -------------------------


def test_a_build_gets_no_console_credentials_and_its_secrets_are_masked(
    live_worker: subprocess.Popen[str], worker_output: deque[str], emulator: Emulator, make_repo: Callable[..., Path]
) -> None:
    console_secret = aws_credentials().secret_key
    spec = build_spec(
        frontend={
            "phases": {
                "build": {
                    "commands": [
                        'echo "key=${AWS_SECRET_ACCESS_KEY:-none}"',
                        'echo "endpoint=$AWS_ENDPOINT_URL"',
                        'echo "secrets=$secrets"',
                    ]
                }
            }
        }
    )
    app, branch, _ = new_app(make_repo, spec)
    secret_value = "hunter2-branch-secret-value"
    secret_set(actor=None, scope=Scope("branch", app.app_id, "main"), name="STRIPE_KEY", value=secret_value)
    job = ended(start_job(branch), 90)
    log = log_text(job)
    assert job.status == S.SUCCEED, f"{job.status}: {job.status_reason}\n{log}\n{''.join(worker_output)}"
    # No service role: no AWS credentials at all, and the log says so.
    assert "key=none" in log
    assert f"key={console_secret}" not in log
    assert "No service role: the build has no AWS credentials" in log
    assert f"endpoint={emulator.endpoint_url}" in log
    # The branch secret reached the build (it printed it) and the stored log masks it.
    assert "STRIPE_KEY" in log
    assert secret_value not in log


# --- 7. a branch disconnected or an app deleted while its build runs ----------------------


@pytest.mark.parametrize("removed", ["branch", "app"])
def test_removing_the_branch_or_app_of_a_running_build_stops_the_build_without_an_error(
    live_worker: subprocess.Popen[str], worker_output: deque[str], make_repo: Callable[..., Path], removed: str
) -> None:
    spec = build_spec(frontend={"phases": {"build": {"commands": ["echo running-marker", "sleep 300 & sleep 301"]}}})
    app, branch, _ = new_app(make_repo, spec)
    job = start_job(branch)
    wait_for(lambda: len(build_processes(job, "sleep")) == 2, 90, message="the build's sleeps")
    pids = build_processes(job)
    try:
        if removed == "branch":
            services.branch_disconnect(actor=None, branch=branch, confirm_name=branch.name)
        else:
            services.app_delete(actor=None, app=app, confirm_name=app.name)
        wait_for(lambda: all(pid_gone(pid) for pid in pids), 15, message="the build's processes to stop")
        time.sleep(1)  # the runner's last words, if it had any, reach the worker's output
        output = "".join(worker_output)
        assert "Internal error" not in output
        assert "crashed" not in output
        assert f"job {job.pk} was removed while it ran" in output
        assert not Job.objects.filter(pk=job.pk).exists()
    finally:
        kill_leftovers(pids)
