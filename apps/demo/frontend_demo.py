"""The third demo `make run` seeds: a frontend-only app that uses the todo demo's backend.

A local git repository made from examples/frontend-app (no backend of its own), an app
connected to it whose BACKEND_APP_ID is the todo demo's app id, and (on the emulator,
with Node.js on this machine) one build of main once the todo app's main branch is
deployed: its preBuild runs the real `ampx generate outputs` (npm registry) against
the emulator to read that backend.

Every step checks before it writes, so seeding twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.services import job_start
from apps.demo.nextjs_demo import NodeMinimum, node_available
from apps.demo.seed import BuildPending, Say, ensure_app, ensure_repository, ensure_service_role, single_branch_repository
from console.queue import send_on_commit

FRONTEND_APP_NAME = "frontend-demo"
FRONTEND_PACKAGE = "frontend-demo"  # examples/frontend-app/package.json
FRONTEND_EXAMPLE_DIR = settings.BASE_DIR / "examples" / "frontend-app"
FRONTEND_BRANCH = "main"
BACKEND_BRANCH = "main"  # what its amplify.yml reads: `ampx generate outputs ... --branch main`
# What `npm ci` and `npm run build` leave in a working copy: never part of the demo's commit.
_NOT_COMMITTED = ("node_modules", "dist", ".npm", "amplify_outputs.json")
# @aws-amplify/backend-cli 1.10.0 (pinned in package.json): "node": "^18.19.0 || ^20.6.0 || >=22".
AMPX_NODE_MINIMUM: NodeMinimum = ((18, 19), (20, 6), (22, 0))
AMPX = "the Amplify CLI (@aws-amplify/backend-cli 1.10.0)"


def ensure_frontend_repository(root: Path, say: Say) -> Path:
    """A bare repository with branch main: the frontend example, and nothing else."""
    bare = root / "frontend-app.git"
    made = single_branch_repository(
        FRONTEND_EXAMPLE_DIR,
        bare,
        branch=FRONTEND_BRANCH,
        message="Initial commit of the frontend app",
        leave_out=_NOT_COMMITTED,
    )
    if made:
        say(f"frontend demo repository created at {bare}")
    return bare


def ensure_frontend_app(repository: Path, backend_app: App, say: Say) -> App:
    app = App.objects.filter(name=FRONTEND_APP_NAME).first()
    if app is None:
        app = services.app_create(
            actor=None,
            name=FRONTEND_APP_NAME,
            repository=str(repository),
            production_branch=FRONTEND_BRANCH,
            platform=App.Platform.WEB,
            package_name=FRONTEND_PACKAGE,
            description=(
                "Seeded by make run from examples/frontend-app (frontend only): "
                "it uses the backend of the todo demo's main branch."
            ),
        )
        # `npm ci` fetches from the npm registry. Only at creation: an admin's later choice stands.
        if not app.build_network:
            app = services.app_update(actor=None, app=app, build_network=True)
        say(f"frontend demo app created: {app.app_id}")
    if not app.build_spec:
        services.app_build_spec_update(actor=None, app=app, build_spec=(FRONTEND_EXAMPLE_DIR / "amplify.yml").read_text())
    if not app.environment_variables.filter(branch=None, name="BACKEND_APP_ID").exists():
        # Which app's backend `ampx generate outputs` reads. Only when missing: an admin's value stands.
        services.env_var_set(actor=None, app=app, name="BACKEND_APP_ID", value=backend_app.app_id)
    return app


def build_frontend_after_backend(branch_pk: int, backend_branch_pk: int, say: Say) -> None:
    """What the build_frontend_demo task does: BuildPending while the backend branch's build
    has not ended; after a successful one, a build of the frontend branch, unless one was
    started since (a redelivered task); after a failed one, nothing."""
    backend = Branch.objects.select_related("app").get(pk=backend_branch_pk)
    if backend.jobs.filter(status__in=(*Job.WAITING, *Job.ACTIVE)).exists():
        raise BuildPending(f"{backend.app.name}'s {backend.name} is still building")
    latest = backend.jobs.order_by("-job_id").first()
    if latest is None or latest.status != Job.Status.SUCCEED:
        say(f"frontend demo not built: the last build of {backend.app.name}'s {backend.name} did not succeed")
        return
    with transaction.atomic():
        # Locks the branch row (PostgreSQL): two deliveries of the task start one build.
        branch = Branch.objects.select_for_update().select_related("app").get(pk=branch_pk)
        if branch.jobs.filter(created_at__gte=latest.created_at).exists():
            return
        job = job_start(branch=branch, job_type=Job.Type.RELEASE, triggered_by="make run")
    say(f"build #{job.job_id} of {branch.app.name}'s {branch.name} queued")


def seed_frontend_demo(*, build: bool, say: Say) -> str:
    """Seed the frontend demo; with `build`, queue a build of main for after the todo app's
    main is deployed. Returns the banner's status line."""
    backend_app = ensure_app(ensure_repository(settings.VAR_DIR / "demo", say), say)  # seed_demo made it
    repository = ensure_frontend_repository(settings.VAR_DIR / "demo", say)
    app = ensure_frontend_app(repository, backend_app, say)
    if not build:
        return "NOT built: builds are queued only against the local emulator"
    # `ampx generate outputs` reads the backend's stack and S3 objects with the build's credentials.
    ensure_service_role(app, say)
    problem = node_available(minimum=AMPX_NODE_MINIMUM, needed_by=AMPX)
    if problem:
        return f"NOT built: {problem}"
    branch = app.branches.get(name=FRONTEND_BRANCH)
    backend = backend_app.branches.get(name=BACKEND_BRANCH)
    send_on_commit("apps.demo.tasks.build_frontend_demo", branch.pk, backend.pk)
    return (
        f"built after the todo app's {backend.name} branch is deployed "
        f"(npm ci and the real ampx generate outputs, a minute or two); then {branch.url}"
    )
