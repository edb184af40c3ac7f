"""What the edge does with requests it will not pass on: heads too large, bytes that are not
HTTP, and connections that say nothing for longer than IDLE_SECONDS."""

from __future__ import annotations

import gc
import logging
import time

import pytest

from apps.edge import server
from apps.edge.tests.running import RunningEdge, run_edge
from apps.edge.tests.upstreams import Recorder
from apps.edge.tests.wire import CONSOLE_HOST, request_bytes
from conftest import wait_for

IDLE = 0.5


@pytest.fixture
def short_idle(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(server, "IDLE_SECONDS", IDLE)
    return IDLE


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/", [("X-Big", "a" * (65 * 1024))]),
        ("/", [(f"X-Many-{index}", "b" * 1024) for index in range(70)]),
        ("/" + "c" * (65 * 1024), []),
    ],
    ids=["one-long-header", "many-headers", "long-target"],
)
def test_a_head_over_64_kib_gets_431_and_the_connection_closes(
    edge: RunningEdge, console: Recorder, target: str, headers: list[tuple[str, str]]
) -> None:
    with edge.client() as client:
        client.send(request_bytes("GET", target, CONSOLE_HOST, headers))
        answer = client.answer()
        assert answer.status == 431
        assert answer.body == b"The request's headers are too large."
        assert answer.header("Connection") == "close"
        assert client.closed_by_edge()
    assert console.seen == []


def test_a_head_just_under_the_limit_is_passed_on(edge: RunningEdge, console: Recorder) -> None:
    headers = [(f"X-Large-{index}", "d" * 8 * 1024) for index in range(7)]  # 56 KiB, lines the console accepts
    with edge.client() as client:
        answer = client.get("/", CONSOLE_HOST, headers)
    assert answer.status == 200
    assert console.seen[0].header("X-Large-6") == "d" * 8 * 1024


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),
        b"HELLO THERE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
    ],
    ids=["tls-hello", "no-http-version", "header-without-colon"],
)
def test_bytes_that_are_not_http_get_400_and_the_connection_closes(edge: RunningEdge, console: Recorder, garbage: bytes) -> None:
    with edge.client() as client:
        client.send(garbage)
        answer = client.answer()
        assert answer.status == 400
        assert answer.body == b"The request is not valid HTTP/1.1."
        assert client.closed_by_edge()
    assert console.seen == []


def test_a_connection_that_sends_nothing_is_closed_after_idle_seconds(short_idle: float, edge: RunningEdge) -> None:
    with edge.client() as client:
        started = time.monotonic()
        assert client.closed_by_edge()  # within the client's 5 s timeout
        assert time.monotonic() - started >= short_idle * 0.9


def test_a_kept_alive_connection_is_closed_after_idle_seconds(short_idle: float, edge: RunningEdge) -> None:
    with edge.client() as client:
        assert client.get("/", CONSOLE_HOST).status == 200
        time.sleep(short_idle / 3)
        assert client.get("/again", CONSOLE_HOST).status == 200  # used again in time: still open
        assert client.closed_by_edge()


def test_an_unfinished_head_is_closed_after_idle_seconds(short_idle: float, edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        client.send(b"GET / HTTP/1.1\r\nHost: " + CONSOLE_HOST.encode() + b"\r\nX-Slow: ")
        assert client.closed_by_edge()
    assert console.seen == []


def test_a_body_that_stops_arriving_is_closed_after_idle_seconds(short_idle: float, edge: RunningEdge) -> None:
    with edge.client() as client:
        client.send(request_bytes("POST", "/form", CONSOLE_HOST, [("Content-Length", "10")]) + b"abc")
        assert client.closed_by_edge()


def test_a_visitor_who_leaves_in_the_middle_of_a_body_leaves_no_error_behind(
    console: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with run_edge(console.address) as running, running.client() as client:
        client.send(request_bytes("POST", "/form", CONSOLE_HOST, [("Content-Length", "10")]) + b"abc")
        wait_for(lambda: console.connections, timeout=5, interval=0.01)  # the console's connection is open
    gc.collect()  # an exception nobody retrieved is logged when its future is collected
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
