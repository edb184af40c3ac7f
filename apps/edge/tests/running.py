"""The edge run in this process, as `manage.py edge` runs it (uvloop), in a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass

import uvloop
from django.db import connections

from apps.edge.server import serve
from apps.edge.state import Edge
from apps.edge.tests.wire import Client

START_SECONDS = 10.0
STOP_SECONDS = 10.0


@dataclass
class RunningEdge:
    edge: Edge
    port: int
    loop: asyncio.AbstractEventLoop
    stopped: asyncio.Event

    def stop(self) -> None:
        """What SIGTERM does to `manage.py edge`."""
        self.loop.call_soon_threadsafe(self.stopped.set)

    def client(self) -> Client:
        return Client(self.port)


@contextlib.contextmanager
def run_edge(console: str | tuple[str, int], plan_seconds: float = 60.0) -> Iterator[RunningEdge]:
    """The edge listening on 127.0.0.1 (a free port) in front of `console`; stopped on exit,
    which fails when it does not stop (a connection it would not let go)."""
    edge = Edge(console, plan_seconds)
    stop = asyncio.Event()
    started = threading.Event()
    found: dict[str, object] = {}

    def ready(port: int) -> None:
        found["port"], found["loop"] = port, asyncio.get_running_loop()
        started.set()

    def run() -> None:
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(serve(edge, "127.0.0.1", 0, stop, ready=ready))
        except BaseException as error:  # reported by the test that started it
            found["error"] = error
        finally:
            started.set()

    thread = threading.Thread(target=run, name="edge-under-test", daemon=True)
    thread.start()
    assert started.wait(START_SECONDS), "the edge did not start"
    assert "error" not in found, found.get("error")
    loop = found["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    try:
        yield RunningEdge(edge, int(str(found["port"])), loop, stop)
    finally:
        # Plans are read on the edge's own thread, with a database connection of its own: closed
        # here, or the test database could not be emptied or dropped while it stays open.
        with contextlib.suppress(RuntimeError, CancelledError):  # stopped already: Edge.close closed them
            edge.plan_thread.submit(connections.close_all).result(timeout=STOP_SECONDS)
        with contextlib.suppress(RuntimeError):  # a test stopped it already: its loop is closed
            loop.call_soon_threadsafe(stop.set)
        thread.join(STOP_SECONDS)
        assert not thread.is_alive(), "the edge did not stop"
        assert "error" not in found, found.get("error")
