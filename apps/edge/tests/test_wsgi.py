"""console/wsgi.py: X-Edge-Client names the visitor only on a request that came on a Unix
socket (gunicorn's, which only the edge can open); on any other it is dropped unread."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from console import wsgi

PROXY = "10.0.0.5"  # the address the WSGI server saw


def environ(connection: socket.socket | None, **extra: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/whoami",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": PROXY,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        **extra,
    }
    if connection is not None:
        found["gunicorn.socket"] = connection
    return found


@pytest.fixture
def unix_socket() -> Iterator[socket.socket]:
    ends = socket.socketpair(socket.AF_UNIX)
    yield ends[0]
    for end in ends:
        end.close()


@pytest.fixture
def tcp_socket() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as found:
        yield found


@pytest.fixture
def reached_django(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The environs Django was called with."""
    seen: list[dict[str, Any]] = []

    def capture(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(dict(env))
        start_response("200 OK", [])
        return [b""]

    monkeypatch.setattr(wsgi, "django_application", capture)
    return seen


def call(env: dict[str, Any]) -> tuple[str, bytes]:
    said: list[str] = []
    body = b"".join(wsgi.application(env, lambda status, headers, *rest: said.append(status)))
    return said[0], body


def test_on_a_unix_socket_x_edge_client_becomes_remote_addr(
    unix_socket: socket.socket, reached_django: list[dict[str, Any]]
) -> None:
    call(environ(unix_socket, HTTP_X_EDGE_CLIENT="203.0.113.9"))
    (seen,) = reached_django
    assert seen["REMOTE_ADDR"] == "203.0.113.9"
    assert "HTTP_X_EDGE_CLIENT" not in seen


def test_on_a_unix_socket_without_the_header_remote_addr_stays(
    unix_socket: socket.socket, reached_django: list[dict[str, Any]]
) -> None:
    call(environ(unix_socket))
    assert reached_django[0]["REMOTE_ADDR"] == PROXY


@pytest.mark.parametrize("connection", ["tcp", "none", "not-a-socket"])
def test_elsewhere_the_header_is_dropped_and_remote_addr_stays(
    connection: str, tcp_socket: socket.socket, reached_django: list[dict[str, Any]]
) -> None:
    env = environ(tcp_socket if connection == "tcp" else None, HTTP_X_EDGE_CLIENT="6.6.6.6")
    if connection == "not-a-socket":
        env["gunicorn.socket"] = "unix"  # only a real socket's family counts
    call(env)
    (seen,) = reached_django
    assert seen["REMOTE_ADDR"] == PROXY
    assert "HTTP_X_EDGE_CLIENT" not in seen  # nothing further on reads a forged one


@pytest.mark.django_db
@pytest.mark.parametrize(("connection", "believed"), [("unix", "203.0.113.9"), ("tcp", PROXY)])
def test_the_console_s_pages_see_the_address_the_edge_gave(
    connection: str, believed: str, unix_socket: socket.socket, tcp_socket: socket.socket, settings: Any
) -> None:
    # Through Django itself (the middleware, a view reading console.client_address).
    settings.ROOT_URLCONF = "apps.edge.tests.urls"
    status, body = call(environ(unix_socket if connection == "unix" else tcp_socket, HTTP_X_EDGE_CLIENT="203.0.113.9"))
    assert status.startswith("200")
    assert body.decode() == believed
