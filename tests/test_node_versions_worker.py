"""A Node.js app built on a real Celery worker, in the build sandbox, on the Node.js it asks for.

The worker image (Dockerfile) is not built here (no Docker): its Node.js layout is the one
tests/test_worker_image.py checks, and this test gives the worker the same layout with real
binaries: the system's Node.js 20 on PATH, and BUILD_NODE_DIR/22/bin/node, the official
Node.js 22 from the npm registry (tests/node_installs.py), npm beside it. A small app with
one dependency from the npm registry runs `npm ci` and a Node script, once on the default
and once with `nvm use 22` in its amplify.yml, whose branch setting (20) it overrides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings

from apps.branches import services
from apps.branches.models import App
from apps.builds import jobs
from apps.builds.models import Job, LogChunk
from apps.builds.sandbox import isolation_problem
from conftest import drain_output, queued_to_workers, wait_for, worker_env
from console.emulator import Emulator
from console.worker_process import start_worker
from tests.node_installs import NODE_TEST_VERSIONS, lay_out, require_node

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="Node.js and npm are not installed"),
    pytest.mark.skipif(isolation_problem() is not None, reason=f"builds cannot be isolated here: {isolation_problem()}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="builds with the network on are guarded only under a root worker"),
]

SYSTEM_VERSION = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
NODE_22 = NODE_TEST_VERSIONS[22]

PACKAGE = {"name": "node-version-app", "version": "1.0.0", "private": True, "dependencies": {"is-number": "7.0.0"}}
LOCK = {
    "name": "node-version-app",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {"name": "node-version-app", "version": "1.0.0", "dependencies": {"is-number": "7.0.0"}},
        "node_modules/is-number": {
            "version": "7.0.0",
            "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
            "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
            "license": "MIT",
            "engines": {"node": ">=0.12.0"},
        },
    },
}
BUILD_MJS = """import isNumber from "is-number";
import { mkdirSync, writeFileSync } from "node:fs";
const line = `built on ${process.version}: is-number says ${isNumber("42")}`;
console.log(line);
mkdirSync("dist", { recursive: true });
writeFileSync("dist/index.html", `<p>${line}</p>`);
"""


def spec(*first: str) -> str:
    phases = {
        "preBuild": {
            "commands": [
                *first,
                "npm --version",
                # The node that runs npm itself.
                """npm version --json | grep -o '"node": "[^"]*"'""",
                "npm ci --no-audit --no-fund",
            ]
        },
        "build": {"commands": ["node build.mjs"]},
    }
    document = {"version": 1, "frontend": {"phases": phases, "artifacts": {"baseDirectory": "dist", "files": ["**/*"]}}}
    return yaml.safe_dump(document, sort_keys=False, width=10_000)


def node_app(make_repo: Callable[..., Path], name: str, amplify_yml: str) -> App:
    files = {
        "package.json": json.dumps(PACKAGE, indent=2) + "\n",
        "package-lock.json": json.dumps(LOCK, indent=2) + "\n",
        "build.mjs": BUILD_MJS,
        "amplify.yml": amplify_yml,
    }
    repo = make_repo(("main",), files)
    return services.app_create(actor=None, name=name, repository=str(repo), production_branch="main")


def log_text(job: Job) -> str:
    return "".join(LogChunk.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


@pytest.fixture
def node_dir() -> Iterator[Path]:
    """BUILD_NODE_DIR with the real Node.js 22, where build users can reach it (beside the workspaces)."""
    node = require_node(22)
    base = Path(django_settings.BUILD_WORKSPACE_DIR).parent / f"test-node-{uuid.uuid4().hex[:12]}"
    lay_out(base, {22: node})
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def node_worker(transactional_db: None, emulator: Emulator, settings: Any, node_dir: Path) -> Iterator[subprocess.Popen[str]]:
    env = worker_env(emulator, BUILD_NODE_DIR=str(node_dir))
    with queued_to_workers(emulator, settings) as workers:
        worker = start_worker(env, "--pool", "prefork", "--concurrency", "1", name="node-worker")
        workers.append(worker)
        worker.output_tail = drain_output(worker)  # type: ignore[attr-defined]
        yield worker


def built(app: App, worker_output: deque[str]) -> tuple[Job, str]:
    job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="pytest")

    def check() -> bool:
        job.refresh_from_db()
        return job.status in Job.ENDED

    wait_for(check, 240, on_timeout=lambda: f"job still {job.status}; worker said:\n{''.join(worker_output)[-3000:]}")
    return job, log_text(job)


def test_npm_ci_and_a_node_script_build_on_the_default_node_and_on_the_one_nvm_use_asks_for(
    node_worker: subprocess.Popen[str], make_repo: Callable[..., Path]
) -> None:
    output: deque[str] = node_worker.output_tail  # type: ignore[attr-defined]
    assert SYSTEM_VERSION.startswith("v20."), SYSTEM_VERSION

    job, log = built(node_app(make_repo, "Default node", spec()), output)
    assert job.status == Job.Status.SUCCEED, log
    assert f"## Node.js {SYSTEM_VERSION[1:]} (from the worker's default, no version asked)\n" in log
    assert f"## node --version: {SYSTEM_VERSION}\n" in log
    assert f'"node": "{SYSTEM_VERSION[1:]}"\n' in log
    assert "added 1 package" in log  # npm ci installed is-number from the registry
    assert f"built on {SYSTEM_VERSION}: is-number says true\n" in log

    app = node_app(make_repo, "Node 22", spec("nvm use 22"))
    services.branch_update(
        actor=None, branch=app.branches.get(name="main"), stage="PRODUCTION", enable_auto_build=True, node_version="20"
    )
    job, log = built(app, output)
    assert job.status == Job.Status.SUCCEED, log
    assert f"## Node.js {NODE_22} (from amplify.yml nvm use 22)\n" in log
    assert f"## node --version: v{NODE_22}\n" in log
    assert f"# Executing command: nvm use 22\n## nvm use 22: this build runs on Node.js v{NODE_22}" in log
    # npm (the system's npm-cli.js, linked beside node 22) runs on node 22, and npm ci works there.
    assert f'"node": "{NODE_22}"\n' in log
    assert "added 1 package" in log
    assert f"built on v{NODE_22}: is-number says true\n" in log
