"""The least a Python WSGI proxy does, as a reference for bench_compute.py: forward GET to
the node server whose port is in the file BARE_PROXY_PORT_FILE (read when a thread opens its
connection: the benchmark writes it once the server runs) over one kept-alive connection per
thread, and stream the answer back. No console: no host lookup, routes, rules, headers,
access log or Django.

Served by the same gunicorn settings as the console (`benchmarks.bare_proxy:application`), it
measures what any Python proxy in front of node costs on this machine."""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

PORT_FILE = os.environ.get("BARE_PROXY_PORT_FILE", "")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})
_local = threading.local()


def _body(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while chunk := response.read1(65536):
        yield chunk
    response.close()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    if environ["PATH_INFO"] == "/ready":  # for the benchmark's start-up check, before node runs
        start_response("200 OK", [("Content-Length", "0")])
        return iter(())
    connection = getattr(_local, "connection", None)
    if connection is None:
        with open(PORT_FILE) as port:
            connection = _local.connection = http.client.HTTPConnection("127.0.0.1", int(port.read()))
    connection.request("GET", environ["PATH_INFO"], headers={"Host": environ.get("HTTP_HOST", "")})
    response = connection.getresponse()
    headers = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
    start_response(f"{response.status} {response.reason}", headers)
    return _body(response)
