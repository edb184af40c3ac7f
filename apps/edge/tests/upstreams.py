"""Small real HTTP/1.1 servers behind the edge in its tests: one stands in for the console
(gunicorn), one for a compute deployment's server. Each records every request as it arrived
(headers as sent, body decoded, which of its connections it came on) and answers by how the
path ends (so that /app/stream behaves as /stream):

  .../status/<code>    that status with no body (Content-Length: 0 but for 204 and 304)
  .../close-delimited  200 without Content-Length or chunks: the body ends when the server closes
  .../stream           a chunked answer whose second piece waits for `release` to be set
  .../keep-then-close  200 with Content-Length, no Connection: close, then the server closes anyway
  .../hop-headers      200 with hop-by-hop headers and an X-Frame-Options of its own
  anything else        200 "<name> <method> <target>" with Content-Length (no body to HEAD)

With `drop_second` set, a second request on one connection is read and left unanswered
(the connection closed): the race of a kept-alive connection the server closes as a request
is sent on it.
"""

from __future__ import annotations

import contextlib
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

RELEASE_SECONDS = 10.0  # longer than the test client's timeout: a buffered answer fails the test


@dataclass
class Seen:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int  # the server's count of its connections when this one was accepted

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def names(self) -> set[str]:
        return {key.lower() for key, _ in self.headers}


class Recorder:
    """What one stand-in server saw, and how it behaves."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[Seen] = []
        self.connections = 0
        self.release = threading.Event()
        self.drop_second = False
        self.address: str | tuple[str, int] = ""
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        assert isinstance(self.address, tuple)
        return self.address[1]

    def connected(self) -> int:
        with self._lock:
            self.connections += 1
            return self.connections

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def targets(self) -> list[str]:
        with self._lock:
            return [seen.target for seen in self.seen]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(_Handler):
            pass

        Handler.recorder = recorder
        return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn and Node.js servers
    recorder: Recorder

    def setup(self) -> None:
        super().setup()
        self.number = self.recorder.connected()
        self.served = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            pieces = []
            while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                pieces.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(pieces)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle(self) -> None:
        # The edge may give up on a connection (a test of a visitor who left): no trace printed.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def handle_one_request(self) -> None:
        # Every method (GET, POST, HEAD, PATCH...) is answered by `answer`.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        self.answer()
        self.wfile.flush()

    def answer(self) -> None:
        body = self.read_body()
        self.recorder.record(Seen(self.command, self.path, self.request_version, list(self.headers.items()), body, self.number))
        self.served += 1
        if self.recorder.drop_second and self.served == 2:
            self.close_connection = True  # read, never answered
            return
        path = self.path.split("?", 1)[0]
        head, _, last = path.rpartition("/")
        if head.endswith("/status"):
            self.send_response(int(last))
            self.send_header("ETag", '"v1"')
            if int(last) not in (204, 304):
                self.send_header("Content-Length", "0")
            self.end_headers()
        elif last == "close-delimited":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"the body ends ")
            self.wfile.write(b"when the server closes")
            self.close_connection = True
        elif last == "stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b"first piece"), b"first piece"))
            self.wfile.flush()
            held_back = self.recorder.release.wait(RELEASE_SECONDS)
            second = b"second piece" if held_back else b"second piece, after a timeout"
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(second), second))
        else:
            text = f"{self.recorder.name} {self.command} {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            if last == "hop-headers":
                self.send_header("Keep-Alive", "timeout=5")
                self.send_header("Proxy-Authenticate", "Basic")
                self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(text)
            if last == "keep-then-close":
                self.close_connection = True  # without saying so: the edge learns it from the socket


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a handler waiting on a kept-alive connection never holds up the end
    allow_reuse_address = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@contextlib.contextmanager
def _serving(server: socketserver.BaseServer) -> Iterator[None]:
    # Not conftest.http_server: its serve_forever polls for shutdown every 0.5 s, which every
    # test here would wait for at its end; 20 ms keeps the suite fast.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def tcp_upstream(name: str) -> Iterator[Recorder]:
    """A recording server on 127.0.0.1 (a free port), stopped on exit."""
    recorder = Recorder(name)
    server = _TCPServer(("127.0.0.1", 0), recorder.handler())
    recorder.address = ("127.0.0.1", server.server_address[1])
    with _serving(server):
        yield recorder


@contextlib.contextmanager
def unix_upstream(name: str) -> Iterator[Recorder]:
    """A recording server on a Unix socket (as gunicorn behind the edge), stopped on exit.
    Its folder is short-named under the temporary directory: a socket path has at most 107 bytes."""
    recorder = Recorder(name)
    folder = Path(tempfile.mkdtemp(prefix="edge-"))
    path = str(folder / "web.sock")
    recorder.address = path
    try:
        with _serving(_UnixServer(path, recorder.handler())):
            yield recorder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
