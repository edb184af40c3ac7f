"""The demo `make run` seeds: an admin, a local git repository made from
examples/todo-app, an app connected to it with `main` and `dev`, and (on the
emulator only) a build of each branch, whose backend phase deploys to the
emulator with the example's ampx stand-in.

Every step checks before it writes, so seeding twice changes nothing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from apps.branches import services
from apps.branches.models import App, Branch, Job
from console.roles import Role, set_role

DEMO_APP_NAME = "Todo app (demo)"
EXAMPLE_DIR = settings.BASE_DIR / "examples" / "todo-app"
DEMO_BRANCHES = ("main", "dev")

Say = Callable[[str], None]


def ensure_admin(say: Say) -> tuple[str, str | None]:
    """Create `admin` once; return (username, password if it was just set)."""
    User = get_user_model()
    wanted = os.environ.get("CONSOLE_ADMIN_PASSWORD") or None
    user = User.objects.filter(username="admin").first()
    if user is not None and wanted is None:
        return "admin", None
    password = wanted or secrets.token_urlsafe(12)
    with transaction.atomic():
        user = user or User(username="admin")
        user.set_password(password)
        user.save()
        set_role(user, Role.ADMIN)
    say("admin account ready")
    return "admin", password


def _git(args: list[str], cwd: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Demo",
        "GIT_AUTHOR_EMAIL": "demo@example.com",
        "GIT_COMMITTER_NAME": "Demo",
        "GIT_COMMITTER_EMAIL": "demo@example.com",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def ensure_repository(root: Path, say: Say) -> Path:
    """A bare repository with branches main and dev, made from the example."""
    bare = root / "todo-app.git"
    if (bare / "HEAD").exists():
        return bare
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "todo-app"
        shutil.copytree(EXAMPLE_DIR, work, ignore=shutil.ignore_patterns("amplify_outputs.json", "dist", "__pycache__"))
        _git(["init", "-q", "-b", "main"], work)
        _git(["add", "-A"], work)
        _git(["commit", "-q", "-m", "Initial commit of the todo app"], work)
        _git(["checkout", "-q", "-b", "dev"], work)
        readme = work / "README.md"
        readme.write_text(readme.read_text() + "\nThis line only exists on the dev branch.\n")
        _git(["commit", "-q", "-am", "Start dev work"], work)
        _git(["init", "-q", "--bare", "-b", "main", str(bare)], work)
        _git(["push", "-q", str(bare), "main", "dev"], work)
    say(f"demo repository created at {bare}")
    return bare


def ensure_app(repository: Path, say: Say) -> App:
    app = App.objects.filter(name=DEMO_APP_NAME).first()
    if app is None:
        app = services.app_create(
            actor=None,
            name=DEMO_APP_NAME,
            repository=str(repository),
            production_branch="main",
            package_name="todo-app",
            description="Seeded by make run from examples/todo-app.",
        )
        # Branches named feature/* are connected as they appear; previews of PRs into main.
        App.objects.filter(pk=app.pk).update(
            auto_detect_branches=True, auto_detect_patterns="feature/*, dev", auto_disconnect=True
        )
        Branch.objects.filter(app=app, name="main").update(pr_previews_enabled=True)
        app.refresh_from_db()
        say(f"demo app created: {app.app_id}")
    if not app.branches.filter(name="dev").exists():
        services.branch_connect(actor=None, app=app, name="dev", stage=Branch.Stage.DEVELOPMENT)
    if not app.build_spec:
        services.app_build_spec_update(actor=None, app=app, build_spec=(EXAMPLE_DIR / "amplify.yml").read_text())
    if not app.environment_variables.exists():
        services.env_var_set(actor=None, app=app, name="GREETING", value="Hello from every branch")
        services.env_var_set(actor=None, app=app, name="GREETING", value="Hello from dev", branch=app.branches.get(name="dev"))
    return app


def ensure_secrets(app: App, say: Say) -> None:
    """Shared and branch secrets on the emulator; dev lacks STRIPE_KEY, so the page flags it."""
    from apps.secrets import services as secrets
    from apps.secrets.scopes import Scope

    demo = {
        Scope.shared(app.app_id): {"API_KEY": "demo-shared-api-key"},
        Scope.branch(app.app_id, "main"): {"STRIPE_KEY": "demo-main-stripe-key", "API_KEY": "demo-main-api-key"},
    }
    for scope, values in demo.items():
        for name, value in values.items():
            secrets.secret_set(actor=None, scope=scope, name=name, value=value)
    say("demo secrets written (shared API_KEY; main has its own API_KEY and STRIPE_KEY; dev lacks STRIPE_KEY)")


def build_branches(app: App, say: Say) -> None:
    """Queue a build of each demo branch; the worker deploys its backend to the emulator and hosts its site."""
    from apps.branches.jobs import job_start

    for branch in app.branches.filter(name__in=DEMO_BRANCHES).order_by("name"):
        job = job_start(branch=branch, job_type=Job.Type.RELEASE, triggered_by="make run")
        say(f"build #{job.job_id} of {branch.name} queued")


def seed_demo(*, build: bool, say: Say) -> tuple[str, str | None]:
    username, password = ensure_admin(say)
    repository = ensure_repository(settings.VAR_DIR / "demo", say)
    app = ensure_app(repository, say)
    if build:
        ensure_secrets(app, say)
        build_branches(app, say)
    return username, password
