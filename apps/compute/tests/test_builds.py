"""Builds of server-rendered apps, run in-process: the deploy manifest as the contract, the
Next.js adapter's advice, and a server that does not start never going live."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from apps.builds.models import Job
from apps.builds.tests.builds import build, log_of, make_app
from apps.compute.models import ComputeDeployment
from apps.compute.tests.conftest import needs_servers
from apps.compute.tests.servers import ROUTES, SERVER_JS

pytestmark = [*needs_servers, pytest.mark.django_db(transaction=True)]

MANIFEST = {
    "version": 1,
    "routes": ROUTES,
    "computeResources": [{"name": "default", "runtime": "nodejs20.x", "entrypoint": "server.js"}],
    "framework": {"name": "handmade", "version": "1.0"},
}
# The build lays out .amplify-hosting/ as a framework adapter would.
SPEC = """version: 1
frontend:
  phases:
    build:
      commands:
        - mkdir -p .amplify-hosting/compute/default .amplify-hosting/static/static
        - cp server.js .amplify-hosting/compute/default/server.js
        - cp manifest.json .amplify-hosting/deploy-manifest.json
        - echo 'body{}' > .amplify-hosting/static/static/app.css
  artifacts:
    baseDirectory: .amplify-hosting
    files: ['**/*']
"""


def compute_app(make_repo: Callable[..., Path], manifest: dict, server: str = SERVER_JS):  # type: ignore[no-untyped-def]
    return make_app(make_repo, SPEC, {"server.js": server.replace("VERSION", "built"), "manifest.json": json.dumps(manifest)})


def host_of(app) -> str:  # type: ignore[no-untyped-def]
    branch = app.branches.get(name="main")
    return f"{branch.hostname_label}.{app.default_domain}"


def test_a_broken_manifest_fails_the_build_with_the_json_path_of_the_problem(make_repo: Callable[..., Path]) -> None:
    broken = {**MANIFEST, "routes": [{"path": "/*", "target": {"kind": "Lambda", "src": "default"}}]}
    job = build(compute_app(make_repo, broken))
    assert job.status == Job.Status.FAILED
    assert "routes[0].target.kind" in job.status_reason
    assert "'Lambda' is not one of" in job.status_reason
    assert not ComputeDeployment.objects.exists()


def test_a_manifest_naming_a_missing_entrypoint_fails_the_build(make_repo: Callable[..., Path]) -> None:
    missing = {**MANIFEST, "computeResources": [{"name": "default", "runtime": "nodejs20.x", "entrypoint": "main.js"}]}
    job = build(compute_app(make_repo, missing))
    assert job.status == Job.Status.FAILED
    assert "main.js" in job.status_reason


def test_a_valid_manifest_deploys_static_files_and_a_server_that_answers(
    make_repo: Callable[..., Path], running_hostd: threading.Event
) -> None:
    app = compute_app(make_repo, MANIFEST)
    job = build(app)
    log = log_of(job)
    assert job.status == Job.Status.SUCCEED, f"{job.status_reason}\n{log}"
    assert "## Server-rendered app (WEB_COMPUTE, handmade 1.0): 1 static files, 3 routes" in log
    assert "## Server started on this machine in" in log
    assert "## Server answered GET / with 200 OK" in log
    compute = ComputeDeployment.objects.get()
    assert (compute.entrypoint, compute.runtime) == ("server.js", "nodejs20.x")
    page = Client().get("/", HTTP_HOST=host_of(app))
    assert b"".join(page.streaming_content).startswith(b"built 2 main")  # type: ignore[attr-defined]
    assert Client().get("/static/app.css", HTTP_HOST=host_of(app)).content == b"body{}\n"


def test_a_server_that_does_not_start_fails_the_build_and_the_old_site_stays_live(
    make_repo: Callable[..., Path], running_hostd: threading.Event
) -> None:
    app = compute_app(make_repo, MANIFEST)
    assert build(app).status == Job.Status.SUCCEED
    live = app.branches.get(name="main").live_deployment_id
    broken = make_app(
        make_repo, SPEC, {"server.js": "throw new Error('no DATABASE configured');\n", "manifest.json": json.dumps(MANIFEST)}
    )
    app.repository = broken.repository
    app.save(update_fields=["repository"])
    job = build(app)
    assert job.status == Job.Status.FAILED
    assert "The server did not start" in job.status_reason
    assert "no DATABASE configured" in log_of(job)
    assert app.branches.get(name="main").live_deployment_id == live
    page = Client().get("/", HTTP_HOST=host_of(app))
    assert b"".join(page.streaming_content).startswith(b"built")  # type: ignore[attr-defined]


def test_a_next_js_app_without_standalone_output_is_told_what_to_add(make_repo: Callable[..., Path]) -> None:
    spec = """version: 1
frontend:
  phases:
    build:
      commands:
        - mkdir -p .next/static && echo built > .next/BUILD_ID
  artifacts:
    baseDirectory: .next
    files: ['**/*']
"""
    package = json.dumps({"name": "shop", "dependencies": {"next": "15.5.0"}})
    job = build(make_app(make_repo, spec, {"package.json": package, "next.config.mjs": "export default {};\n"}))
    assert job.status == Job.Status.FAILED
    assert "output: 'standalone'" in job.status_reason
    assert "next.config.mjs" in job.status_reason
