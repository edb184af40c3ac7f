"""Requests for a server-rendered site: the edge passes to the deployment's server exactly those
the console would pass to it (Compute routes, rewrites to them, authorized requests), with the
console's X-Forwarded-* headers and the app's custom headers, and hands the rest to the console."""

from __future__ import annotations

from typing import Any

import pytest

from apps.branches.models import Branch
from apps.edge.tests.running import RunningEdge
from apps.edge.tests.sites import Site
from apps.edge.tests.upstreams import Recorder
from apps.edge.tests.wire import request_bytes
from apps.hosting import services as hosting
from apps.hosting.rules import parse_rules

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = """customHeaders:
  - pattern: '**/*'
    headers:
      - key: 'X-Frame-Options'
        value: 'SAMEORIGIN'
      - key: 'X-Site-Policy'
        value: 'from the app settings'
"""


def set_rules(site: Site, edge: RunningEdge, *rules: dict[str, str]) -> None:
    """Save the app's rules as the rules page does; the edge reads the plan again at once."""
    hosting.set_custom_rules(actor=None, app=site.app, rules=parse_rules(list(rules)))
    edge.edge.forget_plans()


def test_a_compute_route_reaches_the_server_with_the_console_s_forwarded_headers(
    site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder, settings: Any
) -> None:
    settings.HOSTING_SCHEME = "https"  # what the site is served over, whatever the edge's own socket speaks
    forged = [
        ("X-Forwarded-For", "6.6.6.6"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "gopher"),
        ("X-Edge-Client", "6.6.6.6"),
        ("User-Agent", "edge-test"),
    ]
    with site_edge.client() as client:
        answer = client.get("/app/page?q=1", site.host, forged)
    assert (answer.status, answer.body) == (200, b"compute GET /app/page?q=1")
    (seen,) = compute.seen
    assert seen.target == "/app/page?q=1"
    assert seen.all("Host") == [site.host]
    assert seen.all("X-Forwarded-Host") == [site.host]
    assert seen.all("X-Forwarded-Proto") == ["https"]
    assert seen.all("X-Forwarded-For") == ["127.0.0.1"]  # no trusted proxy: the header sent is not believed
    assert seen.header("X-Edge-Client") is None  # the console's word only
    assert seen.header("User-Agent") == "edge-test"
    assert console.seen == []


def test_a_trusted_proxy_s_header_names_the_visitor_to_the_server(
    site: Site, site_edge: RunningEdge, compute: Recorder, settings: Any
) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    with site_edge.client() as client:
        # The visitor's own (forged) entry first, the one the trusted proxy appended last; on two lines.
        client.get("/app/", site.host, [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.7")])
    assert compute.seen[0].all("X-Forwarded-For") == ["203.0.113.7"]


def test_a_post_body_reaches_the_server_intact(site: Site, site_edge: RunningEdge, compute: Recorder) -> None:
    with site_edge.client() as client:
        client.send(request_bytes("POST", "/app/form", site.host, [("Content-Type", "text/plain")], b"x=1&y=2"))
        answer = client.answer()
    assert answer.body == b"compute POST /app/form"
    assert compute.seen[0].body == b"x=1&y=2"


def test_the_answer_carries_the_app_s_custom_headers(site: Site, site_edge: RunningEdge, compute: Recorder) -> None:
    hosting.set_custom_headers(actor=None, app=site.app, text=HEADERS)
    site_edge.edge.forget_plans()
    with site_edge.client() as client:
        answer = client.get("/app/hop-headers", site.host)
    assert answer.body == b"compute GET /app/hop-headers"
    assert answer.all("X-Frame-Options") == ["SAMEORIGIN"]  # the setting replaces the server's DENY
    assert answer.header("X-Site-Policy") == "from the app settings"
    assert answer.header("Keep-Alive") is None


def test_a_server_error_carries_no_custom_headers(site: Site, site_edge: RunningEdge) -> None:
    hosting.set_custom_headers(actor=None, app=site.app, text=HEADERS)
    site_edge.edge.forget_plans()
    with site_edge.client() as client:
        answer = client.get("/app/status/503", site.host)
    assert answer.status == 503  # the server's own, passed on
    assert answer.header("X-Site-Policy") is None  # as the console: none on a 5xx


@pytest.mark.parametrize(
    ("path", "answered_by"),
    [
        ("/static/app.css", "console"),  # a Static route's file
        ("/logo.svg", "console"),  # a file, before the route's Compute fallback
        ("/static/missing.css", "console"),  # a Static route without that file or a fallback: the site's 404
        ("/elsewhere", "console"),  # no route at all
        ("/missing.txt", "compute"),  # no such file: the route's Compute fallback
        ("/app/deep/page", "compute"),
    ],
)
def test_static_files_and_unrouted_paths_go_to_the_console(
    site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder, path: str, answered_by: str
) -> None:
    with site_edge.client() as client:
        answer = client.get(path, site.host)
    assert answer.body == f"{answered_by} GET {path}".encode()
    assert (console.targets(), compute.targets()) == (([path], []) if answered_by == "console" else ([], [path]))


def test_a_redirect_rule_goes_to_the_console(site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder) -> None:
    set_rules(site, site_edge, {"source": "/app/old", "target": "/app/new", "status": "301"})
    with site_edge.client() as client:
        client.get("/app/old", site.host)
        client.get("/app/other", site.host)  # the rule does not match: the server's
    assert console.targets() == ["/app/old"]
    assert compute.targets() == ["/app/other"]


@pytest.mark.parametrize(
    ("requested", "received"),
    [("/old/page?q=1&r=2", "/app/page?q=1&r=2"), ("/old/a%20b", "/app/a%20b"), ("/old/x", "/app/x")],
)
def test_a_rewrite_to_a_compute_path_reaches_the_server_with_the_original_query(
    site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder, requested: str, received: str
) -> None:
    set_rules(site, site_edge, {"source": "/old/<*>", "target": "/app/<*>", "status": "200"})
    with site_edge.client() as client:
        answer = client.get(requested, site.host)
    assert answer.status == 200
    assert compute.targets() == [received]
    assert console.seen == []


def test_a_rewrite_to_a_static_file_goes_to_the_console(
    site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder
) -> None:
    set_rules(site, site_edge, {"source": "/app/<*>", "target": "/logo.svg", "status": "200"})
    with site_edge.client() as client:
        client.get("/app/anything", site.host)
    assert console.targets() == ["/app/anything"]  # as it came: the console rewrites it itself
    assert compute.seen == []


def test_a_password_protected_site_reaches_the_server_only_with_the_right_credentials(
    site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder
) -> None:
    hosting.set_basic_auth(actor=None, app=site.app, enabled=True, username="ada", password="open-sesame-42")
    site_edge.edge.forget_plans()
    with site_edge.client() as client:
        client.get("/app/no-credentials", site.host)
        client.get("/app/wrong", site.host, [("Authorization", "Basic YWRhOndyb25n")])  # ada:wrong
        answer = client.get("/app/right", site.host, [("Authorization", "Basic YWRhOm9wZW4tc2VzYW1lLTQy")])
    assert console.targets() == ["/app/no-credentials", "/app/wrong"]  # the console challenges them
    assert compute.targets() == ["/app/right"]
    assert answer.body == b"compute GET /app/right"


def test_a_branch_with_nothing_deployed_goes_to_the_console(site: Site, site_edge: RunningEdge, console: Recorder) -> None:
    dev = Branch.objects.create(app=site.app, name="dev", display_name="dev")
    with site_edge.client() as client:
        client.get("/app/page", f"{dev.hostname_label}.{site.app.default_domain}")
    assert console.targets() == ["/app/page"]


def test_one_connection_mixes_server_and_console_answers(
    site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder
) -> None:
    with site_edge.client() as client:
        bodies = [client.get(path, site.host).body for path in ("/app/1", "/logo.svg", "/app/2", "/elsewhere")]
    assert bodies == [b"compute GET /app/1", b"console GET /logo.svg", b"compute GET /app/2", b"console GET /elsewhere"]
    assert compute.connections == 1  # the server's connection was kept for the second request
