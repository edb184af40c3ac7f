"""A real Next.js app, end to end on real processes: a Celery worker builds
examples/nextjs-app with the real `npm ci` and `next build` in the build sandbox, `manage.py
hostd` runs its standalone server in the same sandbox, and the edge in front of gunicorn serves
the branch URL (as `make run` and docker-compose do).

Proven here: the server-rendered page is fresh on every request and reads
amplify_outputs.json at run time; route handlers answer; a streamed response reaches the
visitor chunk by chunk; static assets come from the hosting store without any server (they
are still served after hostd and its servers are gone). Pages the server renders go from the
edge straight to it; static files, and everything through gunicorn alone, are the console's.

npm's cache travels in the branch's build cache (cache.paths `.npm/**/*`, as Amplify's docs
advise); between test runs it is kept in ~/.cache/amplify-console-tests (or
CONSOLE_TEST_CACHE), handed to the branch before its build and taken back after, so only the
first run on a machine downloads Next.js.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import BuildCache, Job
from apps.builds.sandbox import isolation_problem
from apps.hosting import store
from apps.hosting.models import DeployedFile
from conftest import drain_output, queued_to_workers, wait_for, worker_env
from console.emulator import Emulator
from console.worker_process import start_worker
from tests.test_hosting_worker import edge, fetch, web

__all__ = ["edge", "web"]

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="Node.js and npm are not installed"),
    pytest.mark.skipif(isolation_problem() is not None, reason=f"builds cannot be isolated here: {isolation_problem()}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="builds with the network on are guarded only under a root worker"),
]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "nextjs-app"
KEPT_CACHE = (
    Path(os.environ.get("CONSOLE_TEST_CACHE") or Path.home() / ".cache" / "amplify-console-tests") / "nextjs-build-cache.tar.gz"
)
DATA_URL = "https://api.example.test/graphql"
OUTPUTS = {"version": "1.4", "data": {"url": DATA_URL, "aws_region": "us-east-1"}}
S = Job.Status


def frontend_spec() -> str:
    """The example's spec without its backend phase (the stand-in is tested elsewhere): the
    build writes amplify_outputs.json itself, as a backend phase would."""
    spec = yaml.safe_load((EXAMPLE / "amplify.yml").read_text())
    spec.pop("backend", None)
    spec["frontend"]["phases"]["preBuild"]["commands"].append(f"echo '{json.dumps(OUTPUTS)}' > amplify_outputs.json")
    return yaml.safe_dump(spec, sort_keys=False, width=10_000)


@pytest.fixture
def compute_dir() -> Iterator[Path]:
    folder = ROOT / "var" / f"compute-test-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)  # noqa: S103 - its servers' users pass through it
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def live_worker(transactional_db: None, emulator: Emulator, settings: Any, compute_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """The worker (builds) and hostd (servers) of one machine, sharing COMPUTE_DIR."""
    settings.COMPUTE_DIR = compute_dir
    env = worker_env(emulator, COMPUTE_DIR=str(compute_dir), BUILD_CACHE_MAX_BYTES=str(600 * 1024 * 1024))
    with queued_to_workers(emulator, settings) as workers:
        worker = start_worker(env, "--pool", "prefork", "--concurrency", "1", name="nextjs-worker")
        workers.append(worker)
        worker.output_tail = drain_output(worker)  # type: ignore[attr-defined]
        hostd = subprocess.Popen(
            [sys.executable, "manage.py", "hostd"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        hostd.output_tail = drain_output(hostd)  # type: ignore[attr-defined]
        wait_for(lambda: (compute_dir / "hostd.sock").exists(), 60, message="hostd did not start")
        worker.hostd = hostd  # type: ignore[attr-defined]
        try:
            yield worker
        finally:
            hostd.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                hostd.wait(20)


def new_app(make_repo: Callable[..., Path]) -> tuple[App, Branch]:
    files = {
        str(path.relative_to(EXAMPLE)): path.read_text()
        for path in EXAMPLE.rglob("*")
        if path.is_file() and not {"node_modules", ".next", ".npm"} & set(path.relative_to(EXAMPLE).parts)
    }
    files["amplify.yml"] = frontend_spec()
    repo = make_repo(("main",), files)
    app = services.app_create(actor=None, name="Next", repository=str(repo), production_branch="main")
    App.objects.filter(pk=app.pk).update(build_network=True)
    return app, app.branches.get(name="main")


def hand_over_kept_cache(branch: Branch) -> None:
    if KEPT_CACHE.exists():
        data = KEPT_CACHE.read_bytes()
        store.ensure_bucket()
        store.put_blob(store.cache_key(branch.pk), data)
        BuildCache.objects.create(branch=branch, in_bucket=True, size=len(data))


def keep_cache(branch: Branch) -> None:
    data = store.get_blob(store.cache_key(branch.pk))
    if data:
        KEPT_CACHE.parent.mkdir(parents=True, exist_ok=True)
        partial = KEPT_CACHE.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(KEPT_CACHE)


def built(branch: Branch, worker: subprocess.Popen[str]) -> Job:
    job = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")

    def ended() -> Job | None:
        return Job.objects.filter(pk=job.pk, status__in=(S.SUCCEED, S.FAILED, S.CANCELLED)).first()

    done = wait_for(ended, 900, interval=1.0)
    assert done is not None
    log = "".join(done.log_chunks.values_list("text", flat=True))
    tails = "".join(worker.output_tail) + "".join(worker.hostd.output_tail)  # type: ignore[attr-defined]
    assert done.status == S.SUCCEED, f"{done.status}: {done.status_reason}\n{log[-6000:]}\n{tails[-4000:]}"
    done.log_text = log  # type: ignore[attr-defined]
    return done


def chunk_arrivals(base: str, host: str, path: str) -> list[tuple[float, bytes]]:
    """The body's pieces as they arrive on the socket, with the time each came."""
    _, port = base.rsplit(":", 1)
    arrivals: list[tuple[float, bytes]] = []
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        while piece := connection.recv(65536):
            arrivals.append((time.monotonic(), piece))
    return arrivals


def test_a_real_next_js_app_is_built_served_fresh_streamed_and_its_assets_come_from_the_store(
    live_worker: subprocess.Popen[str], web: str, edge: str, make_repo: Callable[..., Path]
) -> None:
    console = web  # gunicorn alone
    web = edge  # the front door, as deployed
    app, branch = new_app(make_repo)
    hand_over_kept_cache(branch)
    job = built(branch, live_worker)
    keep_cache(branch)
    log = job.log_text  # type: ignore[attr-defined]
    assert re.search(r"## Server-rendered app \(WEB_COMPUTE, next 15\.\d+\.\d+\): \d+ static files", log), log[-3000:]
    assert "## Server answered GET / with 200 OK" in log
    host = f"main.{app.app_id}.localhost"

    # Server-rendered on every request, reading amplify_outputs.json and the branch at run time.
    times = []
    for _ in range(2):
        status, headers, body = fetch(web, host, "/")
        page = body.decode()
        assert status == 200, page[:2000]
        times.append(re.search(r'id="request-time"[^>]*>([^<]+)<', page).group(1))  # type: ignore[union-attr]
        assert 'id="data-url"' in page
        assert DATA_URL in page
        assert re.search(r'id="branch"[^>]*>main<', page)
        time.sleep(0.01)
    assert times[0] != times[1]
    # The edge passed those to the server itself (gunicorn signs what it answers)...
    assert "server" not in headers, headers
    # ...and gunicorn alone serves the same page through the console's own proxy.
    status, headers, body = fetch(console, host, "/")
    assert status == 200
    assert headers["server"] == "gunicorn"
    assert b'id="request-time"' in body

    status, _, body = fetch(web, host, "/api/time")
    assert status == 200
    assert json.loads(body)["branch"] == "main"
    status, _, body = fetch(web, host, "/about")
    assert status == 200
    assert b'id="static-page"' in body

    # A streamed response: three chunks, 400 ms apart at the server, arrive apart at the visitor.
    arrivals = chunk_arrivals(web, host, "/stream")
    whole = b"".join(piece for _, piece in arrivals)
    assert b"chunk 1\n" in whole
    assert b"chunk 3\n" in whole
    seen: dict[str, float] = {}
    so_far = b""
    for at, piece in arrivals:
        so_far += piece
        for name in ("chunk 1", "chunk 3"):
            if name.encode() in so_far and name not in seen:
                seen[name] = at
    assert seen["chunk 3"] - seen["chunk 1"] >= 0.6, arrivals

    # Static assets: from the store, with Next's immutable caching, no server involved.
    branch.refresh_from_db()
    deployed = set(DeployedFile.objects.filter(deployment=branch.live_deployment_id).values_list("path", flat=True))
    asset = next(path for path in sorted(deployed) if path.startswith("_next/static/") and path.endswith(".js"))
    assert "logo.svg" in deployed
    live_worker.hostd.terminate()  # type: ignore[attr-defined]
    live_worker.hostd.wait(30)  # type: ignore[attr-defined]
    status, headers, body = fetch(web, host, "/" + asset)
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["server"] == "gunicorn"  # a static file: the edge handed it to the console
    assert body
    status, _, body = fetch(web, host, "/logo.svg")
    assert status == 200
    assert body.startswith(b"<svg")
    status, headers, body = fetch(web, host, "/")
    assert status == 503  # the page needs its server, which is gone with hostd: the console says so
    assert b"not running on this machine" in body, body
