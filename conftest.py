"""Fixtures shared by every test module: users of each role and git repositories."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from console.emulator import Emulator, start_emulator

if TYPE_CHECKING:
    from apps.branches.tests.https_git import PrivateRepo
from console.roles import Role, set_role


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler], wrap: Callable[[Any], Any] | None = None) -> Iterator[ThreadingHTTPServer]:
    """A local HTTP server on 127.0.0.1 (a free port) answering with `handler` in a thread of
    its own; `wrap` may replace its socket (TLS) before it serves. Shut down on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if wrap is not None:
        server.socket = wrap(server.socket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ../shared next to the repository: real-world test input, read there, never copied in.
SHARED_DIR = Path(__file__).resolve().parent.parent / "shared"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def fixture_missing(message: str) -> NoReturn:
    """A test's real-world input is not here: skip it on a developer's machine; under CI
    (CI=true, which .ci/run sets) fail it, so a test can never pass there by skipping."""
    if under_ci():
        pytest.fail(f"{message} (under CI every ../shared fixture must be present)", pytrace=False)
    pytest.skip(message)


def shared_fixture(*parts: str) -> Path:
    """The path of a file or folder of ../shared, or fixture_missing() when it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        fixture_missing(f"{path} is absent (../shared next to the repository)")
    return path


PASSWORD = "correct-horse-battery"


def _user(username: str, role: Role | None) -> object:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role is not None:
        set_role(user, role)
    return user


@pytest.fixture
def admin_user(db: None) -> object:
    return _user("ada", Role.ADMIN)


@pytest.fixture
def operator_user(db: None) -> object:
    return _user("otto", Role.OPERATOR)


@pytest.fixture
def viewer_user(db: None) -> object:
    return _user("vera", Role.VIEWER)


@pytest.fixture
def roleless_user(db: None) -> object:
    return _user("nora", None)


def _client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def admin_client(admin_user: object) -> Client:
    return _client_for(admin_user)


@pytest.fixture
def operator_client(operator_user: object) -> Client:
    return _client_for(operator_user)


@pytest.fixture
def viewer_client(viewer_user: object) -> Client:
    return _client_for(viewer_user)


@pytest.fixture
def outsider_client(db: None) -> Client:
    """Not signed in."""
    return Client()


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True, text=True)
    return result.stdout.strip()


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Make a bare repository with the given branches; returns its path."""

    def make(branches: tuple[str, ...] = ("main",), files: dict[str, str] | None = None) -> Path:
        work = tmp_path / f"work-{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        git("init", "-q", "-b", branches[0] if branches else "main", cwd=work)
        for name, text in (files or {"README.md": "hello\n"}).items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", "first", cwd=work)
        bare = tmp_path / f"{work.name}.git"
        git("init", "-q", "--bare", str(bare), cwd=tmp_path)
        for branch in branches:
            git("push", "-q", str(bare), f"HEAD:refs/heads/{branch}", cwd=work)
        return bare

    return make


@pytest.fixture
def private_repo(make_repo: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRepo]:
    """A repository (branches main and dev) that git reads only over HTTPS with a token."""
    from apps.branches.tests.https_git import serve_private_repo

    bare = make_repo(("main", "dev"), files={"README.md": "private\n", "amplify.yml": PRIVATE_SPEC})
    folder = tmp_path / "tls"
    folder.mkdir()
    with serve_private_repo(bare, folder, "ci-bot", "glpat-Secr3tTok3n-do-not-log") as repo:
        monkeypatch.setenv("GIT_SSL_CAINFO", str(repo.ca_file))  # trust its throwaway certificate
        yield repo


# What a build of the private repository shows: its clone URL, its git remote, its whole environment.
PRIVATE_SPEC = (
    "version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n"
    '        - echo "clone=$AWS_CLONE_URL"\n        - git remote -v\n        - cat .git/config\n        - env\n'
)


# Tests that talk to a real moto server process (or start real workers) must not
# run under the in-process mock: the two never mix in one test.
REAL_SERVER_MARKERS = ("browser", "worker", "emulator")


@pytest.fixture(autouse=True)
def _aws_in_process(request: pytest.FixtureRequest) -> object:
    if any(request.node.get_closest_marker(marker) for marker in REAL_SERVER_MARKERS):
        yield None
        return
    from django.conf import settings
    from moto import mock_aws

    from console.aws import clear_client_cache

    previous = settings.AWS_ENDPOINT_URL
    settings.AWS_ENDPOINT_URL = None
    clear_client_cache()
    with mock_aws():
        yield None
    settings.AWS_ENDPOINT_URL = previous
    clear_client_cache()


@pytest.fixture(autouse=True)
def _fresh_access_log() -> None:
    """Hosted requests of earlier tests wait in the access log's buffer (tests flush it
    themselves), naming apps and branches their rolled-back transactions removed."""
    from apps.hosting import access_log

    access_log.discard()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A real moto server process for the module's tests (mark them `emulator`, `browser` or `worker`)."""
    server = start_emulator()
    try:
        yield server
    finally:
        server.stop()


def worker_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    """What a worker started by a test needs: the test database, the emulator, no eager tasks."""
    from django.db import connection

    from console.worker_process import database_url

    return {
        "DJANGO_SETTINGS_MODULE": "console.settings_test",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": database_url(connection.settings_dict),
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        **extra,
    }


@contextlib.contextmanager
def queued_to_workers(emulator: Emulator, settings: Any) -> Iterator[list[subprocess.Popen[Any]]]:
    """Tasks go to real workers (not run eagerly) on the emulator; the workers the caller
    appends to the list are stopped at the end."""
    from console.aws import clear_client_cache
    from console.celery import app as celery_app
    from console.worker_process import stop_worker

    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    started: list[subprocess.Popen[Any]] = []
    celery_app.conf.task_always_eager = False
    try:
        yield started
    finally:
        celery_app.conf.task_always_eager = True
        for process in started:
            stop_worker(process)
        clear_client_cache()


@pytest.fixture
def live_worker(transactional_db: None, emulator: Emulator, settings: object) -> Iterator[subprocess.Popen[str]]:
    """A real Celery worker process on the configured broker, using the test database
    and the emulator. Tasks queued by the test (not eagerly) run in it."""

    from console.worker_process import start_worker

    with queued_to_workers(emulator, settings) as workers:
        process = start_worker(worker_env(emulator), "--pool", "prefork", "--concurrency", "2", name="live-worker")
        workers.append(process)
        process.output_tail = drain_output(process)  # type: ignore[attr-defined]
        yield process


def stop_process(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace)
    if process.poll() is None:
        process.kill()
        process.wait()


def drain_output(process: subprocess.Popen[str], keep: int = 400) -> deque[str]:
    """Read a process's output in the background (a full pipe would block it); keep the tail."""
    lines: deque[str] = deque(maxlen=keep)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.fixture
def worker_output(live_worker: subprocess.Popen[str]) -> deque[str]:
    """The last lines the live worker printed, for failure messages."""
    return live_worker.output_tail  # type: ignore[attr-defined,no-any-return]


def wait_for[T](
    predicate: Callable[[], T], timeout: float, interval: float = 0.2, message: str = "",
    on_timeout: Callable[[], str] | None = None,
) -> T:  # fmt: skip
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds,
    saying `message` (or what `on_timeout` says then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {on_timeout() if on_timeout else message or predicate}")
        time.sleep(interval)


def post_to(url: str) -> tuple[int, dict[str, Any]]:
    """POST an empty JSON object to a URL of a live server (a webhook); the status and the JSON answer."""
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=b"{}", method="POST", headers=headers)  # noqa: S310 - a test server's http URL
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
