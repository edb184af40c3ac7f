"""Stopping the edge (SIGTERM): idle connections close at once, an answer under way finishes."""

from __future__ import annotations

import time

from apps.edge.tests.running import RunningEdge
from apps.edge.tests.upstreams import Recorder
from apps.edge.tests.wire import CONSOLE_HOST, request_bytes


def test_a_stop_closes_idle_connections_and_lets_an_answer_under_way_finish(edge: RunningEdge, console: Recorder) -> None:
    with edge.client() as idle, edge.client() as streaming:
        assert idle.get("/page", CONSOLE_HOST).status == 200  # kept alive, then idle
        streaming.send(request_bytes("GET", "/stream", CONSOLE_HOST))
        head = streaming.head()
        assert head.status == 200
        assert streaming.chunk() == b"first piece"  # the console holds back the rest
        edge.stop()
        assert idle.closed_by_edge()
        time.sleep(0.3)
        console.release.set()
        assert streaming.chunk() == b"second piece"
        assert streaming.chunk() == b""
        assert streaming.closed_by_edge()  # no next request after a stop
    assert not edge.edge.connections
