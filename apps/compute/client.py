"""Asking this machine's supervisor (hostd) for a deployment's server.

Web processes remember a server's port for PORT_TTL_SECONDS, then ask again: the
ask is what tells the supervisor the server has traffic (idle stop), and it is how
a port the supervisor gave up is forgotten within that time."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

from django.conf import settings

from apps.compute.hostd import socket_path

PORT_TTL_SECONDS = 2.0
_ports: dict[int, tuple[int, float]] = {}
_lock = threading.Lock()


class HostdUnavailable(Exception):
    """No supervisor answers on this machine."""


class ServerDown(Exception):
    """The supervisor could not give a running server; the message says why."""

    def __init__(self, message: str, output: str = "", retry_after: int = 0) -> None:
        super().__init__(message)
        self.output, self.retry_after = output, retry_after


def ask(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    path = str(socket_path())
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
            control.settimeout(timeout)
            control.connect(path)
            control.sendall(json.dumps(request).encode() + b"\n")
            reply = control.makefile("rb").readline()
    except (FileNotFoundError, ConnectionRefusedError) as error:
        raise HostdUnavailable(
            f"No compute supervisor runs on this machine ({path}: {error.strerror}); start `manage.py hostd`."
        ) from None
    except OSError as error:
        raise HostdUnavailable(f"The compute supervisor did not answer: {error}") from None
    try:
        answer = json.loads(reply)
    except ValueError:
        raise HostdUnavailable("The compute supervisor gave no answer.") from None
    return answer if isinstance(answer, dict) else {}


def known_port(deployment_pk: int) -> int | None:
    """The port asked for within PORT_TTL_SECONDS, without asking (None: ask with server_port)."""
    with _lock:
        known = _ports.get(deployment_pk)
    return known[0] if known is not None and known[1] > time.monotonic() else None


def server_port(deployment_pk: int, *, fresh: bool = False, timeout: float | None = None) -> int:
    """The port of the deployment's running server; starts it if need be (cold start)."""
    now = time.monotonic()
    if not fresh:
        with _lock:
            known = _ports.get(deployment_pk)
        if known is not None and known[1] > now:
            return known[0]
    wait = timeout if timeout is not None else settings.COMPUTE_START_TIMEOUT_SECONDS + 30
    answer = ask({"op": "ensure", "deployment": deployment_pk}, wait)
    if not answer.get("ok"):
        with _lock:
            _ports.pop(deployment_pk, None)
        raise ServerDown(
            str(answer.get("error") or "The server could not be started."),
            str(answer.get("output") or ""),
            int(answer.get("retry_after") or 0),
        )
    port = int(answer["port"])
    with _lock:
        _ports[deployment_pk] = (port, time.monotonic() + PORT_TTL_SECONDS)
    return port


def forget(deployment_pk: int) -> None:
    with _lock:
        _ports.pop(deployment_pk, None)
