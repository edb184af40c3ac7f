"""What the worker benchmarks share: an isolated Redis queue and cache prefix, a
tiny repository, a real worker, and reading its memory and queue."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings_test"

SPEC = 'version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n        - "true"\n'
# The run's own Celery queue and cache key prefix: workers of tests running at the same
# time on the same Redis must not take this run's tasks, nor this run's worker theirs.
ISOLATION = f"bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}


def make_repository(root: Path) -> Path:
    """A bare repository whose `main` holds a tiny amplify.yml."""
    env = {**os.environ, **GIT_ENV}
    work, bare = root / "work", root / "repo.git"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "amplify.yml").write_text(SPEC)
    subprocess.run(["git", "add", "amplify.yml"], cwd=work, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "spec"], cwd=work, check=True, env=env)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "push", "-q", str(bare), "HEAD:refs/heads/main"], cwd=work, check=True, capture_output=True)
    return bare


def by_hand(repo: Path, target: Path) -> float:
    """The baseline of the build benchmarks: clone the branch, run `true`; seconds."""
    start = time.perf_counter()
    subprocess.run(["git", "clone", "--quiet", "--single-branch", "--branch", "main", str(repo), str(target)], check=True)
    subprocess.run(["bash", "-c", "true"], check=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(target)
    return elapsed


def configure_environment(tmp: Path) -> None:
    """Before django.setup(): a fresh SQLite file, var dir and Redis for this run only."""
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CONSOLE_VAR_DIR": str(tmp / "var"),
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_QUEUE": ISOLATION,
            "CACHE_KEY_PREFIX": ISOLATION,
            "DEBUG": "0",
        }
    )


def start_worker(tmp: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    from console.worker_process import start_worker as start_celery_worker

    with (tmp / "worker.log").open("wb") as log:
        return start_celery_worker(env, "--pool", "prefork", "--concurrency", "2", name=ISOLATION, stdout=log)


def stop(process: subprocess.Popen[bytes]) -> None:
    from console.worker_process import stop_worker

    stop_worker(process)


def process_tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*"):
            with contextlib.suppress(OSError):
                pids += [int(child) for child in (task / "children").read_text().split()]
        index += 1
    return pids


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the process's peak resident set size."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def wait_for_idle_broker(url: str, timeout: float = 15.0) -> None:
    """Before stopping the worker: let it take and ack the task every job queues after it
    ends (`process_branch_queue` re-queues itself), so no message of the run is left in Redis."""
    import redis

    client = redis.Redis.from_url(url)

    def busy() -> bool:
        unacked = (json.loads(raw) for raw in client.hvals("unacked"))
        return bool(client.llen(ISOLATION)) or any(entry[2] == ISOLATION for entry in unacked)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and busy():
        time.sleep(0.05)
    client.delete(ISOLATION, f"_kombu.binding.{ISOLATION}", f"_kombu.binding_permanent.{ISOLATION}")
    client.close()
