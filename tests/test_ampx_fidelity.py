"""The real Amplify Gen 2 CLI (`@aws-amplify/backend-cli`, pinned in examples/frontend-app's
package-lock.json, from the npm registry) against what the demo deploys on the emulator.

On real processes: a Celery worker builds the todo demo's main branch (the ampx stand-in
deploys its backend), then the frontend-only demo app, whose build runs the real `npx ampx
generate outputs` in the build sandbox. Proven here:

- `ampx generate outputs --app-id --branch main --format json` reads the stand-in's stack and
  writes, key for key, the amplify_outputs.json the console captured from main's build (and the
  frontend build ships the same file);
- `ampx sandbox secret list --identifier alice` lists the demo's sandbox secrets, and a secret
  set with `ampx sandbox secret set` shows on the console's sandbox page and in `manage.py secret`.

The CLI this process runs is installed once per package-lock.json into ~/.cache/amplify-console-tests
(or CONSOLE_TEST_CACHE), npm's cache beside it: only the first run on a machine downloads it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from apps.builds.sandbox import isolation_problem
from apps.demo import seed
from apps.demo.frontend_demo import FRONTEND_EXAMPLE_DIR, ensure_frontend_app, ensure_frontend_repository
from apps.sandboxes.models import Sandbox
from conftest import drain_output, queued_to_workers, wait_for, worker_env
from console.amplify_names import sandbox_stack_name
from console.emulator import EMULATOR_CREDENTIALS, Emulator
from console.worker_process import start_worker
from tests.test_hosting_worker import fetch, web

__all__ = ["web"]

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="Node.js and npm are not installed"),
    pytest.mark.skipif(isolation_problem() is not None, reason=f"builds cannot be isolated here: {isolation_problem()}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="builds with the network on are guarded only under a root worker"),
]

ROOT = Path(__file__).resolve().parents[1]
CACHE_ROOT = Path(os.environ.get("CONSOLE_TEST_CACHE") or Path.home() / ".cache" / "amplify-console-tests")
S = Job.Status


def say(text: str) -> None:
    print(text)


# --- the real CLI, installed once per lockfile


@pytest.fixture(scope="module")
def ampx_install() -> Path:
    """A folder with the pinned CLI's node_modules (`npm ci` from the example's lockfile)."""
    lock = (FRONTEND_EXAMPLE_DIR / "package-lock.json").read_bytes()
    target = CACHE_ROOT / f"ampx-{hashlib.sha256(lock).hexdigest()[:12]}"
    if (target / "node_modules" / ".bin" / "ampx").exists():
        return target
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(FRONTEND_EXAMPLE_DIR / name, partial / name)
    command = ["npm", "ci", "--cache", str(CACHE_ROOT / "npm"), "--prefer-offline", "--no-audit", "--no-fund"]
    result = subprocess.run(command, cwd=partial, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    try:
        partial.rename(target)
    except OSError:  # another test process installed it meanwhile: keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    assert (target / "node_modules" / ".bin" / "ampx").exists(), target
    return target


def ampx_env(emulator: Emulator) -> dict[str, str]:
    """What a developer's shell would have: the account (the emulator) and its region, nothing
    of this test run's AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AMPLIFY_"))}
    env.update(EMULATOR_CREDENTIALS)
    # The console's region: where make run writes the demo's secrets.
    env.update(AWS_ENDPOINT_URL=emulator.endpoint_url, AWS_REGION=settings.AWS_REGION, AMPLIFY_DISABLE_TELEMETRY="1")
    return env


@pytest.fixture
def ampx(ampx_install: Path, emulator: Emulator, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`npx ampx ...` in a checkout of the todo app (its package.json names the sandboxes' namespace)."""
    project = tmp_path / "todo-app"
    project.mkdir()
    shutil.copy(seed.EXAMPLE_DIR / "package.json", project / "package.json")
    (project / "node_modules").symlink_to(ampx_install / "node_modules")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["npx", "ampx", *args],
            cwd=project,
            env=ampx_env(emulator),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, (
            f"ampx {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr[-3000:]}"
        )
        return result

    return run


# --- the demo, built by a real worker


@pytest.fixture
def live_worker(transactional_db: None, emulator: Emulator, settings: Any) -> Iterator[subprocess.Popen[str]]:
    env = worker_env(emulator)
    with queued_to_workers(emulator, settings) as workers:
        worker = start_worker(env, "--pool", "prefork", "--concurrency", "1", name="ampx-worker")
        workers.append(worker)
        worker.output_tail = drain_output(worker)  # type: ignore[attr-defined]
        yield worker


def built(branch: Branch, worker: subprocess.Popen[str]) -> str:
    """Build the branch; its log once it succeeded."""
    job = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")
    done = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=(S.SUCCEED, S.FAILED, S.CANCELLED)).first(), 900, interval=1.0
    )
    assert done is not None
    log = "".join(done.log_chunks.values_list("text", flat=True))
    assert done.status == S.SUCCEED, f"{done.status}: {done.status_reason}\n{log[-6000:]}\n{''.join(worker.output_tail)[-3000:]}"  # type: ignore[attr-defined]
    return log


def sorted_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, indent=1)


@pytest.fixture
def demo(live_worker: subprocess.Popen[str], tmp_path: Path) -> tuple[App, Branch]:
    """The todo demo as make run seeds it (app, build role, secrets, sandboxes), main built."""
    repository = seed.ensure_repository(tmp_path / "demo", say)
    app = seed.ensure_app(repository, say)
    seed.ensure_service_role(app, say)
    seed.ensure_secrets(app, say)
    seed.ensure_sandboxes(say)
    main = app.branches.get(name="main")
    built(main, live_worker)
    main.refresh_from_db()
    assert main.backend_outputs, "main's build captured no amplify_outputs.json"
    return app, main


def test_the_real_ampx_reads_the_demos_backend_as_the_console_captured_it_and_shares_its_sandbox_secrets(
    demo: tuple[App, Branch],
    ampx: Callable[..., subprocess.CompletedProcess[str]],
    live_worker: subprocess.Popen[str],
    web: str,
    admin_client: Client,
    tmp_path: Path,
) -> None:
    app, main = demo

    # 1. generate outputs: the same document as the console's copy (its download), key for key.
    out = tmp_path / "generated"
    ampx("generate", "outputs", "--app-id", app.app_id, "--branch", "main", "--format", "json", "--out-dir", str(out))
    generated = json.loads((out / "amplify_outputs.json").read_text())
    download = admin_client.get(reverse("branch_outputs", args=[app.app_id, "main"]))
    assert download.status_code == 200
    captured = json.loads(download.content)
    assert sorted_json(generated) == sorted_json(captured)
    assert generated["data"]["model_introspection"]["models"]["Todo"]["attributes"][-1]["type"] == "auth"

    # 2. The frontend-only demo app: its build runs the same CLI in the build sandbox and ships the file.
    frontend = ensure_frontend_app(ensure_frontend_repository(tmp_path / "demo", say), app, say)
    seed.ensure_service_role(frontend, say)
    frontend_main = frontend.branches.get(name="main")
    log = built(frontend_main, live_worker)
    assert "npx ampx generate outputs" in log
    status, _, body = fetch(web, f"main.{frontend.app_id}.localhost", "/amplify_outputs.json")
    assert status == 200, body[:500]
    assert sorted_json(json.loads(body)) == sorted_json(captured)
    status, _, body = fetch(web, f"main.{frontend.app_id}.localhost", "/")
    assert status == 200
    assert main.backend_outputs["auth"]["user_pool_id"].encode() in body

    # 3. Sandbox secrets, both ways: the demo's are listed by ampx; ampx's show in the console.
    listed = ampx("sandbox", "secret", "list", "--identifier", "alice").stdout
    alice = next(s for s in seed.DEMO_SANDBOXES if s.package == seed.DEMO_PACKAGE and s.owner == "alice")
    for name in alice.secrets:
        assert f"- {name}" in listed, listed
    ampx("sandbox", "secret", "set", "SET_BY_AMPX", "--identifier", "alice", stdin="value-from-ampx\n")

    output = io.StringIO()
    call_command("secret", "list", "--sandbox", f"{seed.DEMO_PACKAGE}/alice", stdout=output)
    assert "SET_BY_AMPX" in output.getvalue().split()
    stack = sandbox_stack_name(seed.DEMO_PACKAGE, "alice")
    sandbox = Sandbox.objects.filter(stack_name=stack, region=settings.AWS_REGION).first()
    assert sandbox is not None
    page = admin_client.get(reverse("sandbox_detail", args=[sandbox.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "SET_BY_AMPX" in html
    assert "value-from-ampx" not in html  # names only: values are never on the page
