"""What the edge does around a compute request: the access log line it writes, the console's
turn when the server cannot run or refuses, and how soon a saved change of the site is seen."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from apps.edge.tests.running import RunningEdge, run_edge
from apps.edge.tests.sites import FakeHostd, Site
from apps.edge.tests.upstreams import Recorder
from apps.hosting import access_log
from apps.hosting import services as hosting
from apps.hosting.models import AccessLogEntry
from conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def logged() -> list[AccessLogEntry]:
    """What the access log holds once its buffer is written (the edge records after answering,
    on its own thread: the test may read the answer first)."""
    access_log.flush()
    return list(AccessLogEntry.objects.order_by("pk"))


def test_a_compute_request_is_written_to_the_access_log(site: Site, site_edge: RunningEdge, compute: Recorder) -> None:
    with site_edge.client() as client:
        answer = client.get("/app/page?q=1", site.host, [("User-Agent", "edge-test/1")])
        client.get("/elsewhere", site.host)  # the console's: the console logs it itself
    entries = wait_for(logged, timeout=5, interval=0.02)
    time.sleep(0.1)
    assert len(logged()) == 1
    (entry,) = entries
    assert (entry.method, entry.host, entry.path, entry.status) == ("GET", site.host, "/app/page?q=1", 200)
    assert entry.bytes_sent == len(answer.body) == len(b"compute GET /app/page?q=1")
    assert (entry.app_id, entry.branch_id, entry.branch_name) == (site.app.pk, site.branch.pk, "main")
    assert entry.client_ip == "127.0.0.1"
    assert entry.user_agent == "edge-test/1"
    assert entry.duration_ms > 0


def test_a_head_request_is_logged_with_no_body_bytes(site: Site, site_edge: RunningEdge) -> None:
    with site_edge.client() as client:
        answer = client.get("/app/page", site.host, method="HEAD")
    assert answer.status == 200
    (entry,) = wait_for(logged, timeout=5, interval=0.02)
    assert (entry.method, entry.bytes_sent) == ("HEAD", 0)


@pytest.mark.parametrize("hostd_says", ["down", "absent"])
def test_when_the_server_cannot_run_the_console_answers(
    site: Site, console: Recorder, compute: Recorder, hostd: FakeHostd, hostd_says: str
) -> None:
    if hostd_says == "down":
        hostd.down = "The server crashed at start."  # client.ServerDown
    # else: no port at all (client.HostdUnavailable)
    with run_edge(console.address) as running, running.client() as client:
        answer = client.get("/app/page", site.host)
    assert answer.body == b"console GET /app/page"  # the console asks again and answers 503 with the reason
    assert hostd.asked == [(site.deployment_pk, False)]
    assert compute.seen == []
    assert access_log.flush() == 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_server_that_stopped_is_asked_for_afresh(site: Site, console: Recorder, compute: Recorder, hostd: FakeHostd) -> None:
    hostd.ports = [closed_port(), compute.port]  # the port known before, then the new server's
    with run_edge(console.address) as running, running.client() as client:
        answer = client.get("/app/page", site.host)
    assert answer.body == b"compute GET /app/page"
    assert hostd.asked == [(site.deployment_pk, False), (site.deployment_pk, True)]
    assert console.seen == []


def test_a_server_that_refuses_twice_leaves_the_request_to_the_console(site: Site, console: Recorder, hostd: FakeHostd) -> None:
    hostd.ports = [closed_port()]
    with run_edge(console.address) as running, running.client() as client:
        answer = client.get("/app/page", site.host)
    assert answer.body == b"console GET /app/page"
    assert hostd.asked == [(site.deployment_pk, False), (site.deployment_pk, True)]


def test_a_kept_plan_is_used_until_forgotten(site: Site, site_edge: RunningEdge, console: Recorder, compute: Recorder) -> None:
    with site_edge.client() as client:
        client.get("/app/before", site.host)
        hosting.set_basic_auth(actor=None, app=site.app, enabled=True, username="ada", password="open-sesame-42")
        client.get("/app/kept", site.host)  # within the 60 s the plan is kept: not yet seen
        site_edge.edge.forget_plans()
        client.get("/app/after", site.host)
    assert compute.targets() == ["/app/before", "/app/kept"]
    assert console.targets() == ["/app/after"]


def test_a_saved_change_is_seen_after_edge_plan_seconds(
    site: Site, console: Recorder, compute: Recorder, hostd: FakeHostd, settings: Any
) -> None:
    settings.EDGE_PLAN_SECONDS = 0.3
    hostd.ports = [compute.port]
    with run_edge(console.address, settings.EDGE_PLAN_SECONDS) as running, running.client() as client:
        client.get("/app/before", site.host)
        hosting.set_basic_auth(actor=None, app=site.app, enabled=True, username="ada", password="open-sesame-42")
        time.sleep(settings.EDGE_PLAN_SECONDS + 0.1)
        client.get("/app/after", site.host)
        hosting.set_basic_auth(actor=None, app=site.app, enabled=False)
        time.sleep(settings.EDGE_PLAN_SECONDS + 0.1)
        client.get("/app/open-again", site.host)
    assert compute.targets() == ["/app/before", "/app/open-again"]
    assert console.targets() == ["/app/after"]
