"""Server-rendered requests through the edge (apps/edge), as `make run` and docker-compose serve
them: the console itself (a live Django server) behind it, hostd's control socket and real
Node.js servers in their sandbox. The edge passes compute routes straight to the server and
everything else to the console; these prove the issue's points hold on that path too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.branches.models import App, Branch
from apps.compute.models import ComputeServer
from apps.compute.tests.conftest import needs_servers
from apps.compute.tests.servers import deploy, server_folder
from apps.edge.tests.running import RunningEdge, run_edge
from apps.hosting import delivery, lookup

pytestmark = [*needs_servers, pytest.mark.django_db(transaction=True)]

PLAN_SECONDS = 0.2  # a deploy reaches the edge within this


@pytest.fixture
def branch(app: App) -> Branch:
    return app.branches.get(name="main")


@pytest.fixture
def edge(live_server: Any) -> Iterator[RunningEdge]:
    # Kept per process by pk: rows of earlier tests are gone, their ids come back.
    lookup.forget()
    delivery._manifest.cache_clear()
    host, port = live_server.url.removeprefix("http://").rsplit(":", 1)
    with run_edge((host, int(port)), plan_seconds=PLAN_SECONDS) as running:
        yield running


def host_of(branch: Branch) -> str:
    return f"{branch.hostname_label}.{branch.app.default_domain}"


def test_a_deploy_under_a_steady_request_loop_through_the_edge_fails_no_request(
    branch: Branch, tmp_path: Path, running_hostd: threading.Event, edge: RunningEdge
) -> None:
    deploy(branch, server_folder(tmp_path, "one"))
    answers: list[tuple[int, bytes, str | None]] = []
    stop = threading.Event()

    def loop() -> None:
        with edge.client() as visitor:  # one kept-alive connection, as a browser keeps one
            while not stop.is_set():
                answer = visitor.get("/", host_of(branch))
                answers.append((answer.status, answer.body[:3], answer.header("Server")))
                time.sleep(0.01)

    visitor_thread = threading.Thread(target=loop)
    visitor_thread.start()
    try:
        time.sleep(0.5)
        deploy(branch, server_folder(tmp_path, "two"))
        time.sleep(1.0)  # more than PLAN_SECONDS: the edge has moved to the new server
    finally:
        stop.set()
        visitor_thread.join(timeout=30)
    seen = [text for _, text, _ in answers]
    assert {status for status, _, _ in answers} == {200}, answers
    assert seen[0] == b"one"
    assert seen[-1] == b"two"
    assert b"one" not in seen[seen.index(b"two") :]
    # Straight from node: the console (a Django server, which names itself) never saw them.
    assert {server for _, _, server in answers} == {None}, answers


def test_a_streamed_answer_passes_the_edge_chunk_by_chunk(
    branch: Branch, tmp_path: Path, running_hostd: threading.Event, edge: RunningEdge
) -> None:
    deploy(branch, server_folder(tmp_path))
    with edge.client() as visitor:
        visitor.send(f"GET /stream HTTP/1.1\r\nHost: {host_of(branch)}\r\n\r\n".encode())
        head = visitor.head()
        assert head.status == 200
        assert head.chunked
        arrivals = []
        while piece := visitor.chunk():
            arrivals.append((time.monotonic(), piece))
    assert b"".join(piece for _, piece in arrivals) == b"chunk 1\nchunk 2\nchunk 3\n"
    assert len(arrivals) >= 3
    assert arrivals[-1][0] - arrivals[0][0] >= 0.5  # sent 300 ms apart, passed on as they came


def test_a_server_that_crashes_is_answered_502_then_the_console_says_503_with_retry_after(
    branch: Branch, tmp_path: Path, running_hostd: threading.Event, edge: RunningEdge
) -> None:
    deploy(branch, server_folder(tmp_path))
    with edge.client() as visitor:
        assert visitor.get("/", host_of(branch)).status == 200
        crashed = visitor.get("/crash", host_of(branch))
    assert crashed.status == 502
    assert crashed.body == b"This site's server did not answer."
    for _ in range(100):
        if ComputeServer.objects.filter(state=ComputeServer.State.CRASHED).exists():
            break
        time.sleep(0.05)
    with edge.client() as visitor:
        again = visitor.get("/", host_of(branch))
    assert again.status == 503
    assert int(again.header("Retry-After") or 0) >= 1
    assert b"crashed" in again.body
    assert b"crashing on purpose" not in again.body  # its output is for the branch page, not for visitors
