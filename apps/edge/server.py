"""The edge: the console's front door, which passes server-rendered requests straight to their server.

Every request is read here (httptools), then either
- passed to the site's compute server, when the site's plan (plans.py) says the console
  would do exactly that: the same request headers the console sends (X-Forwarded-*), the
  answer streamed back with the site's custom headers, one line in the access log; or
- handed to the console (gunicorn, on its Unix socket) as it came, with the visitor's
  address in X-Edge-Client, which the console believes only on that socket.
So the console's Python request path is skipped only where it would have added nothing but
time; anything unusual (no plan, a redirect, a wrong password, a static file, a server that is
not running or refuses the connection) goes the console's way, whose answers (the 503 with the
reason, the site's 404 page) stay the only ones. A server that fails once it has the request
is answered 502 as the console answers it, and never asked twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, cast
from urllib.parse import quote

import httptools
from django.conf import settings
from django.utils import timezone

from apps.compute import services as compute
from apps.edge import http1
from apps.edge.http1 import Request
from apps.edge.plans import Compute, SitePlan, authorized, decide
from apps.edge.state import Edge
from apps.edge.upstream import Head, Upstream, UpstreamError
from apps.hosting import services as hosting
from console.client_address import address_of

logger = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
BODY_HIGH_WATER = 256 * 1024
IDLE_SECONDS = 60.0  # a kept-alive connection with no new request (or an unfinished head or body) is closed
ANSWER_SECONDS = 120.0  # the longest a server may keep the edge waiting for its next byte (as proxy.py)
STOP_GRACE_SECONDS = 10.0  # on SIGTERM, how long answers under way may take to finish
# Pipelined requests read ahead of the one being answered; past this the socket is not read.
MAX_QUEUED = 8
# Request headers the edge sets itself for a compute server (as apps.compute.proxy does).
_COMPUTE_DROPPED = frozenset({b"host", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", http1.EDGE_CLIENT})
_CONSOLE_DROPPED = frozenset({http1.EDGE_CLIENT})
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
CONSOLE_SILENT = "The console is not answering."
SERVER_SILENT = "This site's server did not answer."  # as apps/compute/proxy.py says it
# What became of an answer passed on: (the connection may be kept, status, body bytes sent).
Answered = tuple[bool, int, int]


class ClientGone(Exception):
    """The visitor closed the connection."""


class Connection(asyncio.Protocol):
    """One visitor's connection: requests answered one after another, as they came."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.parser = httptools.HttpRequestParser(self)
        self.requests: list[Request] = []
        self.current: Request | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0
        self.closed = False
        self.wake = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.reading_paused = False
        self.upgraded = False  # the parser stopped at a protocol switch: nothing more is read
        self.busy = False  # answering a request (a stop lets it finish)
        self.task: asyncio.Task[None] | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) else ""
        self.edge.connections.add(self)
        self.task = asyncio.get_running_loop().create_task(self.serve())

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No protocol switch through the edge: the request is answered as a plain one
            # (the Upgrade header is a hop-by-hop header), then the connection closes.
            self.upgraded = True
            self.pause_reading()
        except httptools.HttpParserError:
            if self.head_bytes > MAX_HEAD_BYTES:
                self.refuse(431, b"Request Header Fields Too Large", "The request's headers are too large.")
            else:
                self.refuse(400, b"Bad Request", "The request is not valid HTTP/1.1.")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.edge.connections.discard(self)
        self.wake.set()
        self.writable.set()
        for request in self.requests:
            request.body_done = True

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # -- httptools callbacks

    def on_message_begin(self) -> None:
        self.url, self.headers, self.head_bytes = b"", [], 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        self._count(len(name) + len(value))

    def on_headers_complete(self) -> None:
        request = Request(
            method=self.parser.get_method(),
            target=self.url,
            version=self.parser.get_http_version(),
            headers=self.headers,
            keep_alive=self.parser.should_keep_alive(),
            upgrade=self.parser.should_upgrade(),
        )
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == b"transfer-encoding" and b"chunked" in value.lower():
                request.chunked = True
            elif lowered == b"content-length" and value.strip().isdigit():
                request.length = int(value)
        if request.upgrade or not request.has_body:
            request.body_done = True
        if request.upgrade:
            request.keep_alive = False
        self.current = request
        self.requests.append(request)
        if len(self.requests) > MAX_QUEUED:
            self.pause_reading()
        self.wake.set()

    def on_body(self, body: bytes) -> None:
        request = self.current
        assert request is not None
        request.body.append(body)
        request.buffered += len(body)
        if request.buffered > BODY_HIGH_WATER:
            self.pause_reading()
        self.wake.set()

    def on_message_complete(self) -> None:
        if self.current is not None:
            self.current.body_done = True
        self.wake.set()

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            raise ValueError("head too large")  # httptools stops parsing: answered 431

    # -- flow control

    def pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None and not self.closed and not self.upgraded:
            self.reading_paused = False
            self.transport.resume_reading()

    async def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise ClientGone
        self.transport.write(data)
        if not self.writable.is_set():
            await self.writable.wait()
            if self.closed:
                raise ClientGone

    def refuse(self, status: int, reason: bytes, text: str) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(http1.plain_answer(status, reason, text, close=True))
            self.transport.close()
        self.closed = True

    # -- serving

    async def serve(self) -> None:
        try:
            while not self.closed:
                if not self.requests:
                    self.wake.clear()
                    try:
                        await asyncio.wait_for(self.wake.wait(), IDLE_SECONDS)
                    except TimeoutError:
                        break
                    continue
                request = self.requests.pop(0)
                if len(self.requests) <= MAX_QUEUED and request.buffered <= BODY_HIGH_WATER:
                    self.resume_reading()
                self.busy = True
                keep = await self.handle(request)
                self.busy = False
                # The next request is read only once this one's body is, to its end; none after a stop.
                if not keep or not request.body_done or request.body or self.edge.stopping:
                    break
        except ClientGone:
            pass
        except Exception:
            logger.exception("The edge failed a request")
        finally:
            if self.transport is not None and not self.closed:
                self.transport.close()

    async def handle(self, request: Request) -> bool:
        """Answer one request; whether the connection may be kept for the next one."""
        started = time.perf_counter()
        host = (request.header(b"host") or b"").decode("latin-1")
        plan = await self.edge.plan(host) if host and not request.upgrade else None
        parts = request.path_and_query() if plan is not None else None
        if plan is not None and parts is not None:
            raw_path, path, query = parts
            authorization = request.header(b"authorization")
            allowed = await self._authorized(plan, authorization.decode("latin-1") if authorization else None)
            decision = self._decide(plan, path, query) if allowed else None
            if decision is not None:
                target = raw_path if decision.path == path else quote(decision.path, safe=_PATH_SAFE).encode()
                kept = await self.to_compute(request, plan, decision, target + (b"?" + query.encode() if query else b""))
                if kept is not None:
                    self._log(request, plan, host, path, query, kept, started)
                    return kept[0]
        return await self.to_console(request)

    @staticmethod
    def _decide(plan: SitePlan, path: str, query: str) -> Compute | None:
        try:
            return decide(plan, path, query)
        except Exception:  # a rule or route the console would fail on too: it answers, and says so
            logger.exception("The edge could not decide on %s; the console answers", path)
            return None

    async def _authorized(self, plan: SitePlan, authorization: str | None) -> bool:
        if not plan.protected:
            return True
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.edge.plan_thread, authorized, plan, authorization)

    def client_ip(self, request: Request) -> str | None:
        header = settings.TRUSTED_PROXY_HEADER
        return address_of(self.peer, request.joined(header.lower().encode()) if header else "")

    async def to_compute(self, request: Request, plan: SitePlan, decision: Compute, target: bytes) -> Answered | None:
        """(keep-alive, status, body bytes) of the server's answer; None: the console should answer
        (the server cannot run, or refused the connection twice): nothing was sent to any server."""
        host = request.header(b"host") or b""
        extra = [
            (b"Host", host),
            (b"X-Forwarded-Host", host),
            (b"X-Forwarded-Proto", str(settings.HOSTING_SCHEME).encode()),
            (b"X-Forwarded-For", (self.client_ip(request) or "").encode()),
        ]
        head = http1.request_head(request, target, _COMPUTE_DROPPED, extra)
        for fresh in (False, True):
            port = await self.edge.port(decision.deployment_pk, fresh=fresh)
            if port is None:
                return None
            try:
                upstream = await self.edge.pool.connect(("127.0.0.1", port))
            except ConnectionRefusedError:
                compute.forget_port(decision.deployment_pk)  # stopped since it was asked for (idle, crashed)
                self.edge.pool.forget(("127.0.0.1", port))
                continue
            except OSError:
                return None
            # Sent: a server that then fails is answered for (502, as proxy.py), never asked twice.
            return await self.exchange(request, ("127.0.0.1", port), head, decision.headers, upstream, SERVER_SILENT)
        return None

    async def to_console(self, request: Request) -> bool:
        extra = [(b"X-Edge-Client", self.peer.encode())]
        head = http1.request_head(request, request.target, _CONSOLE_DROPPED, extra)
        try:
            upstream = await self.edge.pool.connect(self.edge.console)
        except OSError as error:
            logger.error("The console did not answer the edge: %s", error)
            await self.write(http1.plain_answer(502, b"Bad Gateway", CONSOLE_SILENT, close=True))
            return False
        return (await self.exchange(request, self.edge.console, head, [], upstream, CONSOLE_SILENT))[0]

    async def exchange(
        self,
        request: Request,
        address: str | tuple[str, int],
        head: bytes,
        added: list[tuple[str, str]],
        upstream: Upstream,
        silent: str,
    ) -> Answered:
        """Send the request on `upstream`, pass the answer on; (keep-alive, status, body bytes).

        A kept-alive connection the server had closed meanwhile (no answer at all) is replaced
        once, as long as none of the request's body was used; any other failure before the
        answer's head is answered 502 with `silent`."""
        for attempt in range(2):
            if attempt:
                try:
                    upstream = await self.edge.pool.connect(address)
                except OSError:
                    break
            reused = upstream.exchanges > 0
            upstream.start(head, head_request=request.method == b"HEAD")
            try:
                await self._send_body(request, upstream)
                answer = await upstream.head(ANSWER_SECONDS)
            except (UpstreamError, TimeoutError) as error:
                upstream.close()
                if reused and not attempt and not request.body_started and not getattr(error, "answered", True):
                    continue
                logger.warning("No answer from %s: %s", address, error or "timed out")
                break
            except ClientGone:
                upstream.close()
                raise
            return await self._pass_answer(request, address, upstream, answer, added)
        await self.write(http1.plain_answer(502, b"Bad Gateway", silent, close=True))
        return False, 502, 0

    async def _send_body(self, request: Request, upstream: Upstream) -> None:
        if request.body_done and not request.body:
            return
        if request.expects_continue() and not request.body:
            await self.write(http1.CONTINUE)
        while True:
            while not request.body:
                if request.body_done:
                    if request.chunked:
                        await upstream.write(http1.LAST_CHUNK)
                    return
                if self.closed:
                    raise ClientGone
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), IDLE_SECONDS)
                except TimeoutError:
                    raise ClientGone from None  # a body that stopped arriving, as an unfinished head: closed
            piece = request.body.popleft()
            request.buffered -= len(piece)
            request.body_started = True
            if request.buffered <= BODY_HIGH_WATER // 2:
                self.resume_reading()
            await upstream.write(http1.chunk(piece) if request.chunked else piece)

    async def _pass_answer(
        self, request: Request, address: str | tuple[str, int], upstream: Upstream, answer: Head, added: list[tuple[str, str]]
    ) -> Answered:
        for interim in upstream.interim():
            if request.version == "1.1":
                await self.write(interim)
        keep = request.keep_alive
        headers = [(name, value) for name, value in answer.headers if name.lower() not in http1.HOP_BY_HOP]
        if added and answer.status < 500:
            replaced = {name.lower().encode() for name, _ in added}
            headers = [(name, value) for name, value in headers if name.lower() not in replaced]
            headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in added]
        has_body = answer.has_body(request.method == b"HEAD")
        chunked = has_body and (answer.chunked or answer.length is None) and request.version == "1.1"
        if has_body and not chunked and answer.length is None:
            keep = False  # an HTTP/1.0 visitor: the body ends when the connection does
        if chunked:
            headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]
            headers.append((b"Transfer-Encoding", b"chunked"))
        if not keep:
            headers.append((b"Connection", b"close"))
        # What is ready goes out in one write (head, body, last chunk): a write is a system call,
        # and on loopback the receiver's share of TCP too. Nothing waits for more to arrive.
        pending = [http1.response_head(answer.status, answer.reason, headers)]
        sent = 0
        try:
            while True:
                if pending and not upstream.ready():
                    await self.write(b"".join(pending))
                    pending = []
                piece = await upstream.body(ANSWER_SECONDS)
                if piece is None:
                    break
                sent += len(piece)
                pending.append(http1.chunk(piece) if chunked else piece)
        except (UpstreamError, TimeoutError):
            upstream.close()
            if not upstream.close_delimited(answer) or not upstream.closed:
                await self.write(b"".join(pending))
                return False, answer.status, sent  # cut short: the visitor sees the connection close
        except ClientGone:
            upstream.close()
            raise
        if chunked:
            pending.append(http1.LAST_CHUNK)
        await self.write(b"".join(pending))
        self.edge.pool.release(address, upstream)
        return keep, answer.status, sent

    def _log(self, request: Request, plan: SitePlan, host: str, path: str, query: str, kept: Answered, started: float) -> None:
        _, status, sent = kept
        hosting.record_hit(
            hosting.Hit(
                time=timezone.now(),
                app_id=plan.app_pk,
                branch_id=plan.branch_pk,
                branch_name=plan.branch_name,
                method=request.method.decode("latin-1"),
                host=host,
                path=path + ("?" + query if query else ""),
                status=status,
                bytes_sent=sent,
                duration_ms=(time.perf_counter() - started) * 1000,
                client_ip=self.client_ip(request),
                user_agent=(request.header(b"user-agent") or b"").decode("latin-1"),
            )
        )


async def serve(edge: Edge, host: str, port: int, stop: asyncio.Event, ready: Any = None) -> None:
    """Serve until `stop` is set; `ready(bound port)` is called once listening."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(edge), host, port, backlog=1024, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(bound)
    try:
        await stop.wait()
    finally:
        server.close()
        await _let_go(edge)
        edge.close()


async def _let_go(edge: Edge) -> None:
    """Close idle connections at once; let answers under way finish for STOP_GRACE_SECONDS."""
    edge.stopping = True
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while edge.connections and time.monotonic() < deadline:
        for connection in list(edge.connections):
            if not connection.busy and connection.transport is not None:
                connection.transport.close()
        await asyncio.sleep(0.05)
    for connection in list(edge.connections):
        if connection.transport is not None:
            connection.transport.abort()
