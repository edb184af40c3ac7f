"""Starting and stopping Celery worker processes from Python: tests and
benchmarks run real workers that share their database and broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for the database Django is connected to (e.g. the test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{user}:{password}@{host}:{port}/{settings_dict['NAME']}"


def start_worker(
    env: dict[str, str],
    *options: str,
    name: str = "worker",
    stdout: int | IO[Any] | None = subprocess.PIPE,
) -> subprocess.Popen[Any]:
    """`celery -A console worker` with `env` on top of this process's environment.

    Without mingle, gossip and worker heartbeats: they only slow start-up here.
    """
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "console",
        "worker",
        *options,
        "--loglevel",
        "INFO",
        "--hostname",
        f"{name}-{os.getpid()}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=stdout, stderr=subprocess.STDOUT, text=stdout == subprocess.PIPE
    )


def stop_worker(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Warm shutdown (SIGTERM); killed if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
