"""Hosted requests to a server-rendered app, through the console's middleware, the control
socket and the supervisor to a real Node.js server in its sandbox."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import App, Branch
from apps.builds.artifacts import ArtifactFile
from apps.compute.models import ComputeServer
from apps.compute.tests.conftest import needs_servers
from apps.compute.tests.servers import deploy, server_folder, static_folder

pytestmark = [*needs_servers, pytest.mark.django_db(transaction=True)]


def host_of(branch: Branch) -> str:
    return f"{branch.hostname_label}.{branch.app.default_domain}"


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def static_files(tmp_path: Path) -> list[ArtifactFile]:
    folder = static_folder(tmp_path, {"static/app.css": "body{}", "logo.svg": "<svg/>"})
    return [ArtifactFile(path, folder / path, (folder / path).stat().st_size) for path in ("static/app.css", "logo.svg")]


@pytest.fixture
def branch(app: App) -> Branch:
    return app.branches.get(name="main")


def test_static_routes_are_served_from_the_store_without_a_server(branch: Branch, tmp_path: Path) -> None:
    deploy(branch, server_folder(tmp_path), static_files=static_files(tmp_path))  # no hostd runs at all
    answer = Client().get("/static/app.css", HTTP_HOST=host_of(branch))
    assert answer.status_code == 200
    assert body(answer) == b"body{}"
    answer = Client().get("/logo.svg", HTTP_HOST=host_of(branch))  # a /*.* route with a Compute fallback
    assert answer.status_code == 200
    assert body(answer) == b"<svg/>"
    assert not ComputeServer.objects.exists()


def test_without_a_supervisor_compute_routes_answer_503_with_the_reason(branch: Branch, tmp_path: Path) -> None:
    deploy(branch, server_folder(tmp_path))
    answer = Client().get("/", HTTP_HOST=host_of(branch))
    assert answer.status_code == 503
    assert b"not running on this machine" in body(answer)


def test_compute_routes_reach_the_server_with_cookies_posts_and_forwarded_host(
    branch: Branch, tmp_path: Path, running_hostd: threading.Event
) -> None:
    deploy(branch, server_folder(tmp_path), static_files=static_files(tmp_path))
    client = Client()
    first = client.get("/", HTTP_HOST=host_of(branch))
    assert first.status_code == 200
    # The deploy's own check asked for / first: this is the server's second answer.
    assert body(first).decode().startswith(f"one 2 main {host_of(branch)}")
    assert {first.cookies["a"].value, first.cookies["b"].value} == {"1", "2"}
    assert body(client.get("/missing.txt", HTTP_HOST=host_of(branch))).startswith(b"one 3")  # the fallback
    posted = client.post("/form", data=b"x=1", content_type="application/x-www-form-urlencoded", HTTP_HOST=host_of(branch))
    assert body(posted) == b"posted x=1"


def test_a_streamed_answer_reaches_the_client_chunk_by_chunk(
    branch: Branch, tmp_path: Path, running_hostd: threading.Event
) -> None:
    deploy(branch, server_folder(tmp_path))
    answer = Client().get("/stream", HTTP_HOST=host_of(branch))
    assert answer.streaming
    arrivals = []
    for chunk in answer.streaming_content:  # type: ignore[attr-defined]
        arrivals.append((time.monotonic(), chunk))
    assert b"".join(chunk for _, chunk in arrivals) == b"chunk 1\nchunk 2\nchunk 3\n"
    assert len(arrivals) >= 3
    assert arrivals[-1][0] - arrivals[0][0] >= 0.5  # sent 300 ms apart, passed on as they came


def test_a_crashed_server_answers_503_with_retry_after(branch: Branch, tmp_path: Path, running_hostd: threading.Event) -> None:
    deploy(branch, server_folder(tmp_path))
    client = Client()
    assert client.get("/", HTTP_HOST=host_of(branch)).status_code == 200
    crashed = client.get("/crash", HTTP_HOST=host_of(branch))
    assert crashed.status_code == 502
    for _ in range(50):
        if ComputeServer.objects.filter(state=ComputeServer.State.CRASHED).exists():
            break
        time.sleep(0.05)
    again = client.get("/", HTTP_HOST=host_of(branch))
    assert again.status_code == 503
    assert int(again["Retry-After"]) >= 1
    assert b"crashed" in body(again)
    assert b"crashing on purpose" not in body(again)  # its output is for the branch page, not for visitors


def test_a_deploy_under_a_steady_request_loop_fails_no_request(
    branch: Branch, tmp_path: Path, running_hostd: threading.Event
) -> None:
    deploy(branch, server_folder(tmp_path, "one"))
    statuses: list[tuple[int, bytes]] = []
    stop = threading.Event()

    def loop() -> None:
        client = Client()
        while not stop.is_set():
            answer = client.get("/", HTTP_HOST=host_of(branch))
            statuses.append((answer.status_code, body(answer)[:3]))
            time.sleep(0.01)

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        time.sleep(0.5)
        lines: list[str] = []
        deploy(branch, server_folder(tmp_path, "two"), lines=lines)
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert any(line.startswith("## Server started on this machine") for line in lines), lines
    assert any("GET / with 200" in line for line in lines), lines
    seen = [text for _, text in statuses]
    assert {code for code, _ in statuses} == {200}, statuses
    assert seen[0] == b"one"
    assert seen[-1] == b"two"
    assert seen.index(b"two") > 0
    assert b"one" not in seen[seen.index(b"two") :]


def test_the_console_s_own_preview_never_runs_the_site_s_server(
    branch: Branch, tmp_path: Path, admin_client: Client, running_hostd: threading.Event
) -> None:
    deploy(branch, server_folder(tmp_path), static_files=static_files(tmp_path))
    answer = admin_client.get(f"/sites/{branch.app.app_id}/main/")
    assert answer.status_code == 200
    assert b"open it at the branch URL" in body(answer)
    assert body(admin_client.get(f"/sites/{branch.app.app_id}/main/static/app.css")) == b"body{}"
    # The server answered only the deploy's own check: the preview never reached it.
    assert body(Client().get("/", HTTP_HOST=host_of(branch))).startswith(b"one 2 ")
