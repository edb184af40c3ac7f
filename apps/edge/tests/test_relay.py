"""Requests that are not for a compute server go to the console as they came: keep-alive on
both sides, bodies in either framing, answers without bodies, streamed and close-delimited
answers, the visitor's address in X-Edge-Client, and no header of one connection passed on."""

from __future__ import annotations

import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from apps.edge.tests.running import RunningEdge, run_edge
from apps.edge.tests.upstreams import Recorder, unix_upstream
from apps.edge.tests.wire import CONSOLE_HOST, request_bytes


def test_two_requests_on_one_connection_are_answered_over_one_upstream_connection(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        first = client.get("/one", CONSOLE_HOST)
        second = client.get("/two?x=1", CONSOLE_HOST)
    assert (first.status, first.body) == (200, b"console GET /one")
    assert (second.status, second.body) == (200, b"console GET /two?x=1")
    assert first.header("Connection") is None  # kept alive: nothing says close
    assert [seen.connection for seen in console.seen] == [1, 1]
    assert console.connections == 1


def test_a_body_with_content_length_arrives_intact(edge: RunningEdge, console: Recorder) -> None:
    # Larger than the edge's read buffer limit (BODY_HIGH_WATER): reading pauses and resumes on the way.
    body = bytes(range(256)) * 4096 * 2
    with edge.client() as client:
        client.send(request_bytes("POST", "/form", CONSOLE_HOST, [("Content-Type", "application/octet-stream")], body))
        answer = client.answer()
    assert answer.status == 200
    (seen,) = console.seen
    assert seen.body == body
    assert seen.header("Content-Length") == str(len(body))
    assert seen.header("Transfer-Encoding") is None


def test_a_chunked_body_arrives_intact(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        client.send(request_bytes("POST", "/upload", CONSOLE_HOST, [("Transfer-Encoding", "chunked")]))
        client.send(b"7\r\nhello, \r\n")
        time.sleep(0.05)  # the rest later: the edge passes on what it has, then waits for more
        client.send(b"8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n")
        answer = client.answer()
        after = client.get("/next", CONSOLE_HOST)  # the body was read to its end: the connection goes on
    assert answer.status == 200
    assert after.status == 200
    assert console.seen[0].body == b"hello, chunked world"
    assert console.seen[0].header("Transfer-Encoding") == "chunked"


def test_a_chunked_body_sent_in_pieces_arrives_intact(edge: RunningEdge, console: Recorder) -> None:
    wire = b"7\r\nhello, \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n"
    with edge.client() as client:
        client.send(request_bytes("POST", "/upload", CONSOLE_HOST, [("Transfer-Encoding", "chunked")]))
        for start in range(0, len(wire), 6):  # split across chunk boundaries and sizes
            client.send(wire[start : start + 6])
            time.sleep(0.01)
        answer = client.answer()
    assert answer.status == 200
    assert console.seen[0].body == b"hello, chunked world"


def test_head_is_answered_without_a_body(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        head = client.get("/page", CONSOLE_HOST, method="HEAD")
        # Any body bytes sent after the head would be read here as the next answer's status line.
        after = client.get("/after", CONSOLE_HOST)
    assert head.status == 200
    assert head.header("Content-Length") == str(len(b"console HEAD /page"))
    assert head.header("Transfer-Encoding") is None
    assert (after.status, after.body) == (200, b"console GET /after")
    assert [seen.method for seen in console.seen] == ["HEAD", "GET"]


@pytest.mark.parametrize("status", [204, 304])
def test_answers_that_have_no_body_are_passed_without_one(edge: RunningEdge, status: int) -> None:
    with edge.client() as client:
        answer = client.get(f"/status/{status}", CONSOLE_HOST)
        after = client.get("/after", CONSOLE_HOST)
    assert answer.status == status
    assert answer.header("ETag") == '"v1"'
    assert answer.header("Transfer-Encoding") is None  # no chunked framing, not even an empty body
    assert (after.status, after.body) == (200, b"console GET /after")


def test_x_edge_client_is_the_visitors_address_and_a_sent_one_never_passes(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        client.get("/", CONSOLE_HOST, [("X-Edge-Client", "6.6.6.6"), ("x-edge-client", "7.7.7.7")])
        visitor = client.address
    (seen,) = console.seen
    assert seen.all("X-Edge-Client") == [visitor]
    assert visitor == "127.0.0.1"


def test_hop_by_hop_request_headers_are_not_passed(edge: RunningEdge, console: Recorder) -> None:
    sent = [
        ("Connection", "keep-alive, X-Hop-Private"),
        ("X-Hop-Private", "this connection's own"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Upgrade", "h2c"),  # without "Connection: upgrade": a plain request that names a protocol
        ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
        ("Proxy-Connection", "keep-alive"),
        ("X-End-To-End", "kept"),
    ]
    with edge.client() as client:
        answer = client.get("/", CONSOLE_HOST, sent)
    assert answer.status == 200
    (seen,) = console.seen
    dropped = {"connection", "x-hop-private", "keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection"}
    assert not dropped & seen.names()
    assert seen.header("X-End-To-End") == "kept"
    assert seen.header("Host") == CONSOLE_HOST


def test_hop_by_hop_answer_headers_are_not_passed(edge: RunningEdge) -> None:
    with edge.client() as client:
        answer = client.get("/hop-headers", CONSOLE_HOST)
    assert answer.status == 200
    assert answer.header("Keep-Alive") is None
    assert answer.header("Proxy-Authenticate") is None
    assert answer.header("X-Frame-Options") == "DENY"


def test_expect_100_continue_is_answered_by_the_edge_and_the_body_follows(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        client.send(request_bytes("PUT", "/file", CONSOLE_HOST, [("Expect", "100-continue"), ("Content-Length", "5")]))
        interim = client.head()  # before any of the body was sent
        assert (interim.status, interim.reason) == (100, "Continue")
        client.send(b"hello")
        answer = client.answer()
    assert answer.status == 200
    (seen,) = console.seen
    assert seen.body == b"hello"
    assert seen.header("Expect") is None  # the console would answer 100 again


def test_an_http_1_0_client_gets_the_body_then_the_connection_closes(edge: RunningEdge) -> None:
    with edge.client() as client:
        client.send(request_bytes("GET", "/old", CONSOLE_HOST, version="1.0"))
        answer = client.answer()
        assert (answer.status, answer.body) == (200, b"console GET /old")
        assert answer.header("Connection") == "close"
        assert client.closed_by_edge()


def test_an_http_1_0_client_gets_a_streamed_answer_unchunked_until_the_close(edge: RunningEdge, console: Recorder) -> None:
    console.release.set()
    with edge.client() as client:
        client.send(request_bytes("GET", "/stream", CONSOLE_HOST, version="1.0"))
        answer = client.answer()  # no length, not chunked: read to the end of the stream
    assert answer.status == 200
    assert not answer.chunked
    assert answer.header("Content-Length") is None
    assert answer.body == b"first piecesecond piece"


def test_connection_close_from_the_client_closes_after_the_answer(edge: RunningEdge) -> None:
    with edge.client() as client:
        answer = client.get("/", CONSOLE_HOST, [("Connection", "close")])
        assert answer.status == 200
        assert answer.header("Connection") == "close"
        assert client.closed_by_edge()


def test_a_close_delimited_answer_reaches_an_http_1_1_client_chunked_and_complete(edge: RunningEdge) -> None:
    with edge.client() as client:
        answer = client.get("/close-delimited", CONSOLE_HOST)
        after = client.get("/after", CONSOLE_HOST)  # the visitor's connection outlives the console's
    assert answer.status == 200
    assert answer.chunked
    assert answer.body == b"the body ends when the server closes"
    assert (after.status, after.body) == (200, b"console GET /after")


def test_a_streamed_answer_reaches_the_client_piece_by_piece(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        client.send(request_bytes("GET", "/stream", CONSOLE_HOST))
        head = client.head()
        assert head.status == 200
        assert head.chunked
        # The console holds back its second piece until `release` is set: the first arrives alone.
        assert client.chunk() == b"first piece"
        assert not console.release.is_set()
        console.release.set()
        assert client.chunk() == b"second piece"
        assert client.chunk() == b""


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("where", ["tcp", "unix"])
def test_a_console_that_is_down_gives_502(where: str) -> None:
    missing = Path(tempfile.gettempdir()) / f"edge-missing-{uuid.uuid4().hex[:8]}.sock"
    address: str | tuple[str, int] = ("127.0.0.1", free_port()) if where == "tcp" else str(missing)
    with run_edge(address) as running, running.client() as client:
        answer = client.get("/", CONSOLE_HOST)
        assert answer.status == 502
        assert answer.body == b"The console is not answering."
        assert client.closed_by_edge()


def test_the_console_on_a_unix_socket_is_relayed_to() -> None:
    with unix_upstream("console") as console, run_edge(console.address) as running, running.client() as client:
        answer = client.get("/page", CONSOLE_HOST)
        again = client.get("/page", CONSOLE_HOST)
    assert (answer.status, answer.body) == (200, b"console GET /page")
    assert again.status == 200
    assert [seen.header("X-Edge-Client") for seen in console.seen] == ["127.0.0.1", "127.0.0.1"]
    assert console.connections == 1


def test_an_upstream_connection_the_console_closed_after_answering_is_replaced(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        first = client.get("/keep-then-close", CONSOLE_HOST)
        time.sleep(0.2)  # the console's close reaches the edge's idle connection
        second = client.get("/again", CONSOLE_HOST)
    assert (first.status, second.status) == (200, 200)
    assert [seen.connection for seen in console.seen] == [1, 2]


def test_an_upstream_connection_closed_as_the_request_was_sent_is_replaced(edge: RunningEdge, console: Recorder) -> None:
    console.drop_second = True  # the second request on a connection is read, then the connection closed
    with edge.client() as client:
        first = client.get("/one", CONSOLE_HOST)
        second = client.get("/two", CONSOLE_HOST)
    assert (first.status, second.status) == (200, 200)
    assert second.body == b"console GET /two"
    # Sent on the kept connection, which closed unanswered, then once more on a new one.
    assert [(seen.target, seen.connection) for seen in console.seen] == [("/one", 1), ("/two", 1), ("/two", 2)]


def test_a_request_whose_body_was_sent_is_not_sent_twice(edge: RunningEdge, console: Recorder) -> None:
    console.drop_second = True
    with edge.client() as client:
        client.get("/one", CONSOLE_HOST)
        client.send(request_bytes("POST", "/pay", CONSOLE_HOST, body=b"amount=1"))
        answer = client.answer()
    assert answer.status == 502  # the console may have acted on it: the visitor decides whether to retry
    assert [seen.target for seen in console.seen] == ["/one", "/pay"]


def test_an_upgrade_request_is_answered_as_a_plain_one_then_closed(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as client:
        answer = client.get("/socket", CONSOLE_HOST, [("Connection", "Upgrade"), ("Upgrade", "websocket")])
        assert answer.status == 200
        assert answer.header("Connection") == "close"
        assert client.closed_by_edge()
    (seen,) = console.seen
    assert seen.header("Upgrade") is None
    assert seen.header("Connection") is None


def test_clients_on_separate_connections_are_answered_side_by_side(edge: RunningEdge, console: Recorder) -> None:
    # A streamed answer held back on one connection does not hold up another visitor.
    with edge.client() as streaming, edge.client() as other:
        streaming.send(request_bytes("GET", "/stream", CONSOLE_HOST))
        assert streaming.head().status == 200
        assert streaming.chunk() == b"first piece"
        assert other.get("/meanwhile", CONSOLE_HOST).body == b"console GET /meanwhile"
        console.release.set()
        assert streaming.chunk() == b"second piece"
        assert streaming.chunk() == b""
