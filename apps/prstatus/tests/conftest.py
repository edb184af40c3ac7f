"""A local fake of the GitHub and GitLab APIs on 127.0.0.1 (a real http.server in a thread):
it records each call (method, path, headers, JSON body) and answers with the shapes the
providers document, or with a status a test chooses. Also: the gitops tests' app whose
repository has a pull request branch (`hello`), and reporting set up against the fake."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from apps.branches.tests.conftest import app, repo
from apps.gitops.tests.test_hook_views import client, hello
from conftest import http_server

__all__ = ["FakeHost", "Recorded", "app", "client", "closed_port_url", "fake_host", "hello", "repo"]

GITHUB_COMMENT_ID = 123
# GitHub Enterprise serves the API under /api/v3, GitLab under /api/v4.
_PREFIX = r"(?:/api/v[34])?"
GITLAB_NOTE_ID = 7


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeHost:
    url: str
    # None: the documented answers; a number: every call answered with it.
    status: int | None = None
    calls: list[Recorded] = field(default_factory=list)

    def shapes(self) -> list[tuple[str, str]]:
        return [(call.method, call.path) for call in self.calls]


def _documented(method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The answers GitHub's and GitLab's documentation show, trimmed to the fields that matter;
    the only comment and note that exist are the ones the fake creates (others: 404)."""
    if method == "POST" and (found := re.fullmatch(_PREFIX + r"/repos/[^/]+/[^/]+/statuses/(\w+)", path)):
        return 201, {"id": 1, "state": body.get("state"), "context": body.get("context"), "sha": found[1]}
    if method == "POST" and re.fullmatch(_PREFIX + r"/repos/[^/]+/[^/]+/issues/\d+/comments", path):
        return 201, {"id": GITHUB_COMMENT_ID, "node_id": "IC_1", "body": body.get("body")}
    if method == "PATCH" and (
        found := re.fullmatch(_PREFIX + rf"/repos/[^/]+/[^/]+/issues/comments/({GITHUB_COMMENT_ID})", path)
    ):
        return 200, {"id": int(found[1]), "body": body.get("body")}
    if method == "POST" and (found := re.fullmatch(_PREFIX + r"/projects/[^/]+/statuses/(\w+)", path)):
        return 201, {"id": 93, "sha": found[1], "status": body.get("state"), "name": body.get("name")}
    if method == "POST" and (found := re.fullmatch(_PREFIX + r"/projects/[^/]+/merge_requests/(\d+)/notes", path)):
        return 201, {"id": GITLAB_NOTE_ID, "body": body.get("body"), "noteable_iid": int(found[1]), "system": False}
    if method == "PUT" and (
        found := re.fullmatch(_PREFIX + rf"/projects/[^/]+/merge_requests/\d+/notes/({GITLAB_NOTE_ID})", path)
    ):
        return 200, {"id": int(found[1]), "body": body.get("body")}
    return 404, {"message": "Not Found"}


@pytest.fixture
def fake_host() -> Iterator[FakeHost]:
    state = FakeHost(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw) if raw else {}
            state.calls.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
            code, document = (
                (state.status, {"message": "Server Error"}) if state.status else _documented(self.command, self.path, body)
            )
            answer = json.dumps(document).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Handler) as server:
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield state


@pytest.fixture
def closed_port_url() -> str:
    """An API URL nothing listens at: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _private_hosts_allowed(settings: Any) -> None:
    """The fake is on 127.0.0.1, which a real console refuses (tests of the refusal turn it off)."""
    settings.PR_STATUS_ALLOW_PRIVATE_HOSTS = True
    settings.PR_STATUS_RETRY_SECONDS = 0.0
