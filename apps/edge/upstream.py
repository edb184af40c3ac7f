"""One kept-alive HTTP/1.1 connection from the edge to a server behind it (the console, a compute server).

A request's head and body are written as they come; the answer is parsed by httptools
(llhttp, node's own parser) and handed on as it arrives: its head, any interim answers
(100 Continue) before it, then the body in pieces, never buffered whole. The reading side
pauses when the caller falls behind, so a slow visitor slows the server, not the memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import cast

import httptools

# Unread body bytes kept before the server's socket is no longer read.
HIGH_WATER = 256 * 1024
NO_BODY_STATUSES = frozenset({204, 304})


class UpstreamError(Exception):
    """The server closed or broke the connection before its answer was complete."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered  # whether any of the answer had arrived (a retry would repeat it)


@dataclass
class Head:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunked: bool = False
    length: int | None = None  # Content-Length, when given

    def has_body(self, head_request: bool) -> bool:
        return not head_request and self.status not in NO_BODY_STATUSES and self.status >= 200


class Upstream(asyncio.Protocol):
    """The protocol of one connection; `exchange` one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.exchanges = 0  # finished request/answer pairs: a reused connection may have gone stale
        self.keep_alive = False
        self._parser: httptools.HttpResponseParser | None = None
        self._head_request = False
        self._status = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._interim: deque[bytes] = deque()
        self._head: asyncio.Future[Head] | None = None
        self._body: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._closed = False
        self._wake = asyncio.Event()
        self._paused = False
        self._writable = asyncio.Event()
        self._writable.set()

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._parser is None or self._complete:
            self._fail("The server sent data with no request pending.")
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(f"The server's answer is not valid HTTP: {error}")

    def eof_received(self) -> bool | None:
        return False  # closes the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.keep_alive = False
        if self._head is not None and not self._head.done():
            self._head.set_exception(UpstreamError("The server closed the connection without answering.", answered=False))
        self._wake.set()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- httptools callbacks

    def on_status(self, status: bytes) -> None:
        self._status += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        assert self._head is not None
        status = self._parser.get_status_code()
        headers, self._headers, reason, self._status = self._headers, [], self._status, b""
        if 100 <= status < 200 and status != 101:
            self._interim.append(b"HTTP/1.1 %d %s\r\n\r\n" % (status, reason))  # passed on as it came, without headers
            return
        head = Head(status, reason, headers)
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"transfer-encoding" and b"chunked" in value.lower():
                head.chunked = True
            elif lowered == b"content-length" and value.strip().isdigit():
                head.length = int(value)
        if not self._head.done():
            self._head.set_result(head)
        if not head.has_body(self._head_request):
            self._finish()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake.set()

    def on_message_complete(self) -> None:
        if self._head is not None and self._head.done():
            self._finish()

    # -- the caller's side

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self, head: bytes, *, head_request: bool) -> None:
        """Send a request's head; the body follows with `write`."""
        assert self.transport is not None
        self._parser = httptools.HttpResponseParser(self)
        self._head_request = head_request
        self._head = asyncio.get_running_loop().create_future()
        self._body.clear()
        self._buffered = 0
        self._complete = False
        self.transport.write(head)

    async def write(self, data: bytes) -> None:
        if self._closed or self.transport is None:
            raise UpstreamError("The server closed the connection while the request was sent.", answered=False)
        self.transport.write(data)
        await self._writable.wait()

    async def head(self, timeout: float) -> Head:
        assert self._head is not None
        if self._head.done():
            return self._head.result()
        async with asyncio.timeout(timeout):
            return await self._head

    def interim(self) -> list[bytes]:
        found = list(self._interim)
        self._interim.clear()
        return found

    async def body(self, timeout: float) -> bytes | None:
        """What arrived of the body since the last call, at least one byte; None once it is complete.
        Raises UpstreamError when cut short, TimeoutError after `timeout` seconds without a byte."""
        while not self._body:
            if self._complete:
                return None
            if self._closed:
                raise UpstreamError("The server closed the connection in the middle of its answer.", answered=True)
            self._wake.clear()
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        # Everything that arrived at once goes on in one write.
        piece = self._body.popleft() if len(self._body) == 1 else b"".join(self._body)
        self._body.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return piece

    def ready(self) -> bool:
        """Whether `body` would answer without waiting."""
        return bool(self._body) or self._complete or self._closed

    def close_delimited(self, head: Head) -> bool:
        """Whether the answer's body ends when the server closes (no length, not chunked)."""
        return head.has_body(self._head_request) and not head.chunked and head.length is None

    def close(self) -> None:
        if self._head is not None and not self._head.done():
            self._head.cancel()  # given up before its answer: no error left unretrieved in the log
        if self.transport is not None:
            self.transport.close()

    def _finish(self) -> None:
        if self._complete:
            return  # an answer without a body ends at its head, before llhttp says so
        self._complete = True
        assert self._parser is not None
        self.keep_alive = not self._closed and self._parser.should_keep_alive()
        self.exchanges += 1
        self._wake.set()

    def _fail(self, message: str) -> None:
        if self._head is not None and not self._head.done():
            self._head.set_exception(UpstreamError(message, answered=True))
        self.close()


class Pool:
    """Idle kept-alive connections per address (a host and port, or a Unix socket path)."""

    def __init__(self, per_address: int = 32) -> None:
        self._idle: dict[str | tuple[str, int], list[Upstream]] = {}
        self._per_address = per_address

    async def connect(self, address: str | tuple[str, int]) -> Upstream:
        idle = self._idle.get(address)
        while idle:
            found = idle.pop()
            if not found.closed:
                return found
        loop = asyncio.get_running_loop()
        if isinstance(address, str):
            _, protocol = await loop.create_unix_connection(Upstream, address)
        else:
            _, protocol = await loop.create_connection(Upstream, *address)
        return protocol

    def release(self, address: str | tuple[str, int], connection: Upstream) -> None:
        """Keep a connection whose last answer was complete and kept alive; close any other."""
        idle = self._idle.setdefault(address, [])
        if connection.keep_alive and not connection.closed and len(idle) < self._per_address:
            idle.append(connection)
        else:
            connection.close()

    def forget(self, address: str | tuple[str, int]) -> None:
        for connection in self._idle.pop(address, []):
            connection.close()

    def close(self) -> None:
        for address in list(self._idle):
            self.forget(address)
