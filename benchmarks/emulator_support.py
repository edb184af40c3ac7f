"""What the benchmarks against the embedded emulator share: a tiny repository, the
environment set before django.setup(), the run between starting and stopping a moto
server, timing, API call counting and the printed forms of figures."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings_test"

GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}


def make_repository(root: Path) -> Path:
    """A bare repository with one commit on `main`."""
    env = {**os.environ, **GIT_ENV}
    work, bare = root / "work", root / "repo.git"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "README.md").write_text("bench\n")
    subprocess.run(["git", "add", "README.md"], cwd=work, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "first"], cwd=work, check=True, env=env)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "push", "-q", str(bare), "HEAD:refs/heads/main"], cwd=work, check=True, capture_output=True)
    return bare


def configure_environment(tmp: Path, endpoint_url: str, extra: dict[str, str] | None = None) -> None:
    """Before django.setup(): a fresh SQLite file and var dir, the emulator's endpoint and credentials."""
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CONSOLE_VAR_DIR": str(tmp / "var"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DEBUG": "0",
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            **(extra or {}),
        }
    )


# Between the emulator and the console: given the emulator's URL, the URL to use and how to stop it.
Proxy = Callable[[str], tuple[str, Callable[[], None]]]


@dataclass(frozen=True)
class Emulated:
    tmp: Path  # the run's temporary directory (database, var dir)
    endpoint_url: str  # what the console talks to (the proxy, if any)
    emulator_url: str  # the moto server itself


@contextlib.contextmanager
def django_on_emulator(prefix: str, *, proxy: Proxy | None = None, extra_env: dict[str, str] | None = None) -> Iterator[Emulated]:
    """A moto server, Django set up against it (through `proxy` if given) in a temporary
    directory; stops and removes everything after."""
    from console.emulator import start_emulator

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    emulator = None
    stop_proxy: Callable[[], None] | None = None
    try:
        emulator = start_emulator()
        endpoint_url = emulator.endpoint_url
        if proxy is not None:
            endpoint_url, stop_proxy = proxy(emulator.endpoint_url)
        configure_environment(tmp, endpoint_url, extra_env)
        import django

        django.setup()
        from django.db import connections

        # boto3 says "Found credentials in environment variables." once per client otherwise.
        logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
        try:
            yield Emulated(tmp=tmp, endpoint_url=endpoint_url, emulator_url=emulator.endpoint_url)
        finally:
            connections.close_all()
    finally:
        if stop_proxy is not None:
            stop_proxy()
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def peak_growth(fn: Callable[[], Any]) -> tuple[int, Any]:
    """tracemalloc: the peak of traced memory during fn minus the traced memory before it."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - before, result


class CallCounter:
    """Counts the API calls of the botocore clients it watches (their `before-call`
    event), from any thread."""

    def __init__(self, *clients: Any) -> None:
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        for client in clients:
            self.watch(client)

    def watch(self, client: Any) -> Any:
        """Count `client`'s calls too (once, however often it is handed in)."""
        counters = client.__dict__.setdefault("_bench_counters", set())
        if id(self) not in counters:
            client.meta.events.register("before-call", self._seen)
            counters.add(id(self))
        return client

    def _seen(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def take(self) -> dict[str, int]:
        with self._lock:
            calls, self.calls = self.calls, {}
        return calls


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def calls_text(made: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(made.items())) or "none"
