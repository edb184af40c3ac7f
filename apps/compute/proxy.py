"""Passing a hosted request to its compute server and streaming the answer back.

One kept-alive connection per server port and web thread. The response body is
passed on as it arrives (server-sent events, streamed SSR), never buffered."""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from apps.compute import client
from console.client_address import client_address

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0
# Headers of one connection, not of the message (RFC 9110, 7.6.1): never passed on.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"}
)
_REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}
# Headers that are never lists: a repeat replaces.
_SINGLE = frozenset({"content-type", "content-length", "location", "date", "etag", "last-modified"})
_local = threading.local()


def _connection(port: int) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's connection to the port, and whether it was used before."""
    pool: dict[int, http.client.HTTPConnection] = getattr(_local, "pool", None) or {}
    _local.pool = pool
    found = pool.get(port)
    if found is not None:
        return found, True
    made = http.client.HTTPConnection("127.0.0.1", port, timeout=CONNECT_TIMEOUT)
    pool[port] = made
    return made, False


def _drop(port: int) -> None:
    pool = getattr(_local, "pool", {})
    found = pool.pop(port, None)
    if found is not None:
        found.close()


def _request_headers(request: HttpRequest) -> dict[str, str]:
    headers = {name: str(value) for name, value in request.headers.items() if name.lower() not in _REQUEST_DROPPED}
    extra = {name.strip().lower() for name in request.headers.get("Connection", "").split(",")}
    headers = {name: value for name, value in headers.items() if name.lower() not in extra}
    host = request.META.get("HTTP_HOST", "")
    headers["Host"] = host
    headers["X-Forwarded-Host"] = host
    headers["X-Forwarded-Proto"] = str(settings.HOSTING_SCHEME)
    headers["X-Forwarded-For"] = client_address(request) or ""
    return headers


def _body(request: HttpRequest) -> bytes | None:
    if request.method in ("GET", "HEAD"):
        return None
    return request.read() if request.META.get("CONTENT_LENGTH") else b""


def _send(port: int, request: HttpRequest, target: str, body: bytes | None) -> http.client.HTTPResponse:
    """One try on this thread's connection; a kept-alive connection the server closed is retried once."""
    headers = _request_headers(request)
    for attempt in range(2):
        connection, reused = _connection(port)
        try:
            connection.request(str(request.method), target, body=body, headers=headers)
            response = connection.getresponse()
            if connection.sock is not None:
                connection.sock.settimeout(READ_TIMEOUT)
            return response
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            _drop(port)
            if not reused or attempt:
                raise
    raise AssertionError("unreachable")


def _stream(port: int, upstream: http.client.HTTPResponse) -> Iterator[bytes]:
    finished = False
    try:
        while upstream.length != 0 and (chunk := upstream.read1(CHUNK)):
            yield chunk
        # read1 does not mark a Content-Length body read to its end as done (http.client):
        # closing the response (not the connection) frees the connection for the next request.
        upstream.close()
        finished = True
    finally:
        if not finished or upstream.will_close:
            _drop(port)  # an unread body (the visitor left) spoils the connection


def forward(request: HttpRequest, deployment_pk: int, path: str) -> HttpResponse | StreamingHttpResponse:
    """The compute server's answer to the request, for `path` (after rewrites)."""
    query = request.META.get("QUERY_STRING", "")
    target = path + ("?" + query if query else "")
    body = _body(request)
    port = 0
    try:
        port = client.server_port(deployment_pk)
        try:
            upstream = _send(port, request, target, body)
        except ConnectionRefusedError:
            # Stopped since this process last asked (idle, crashed): ask the supervisor again.
            client.forget(deployment_pk)
            port = client.server_port(deployment_pk, fresh=True)
            upstream = _send(port, request, target, body)
    except client.HostdUnavailable as error:
        logger.error("Compute request for deployment %s: %s", deployment_pk, error)
        return _unavailable("This site's server is not running on this machine.", 0)
    except client.ServerDown as down:
        return _unavailable(f"This site's server is unavailable: {down}", down.retry_after)
    except (OSError, http.client.HTTPException) as error:
        _drop(port)
        logger.warning("Compute request for deployment %s failed: %s", deployment_pk, error)
        return _bad_gateway()
    response = StreamingHttpResponse(_stream(port, upstream), status=upstream.status, reason=upstream.reason)
    for name, value in upstream.getheaders():
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
            continue
        if lowered == "set-cookie":
            response.cookies.load(value)
        elif name in response and lowered not in _SINGLE:
            response[name] = f"{response[name]}, {value}"  # a repeated header is one list (RFC 9110, 5.3)
        else:
            response[name] = value
    return response


def _unavailable(message: str, retry_after: int) -> HttpResponse:
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _bad_gateway() -> HttpResponse:
    return HttpResponse("This site's server did not answer.", status=502, content_type="text/plain; charset=utf-8")
