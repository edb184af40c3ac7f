"""The second demo `make run` seeds: a server-rendered Next.js app (WEB_COMPUTE).

A local git repository made from examples/nextjs-app, with the todo app's ampx
stand-in and backend definition added so its backend phase deploys to the emulator,
an app connected to it, and (on the emulator, with Node.js on this machine) one build
of main, which the worker runs in the background: `npm ci` needs the npm registry.

Every step checks before it writes, so seeding twice changes nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from apps.branches import services
from apps.branches.models import App
from apps.builds.models import Job
from apps.builds.services import job_start
from apps.demo.seed import EXAMPLE_DIR as TODO_EXAMPLE_DIR
from apps.demo.seed import Say, ensure_service_role, single_branch_repository

# The lowest Node.js of each major line a tool runs on, oldest first: the last one is
# open-ended (>=22.0), the others hold within their major only (^18.19, as in package.json).
NodeMinimum = Sequence[tuple[int, int]]

NEXTJS_APP_NAME = "nextjs-demo"
NEXTJS_PACKAGE = "nextjs-demo"  # examples/nextjs-app/package.json
NEXTJS_EXAMPLE_DIR = settings.BASE_DIR / "examples" / "nextjs-app"
NEXTJS_BRANCH = "main"
NEXTJS_GREETING = "Hello from the server"
# What `npm ci` and `next build` leave in a working copy: never part of the demo's commit.
_NOT_COMMITTED = ("node_modules", ".next", ".npm", ".amplify-hosting", "amplify_outputs.json")
# Next.js 15 refuses older Node.js (its package.json: "node": "^18.18.0 || ^19.8.0 || >= 20.0.0").
NODE_MINIMUM: NodeMinimum = ((18, 18),)


def ensure_nextjs_repository(root: Path, say: Say) -> Path:
    """A bare repository with branch main: the Next.js example, plus the todo app's
    tools/ (the ampx stand-in its backend phase runs) and amplify/ (what it deploys)."""
    bare = root / "nextjs-app.git"
    made = single_branch_repository(
        NEXTJS_EXAMPLE_DIR,
        bare,
        branch=NEXTJS_BRANCH,
        message="Initial commit of the Next.js app",
        leave_out=_NOT_COMMITTED,
        add=(TODO_EXAMPLE_DIR / "tools", TODO_EXAMPLE_DIR / "amplify"),
    )
    if made:
        say(f"Next.js demo repository created at {bare}")
    return bare


def ensure_nextjs_app(repository: Path, say: Say) -> App:
    app = App.objects.filter(name=NEXTJS_APP_NAME).first()
    if app is None:
        app = services.app_create(
            actor=None,
            name=NEXTJS_APP_NAME,
            repository=str(repository),
            production_branch=NEXTJS_BRANCH,
            platform=App.Platform.WEB_COMPUTE,
            package_name=NEXTJS_PACKAGE,
            description="Seeded by make run from examples/nextjs-app (server-rendered Next.js).",
        )
        # `npm ci` fetches from the npm registry. Only at creation: an admin's later choice stands.
        if not app.build_network:
            app = services.app_update(actor=None, app=app, build_network=True)
        say(f"Next.js demo app created: {app.app_id}")
    if not app.build_spec:
        services.app_build_spec_update(actor=None, app=app, build_spec=(NEXTJS_EXAMPLE_DIR / "amplify.yml").read_text())
    if not app.environment_variables.filter(branch=None, name="GREETING").exists():
        # Read by the server-rendered page at run time, not baked in at build time.
        services.env_var_set(actor=None, app=app, name="GREETING", value=NEXTJS_GREETING)
    return app


def _node_version() -> str:
    """What `node --version` prints (v20.11.1)."""
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True, timeout=10).stdout.strip()


def _supports(version: tuple[int, int], minimum: NodeMinimum) -> bool:
    *lines, newest = minimum
    return version >= newest or any(version[0] == major and version >= (major, minor) for major, minor in lines)


def _wanted(minimum: NodeMinimum) -> str:
    """`((18, 19), (20, 6), (22, 0))` → "18.19 or a later 18.x, 20.6 or a later 20.x, or 22.0 or newer"."""
    *lines, (major, minor) = minimum
    newest = f"{major}.{minor} or newer"
    if not lines:
        return newest
    return ", ".join(f"{major}.{minor} or a later {major}.x" for major, minor in lines) + f", or {newest}"


def node_available(*, minimum: NodeMinimum = NODE_MINIMUM, needed_by: str = "Next.js") -> str | None:
    """Why this machine cannot run `needed_by` with Node.js (by default: build or serve the
    Next.js demo), or None when it can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js and npm are not installed: apt-get install nodejs npm"
    try:
        version = _node_version()
    except (OSError, subprocess.SubprocessError) as error:
        return f"Node.js does not run: {error}"
    found = re.match(r"v?(\d+)\.(\d+)", version)
    if found is None:
        return f"`node --version` printed {version!r}, not a version"
    major_minor = (int(found[1]), int(found[2]))
    if _supports(major_minor, minimum):
        return None
    verdict = "is too old" if major_minor < minimum[0] else "is not supported"
    return f"Node.js {version} {verdict}; {needed_by} needs {_wanted(minimum)}"


def seed_nextjs_demo(*, build: bool, say: Say) -> str:
    """Seed the Next.js demo; with `build`, queue a build of main. Returns the banner's status line."""
    repository = ensure_nextjs_repository(settings.VAR_DIR / "demo", say)
    app = ensure_nextjs_app(repository, say)
    if not build:
        return "NOT built: builds are queued only against the local emulator"
    ensure_service_role(app, say)  # its backend phase deploys to the emulator, as the todo app's does
    problem = node_available()
    if problem:
        return f"NOT built: {problem}"
    branch = app.branches.get(name=NEXTJS_BRANCH)
    job = job_start(branch=branch, job_type=Job.Type.RELEASE, triggered_by="make run")
    return f"build #{job.job_id} queued: npm ci and next build run in the background (a minute or two); then {branch.url}"
