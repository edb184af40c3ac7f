"""Heads of HTTP/1.1 messages as the edge passes them on: which headers stay, how bodies are framed."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

# Headers of one connection, not of the message (RFC 9110, 7.6.1): never passed on. The
# framing (Transfer-Encoding) is the edge's own on each side.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Who the visitor is, as only the edge may say it to the console (console/wsgi.py).
EDGE_CLIENT = b"x-edge-client"
# The edge answers "100 Continue" itself when it starts reading a body.
EXPECT = b"expect"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@dataclass
class Request:
    """One request read from a visitor: its head, and its body as it arrives."""

    method: bytes
    target: bytes
    version: str
    headers: list[tuple[bytes, bytes]]
    keep_alive: bool
    chunked: bool = False
    length: int | None = None
    upgrade: bool = False
    body: deque[bytes] = field(default_factory=deque)
    buffered: int = 0
    body_done: bool = False
    body_started: bool = False  # some of the body was passed on: the request cannot be sent again

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    def joined(self, name: bytes) -> str:
        """All lines of a header joined by commas, as a WSGI server joins them."""
        return ",".join(value.decode("latin-1") for key, value in self.headers if key.lower() == name)

    def connection_listed(self) -> set[bytes]:
        """Headers the Connection header names as this connection's own (RFC 9110, 7.6.1)."""
        listed = b",".join(value for key, value in self.headers if key.lower() == b"connection")
        return {item.strip().lower() for item in listed.split(b",") if item.strip()}

    def expects_continue(self) -> bool:
        return (self.header(EXPECT) or b"").strip().lower() == b"100-continue"

    def path_and_query(self) -> tuple[bytes, str, str] | None:
        """(raw path, decoded path as Django's request.path, query string); None when the
        target is not an origin-form path or not UTF-8 (the console answers those)."""
        if not self.target.startswith(b"/"):
            return None
        raw, _, query = self.target.partition(b"?")
        try:
            return raw, unquote_to_bytes(raw).decode("utf-8"), query.decode("ascii")
        except UnicodeDecodeError:
            return None


def request_head(request: Request, target: bytes, drop: frozenset[bytes], extra: list[tuple[bytes, bytes]]) -> bytes:
    """The request's head for a server behind the edge: hop-by-hop headers, those the Connection
    header lists and `drop` left out, `extra` added, the body framed as the edge sends it."""
    dropped = HOP_BY_HOP | drop | request.connection_listed() | {b"content-length", EXPECT}
    lines = [b"%s %s HTTP/1.1" % (request.method, target)]
    lines += [b"%s: %s" % (name, value) for name, value in request.headers if name.lower() not in dropped]
    lines += [b"%s: %s" % pair for pair in extra]
    if request.chunked:
        lines.append(b"Transfer-Encoding: chunked")
    elif request.length is not None:
        lines.append(b"Content-Length: %d" % request.length)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def response_head(status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [b"HTTP/1.1 %d %s" % (status, reason)]
    lines += [b"%s: %s" % pair for pair in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def plain_answer(status: int, reason: bytes, text: str, *, close: bool) -> bytes:
    body = text.encode()
    headers = [(b"Content-Type", b"text/plain; charset=utf-8"), (b"Content-Length", b"%d" % len(body))]
    if close:
        headers.append((b"Connection", b"close"))
    return response_head(status, reason, headers) + body
