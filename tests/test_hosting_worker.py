"""Hosting end to end on real processes: a Celery worker builds and publishes to the
emulator's bucket (a moto server process), gunicorn serves the branch URL over HTTP.

What is proven here: the bytes a visitor gets are the built ones; revalidation (304),
ranges (206) and the pre-compressed variant by Accept-Encoding work over a real HTTP
server; redeploying an old job and rebuilding the same content store no new objects;
and the collector, run over and over while a build publishes, deletes only what no
deployment references.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
import yaml
from django.conf import settings as django_settings

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from apps.hosting import retention, store
from apps.hosting.models import DeployedFile
from conftest import stop_process, wait_for, worker_env
from console.emulator import Emulator, free_port

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parents[1]
S = Job.Status
# 300 KB of text (compressible, larger than the in-memory cache's 256 KiB limit: streamed).
BIG_TEXT_COMMAND = (
    "python3 -c \"import sys; sys.stdout.write(''.join(f'line {i} of the app bundle\\n' for i in range(12000)))\" > dist/app.js"
)


def spec(marker: str, *, sleep: int = 0) -> str:
    commands = [
        "mkdir -p dist/assets",
        f"printf '<!doctype html><title>{marker}</title><h1>{marker}</h1>' > dist/index.html",
        BIG_TEXT_COMMAND,
        "printf 'shared logo bytes' > dist/assets/logo.png",
    ]
    if sleep:
        commands.append(f"sleep {sleep}")
    return yaml.safe_dump(
        {
            "version": 1,
            "frontend": {"phases": {"build": {"commands": commands}}, "artifacts": {"baseDirectory": "dist", "files": ["**/*"]}},
        },
        sort_keys=False,
        width=10_000,
    )


@pytest.fixture
def web(live_worker: subprocess.Popen[str], emulator: Emulator) -> Iterator[str]:
    """gunicorn serving the console (and so the branch URLs) on the test database and emulator."""
    port = free_port()
    # Where this machine's compute supervisor listens (a test may have one of its own).
    env = {**os.environ, **worker_env(emulator), "COMPUTE_DIR": str(django_settings.COMPUTE_DIR)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2).close()
        except OSError:
            return process.poll() is not None  # stop waiting if it died (asserted below)
        return True

    wait_for(up, 30, message="gunicorn did not start")
    assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
    try:
        yield base
    finally:
        stop_process(process)


@pytest.fixture
def edge(web: str, emulator: Emulator) -> Iterator[str]:
    """The edge (`manage.py edge`) in front of `web`, as `make run` and docker-compose serve the console."""
    port = free_port()
    env = {**os.environ, **worker_env(emulator), "COMPUTE_DIR": str(django_settings.COMPUTE_DIR)}
    command = [sys.executable, "manage.py", "edge", "--bind", f"127.0.0.1:{port}", "--console", web.removeprefix("http://")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # "edge: listening on ..." once it accepts connections
    assert "listening on" in line, line + process.stdout.read()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def fetch(base: str, host: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(base + path, headers={"Host": host, **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def new_app(make_repo: Callable[..., Path], text: str) -> tuple[App, Branch, Path]:
    repo = make_repo(("main",), {"amplify.yml": text})
    app = services.app_create(actor=None, name="Site", repository=str(repo), production_branch="main")
    return app, app.branches.get(name="main"), repo


def commit(repo: Path, files: dict[str, str], message: str) -> None:
    """A new commit on main of the bare repository `repo`."""
    work = repo.parent / f"work-{message.replace(' ', '-')}"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(repo), str(work)], check=True)
    for name, text in files.items():
        (work / name).write_text(text)
    identity = ["-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", *identity, "commit", "-qam", message], cwd=work, check=True)
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=work, check=True)


def run_job(branch: Branch, timeout: float = 120, job: Job | None = None) -> Job:
    started = job or jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")

    def ended() -> Job | None:
        return Job.objects.filter(pk=started.pk, status__in=(S.SUCCEED, S.FAILED, S.CANCELLED)).first()

    done = wait_for(ended, timeout)
    assert done is not None
    assert done.status == S.SUCCEED, f"{done.status}: {done.status_reason}"
    return done


def stored_keys() -> set[str]:
    return {key for key, _ in store.iter_objects(store.OBJECTS)}


def test_a_build_publishes_to_the_bucket_and_the_branch_url_serves_it_over_http(web: str, make_repo: Callable[..., Path]) -> None:
    app, branch, _ = new_app(make_repo, spec("first"))
    run_job(branch)
    branch.refresh_from_db()
    assert branch.live_deployment is not None
    files = {f.path: f for f in DeployedFile.objects.filter(deployment=branch.live_deployment)}
    assert set(files) == {"index.html", "app.js", "assets/logo.png"}
    assert all(f.content is None and len(f.sha256) == 64 for f in files.values())  # only the manifest in the database
    keys = stored_keys()
    assert {store.object_key(f.sha256) for f in files.values()} <= keys
    assert store.object_key(files["app.js"].sha256, "br") in keys  # compressible: variants stored
    assert store.object_key(files["assets/logo.png"].sha256, "br") not in keys  # too small to be worth it

    host = f"main.{app.app_id}.localhost"
    status, headers, body = fetch(web, host, "/app.js")
    expected = "".join(f"line {i} of the app bundle\n" for i in range(12000)).encode()
    assert (status, body) == (200, expected)
    assert hashlib.sha256(body).hexdigest() == files["app.js"].sha256
    assert headers["etag"] == f'"{files["app.js"].sha256[:40]}"'
    assert headers["cache-control"] == "public, max-age=0, must-revalidate"

    status, _, body = fetch(web, host, "/app.js", **{"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")

    status, ranged, body = fetch(web, host, "/app.js", Range="bytes=100-199")
    assert (status, body, ranged["content-range"]) == (206, expected[100:200], f"bytes 100-199/{len(expected)}")

    status, encoded, body = fetch(web, host, "/app.js", **{"Accept-Encoding": "br, gzip"})
    assert (status, encoded["content-encoding"], encoded["vary"]) == (200, "br", "Accept-Encoding")
    assert brotli.decompress(body) == expected
    assert len(body) < len(expected) / 5
    status, encoded, body = fetch(web, host, "/app.js", **{"Accept-Encoding": "gzip"})
    assert (status, encoded["content-encoding"], gzip.decompress(body)) == (200, "gzip", expected)

    status, _, body = fetch(web, host, "/")
    assert (status, body) == (200, b"<!doctype html><title>first</title><h1>first</h1>")


def test_redeploying_an_old_job_and_rebuilding_the_same_content_store_no_new_objects(
    web: str, make_repo: Callable[..., Path], admin_user: Any
) -> None:
    app, branch, repo = new_app(make_repo, spec("one"))
    first = run_job(branch)
    commit(repo, {"amplify.yml": spec("two")}, "second version")
    run_job(branch)
    after_two = stored_keys()
    # The second version changed index.html only: app.js and the logo are shared objects.
    assert len(after_two) == 3 + 2 + 2  # one/two index.html, app.js + br + gz, logo

    redeploy = jobs.job_redeploy(job=first, actor=admin_user)
    run_job(branch, job=redeploy)
    assert stored_keys() == after_two
    status, _, body = fetch(web, f"main.{app.app_id}.localhost", "/")
    assert (status, body) == (200, b"<!doctype html><title>one</title><h1>one</h1>")

    rebuilt = run_job(branch)  # the same commit again: every object is already there
    assert stored_keys() == after_two
    log = "".join(chunk.text for chunk in rebuilt.log_chunks.order_by("seq"))
    assert "Stored 0 new objects in the hosting bucket; 3 were already there" in log


def test_collecting_while_a_build_runs_deletes_only_what_nothing_references(
    web: str, make_repo: Callable[..., Path], settings: Any
) -> None:
    settings.HOSTING_GC_GRACE_MINUTES = 0  # no grace: only the lock protects a publishing build
    app, branch, repo = new_app(make_repo, spec("kept"))
    run_job(branch)
    store.ensure_bucket()
    orphans = [hashlib.sha256(f"orphan {i}".encode()).hexdigest() for i in range(5)]
    for digest in orphans:
        store.put_blob(store.object_key(digest), b"nobody references me")

    commit(repo, {"amplify.yml": spec("while collecting", sleep=2)}, "slow build")
    job = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")
    stop = threading.Event()
    rounds: list[int] = []

    def collect_until_done() -> None:
        while not stop.is_set():
            rounds.append(retention.collect_objects())

    collector = threading.Thread(target=collect_until_done)
    collector.start()
    try:
        run_job(branch, job=job)
    finally:
        stop.set()
        collector.join(60)
    assert len(rounds) >= 3, "the collector should have run many times during the build"

    keys = stored_keys()
    assert not {store.object_key(d) for d in orphans} & keys
    branch.refresh_from_db()
    for deployed in DeployedFile.objects.filter(deployment__branch=branch):
        assert store.object_key(deployed.sha256) in keys, f"{deployed.path} of a kept deployment was collected"
    status, _, body = fetch(web, f"main.{app.app_id}.localhost", "/")
    assert (status, body) == (200, b"<!doctype html><title>while collecting</title><h1>while collecting</h1>")
