"""A server-rendered site for the edge's compute tests: real rows (an app, its branch, a live
compute deployment published as a build publishes it) and a stand-in for hostd's answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from apps.branches.models import App, Branch
from apps.builds.artifacts import ArtifactFile
from apps.compute import client
from apps.compute.publishing import publish_compute
from apps.compute.tests.servers import hosting_output, server_folder, static_folder
from apps.hosting.tests.sites import new_job

# Static files under /static/ (no fallback), files with an extension first from the store
# then from the server, /app/... from the server; any other path matches no route.
ROUTES = [
    {"path": "/static/*", "target": {"kind": "Static"}},
    {"path": "/*.*", "target": {"kind": "Static"}, "fallback": {"kind": "Compute", "src": "default"}},
    {"path": "/app/*", "target": {"kind": "Compute", "src": "default"}},
]
STATIC_FILES = {"static/app.css": "body{}", "logo.svg": "<svg/>"}


@dataclass
class Site:
    app: App
    branch: Branch
    deployment_pk: int

    @property
    def host(self) -> str:
        return f"{self.branch.hostname_label}.{self.app.default_domain}"


@dataclass
class FakeHostd:
    """client.server_port as hostd would answer it, patched in: hostd (which starts real servers
    in sandboxes) is out of scope for unit tests, so the port given is the stand-in server's.
    `ports` are given in turn (the last one again and again); None: no hostd runs."""

    ports: list[int] = field(default_factory=list)
    down: str = ""
    asked: list[tuple[int, bool]] = field(default_factory=list)

    def server_port(self, deployment_pk: int, *, fresh: bool = False, timeout: float | None = None) -> int:
        self.asked.append((deployment_pk, fresh))
        if self.down:
            raise client.ServerDown(self.down, retry_after=5)
        if not self.ports:
            raise client.HostdUnavailable("No compute supervisor runs in unit tests.")
        return self.ports.pop(0) if len(self.ports) > 1 else self.ports[0]


def publish_site(app: App, folder: Path) -> Site:
    """The app's main branch with a live compute deployment of ROUTES and STATIC_FILES, published
    as a build does (static files to the store, the bundle to the bucket, then live)."""
    branch = app.branches.get(name="main")
    static = static_folder(folder, STATIC_FILES)
    files = [ArtifactFile(path, static / path, (static / path).stat().st_size) for path in STATIC_FILES]
    output = hosting_output(server_folder(folder), files, routes=ROUTES)
    published = publish_compute(branch, new_job(branch), output, custom_headers="", say=lambda line: None)
    branch.refresh_from_db()
    assert branch.live_deployment_id == published.deployment.pk
    return Site(app, branch, published.deployment.pk)
