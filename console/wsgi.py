"""The WSGI application, and who the visitor is when the edge (apps.edge) handed the request on.

The edge talks to gunicorn on a Unix socket in a folder only the console's user can open
(EDGE_CONSOLE_SOCKET) and says whose request it is in X-Edge-Client. Only a request that came
on a Unix socket may say so: anywhere else the header is dropped, so nobody else can choose
the address the audit log and the sign-in limits see."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_application = get_wsgi_application()

EDGE_CLIENT = "HTTP_X_EDGE_CLIENT"


def from_edge(environ: dict[str, Any]) -> bool:
    connection = environ.get("gunicorn.socket")
    return isinstance(connection, socket.socket) and connection.family == socket.AF_UNIX


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    client = environ.pop(EDGE_CLIENT, None)
    if client and from_edge(environ):
        environ["REMOTE_ADDR"] = client
    return django_application(environ, start_response)
