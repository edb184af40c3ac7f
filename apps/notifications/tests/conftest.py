"""An app with branches main and dev, and local HTTP receivers of webhooks on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from apps.branches.models import App
from apps.branches.tests.conftest import app, repo
from conftest import http_server

__all__ = ["Receiver", "app", "receiver", "repo"]


@dataclass
class Receiver:
    """What a local receiver was sent, and what it answers (status, headers)."""

    url: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Handler) as server:
        state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/build?team=web"
        yield state


@pytest.fixture
def loopback_allowed(settings: Any) -> None:
    """The receivers of these tests are on 127.0.0.1, which a real console refuses."""
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def shop(app: App) -> App:
    from apps.branches import services

    services.branch_connect(actor=None, app=app, name="dev")
    return app


MakeJob = Callable[..., Any]
