"""The edge in front of a recording console, started afresh for each test; for the compute
tests, a published server-rendered site whose server is a recording stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.branches.models import App
from apps.branches.tests.conftest import app, repo
from apps.compute import client, routing
from apps.compute import services as compute_services
from apps.edge.tests.running import RunningEdge, run_edge
from apps.edge.tests.sites import FakeHostd, Site, publish_site
from apps.edge.tests.upstreams import Recorder, tcp_upstream
from apps.hosting import delivery, lookup, protection

__all__ = ["app", "repo"]


@pytest.fixture
def console() -> Iterator[Recorder]:
    """The console's stand-in (gunicorn), on a TCP port."""
    with tcp_upstream("console") as recorder:
        yield recorder


@pytest.fixture
def edge(console: Recorder) -> Iterator[RunningEdge]:
    with run_edge(console.address) as running:
        yield running


@pytest.fixture
def compute() -> Iterator[Recorder]:
    """The stand-in for the deployment's server."""
    with tcp_upstream("compute") as recorder:
        yield recorder


@pytest.fixture
def hostd(monkeypatch: pytest.MonkeyPatch) -> FakeHostd:
    fake = FakeHostd()
    monkeypatch.setattr(compute_services, "server_port", fake.server_port)  # what the edge asks
    return fake


def _forget_kept() -> None:
    # Kept per process by pk (and time): rows of earlier tests are gone, their ids may come back.
    routing._routes.cache_clear()
    delivery._manifest.cache_clear()
    lookup.forget()
    protection.forget_verified()
    client._ports.clear()


@pytest.fixture
def site(transactional_db: None, app: App, tmp_path: Path, hostd: FakeHostd) -> Iterator[Site]:
    """Committed rows (the edge reads plans on a thread of its own, with its own connection)."""
    _forget_kept()
    published = publish_site(app, tmp_path)  # no port yet: the deploy's warm-up finds no hostd, as in CI
    hostd.asked.clear()  # that warm-up's question
    yield published
    _forget_kept()


@pytest.fixture
def site_edge(site: Site, console: Recorder, compute: Recorder, hostd: FakeHostd) -> Iterator[RunningEdge]:
    """The edge in front of the console, the site's server being `compute`; plans kept 60 s."""
    hostd.ports = [compute.port]
    with run_edge(console.address, plan_seconds=60.0) as running:
        yield running
