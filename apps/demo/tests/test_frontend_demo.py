"""The frontend demo `make run` seeds: its repository (the example only, no backend), a WEB
app with the network on and BACKEND_APP_ID naming the todo demo, a build of main queued
for after the todo app's main is deployed where Node.js can run the Amplify CLI, and the
line the banner shows."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.services import job_start
from apps.demo import frontend_demo, nextjs_demo
from apps.demo.frontend_demo import (
    FRONTEND_APP_NAME,
    build_frontend_after_backend,
    ensure_frontend_repository,
    seed_frontend_demo,
)
from apps.demo.management.commands.runconsole import Command as RunConsole
from apps.demo.management.commands.runconsole import _seed_value
from apps.demo.seed import DEMO_APP_NAME, DEMO_ROLE, BuildPending, seed_demo
from apps.demo.tasks import build_frontend_demo
from apps.demo.tests.repos import files_on_main, head_of_main
from console.aws import aws_client

NO_EMULATOR = "NOT built: builds are queued only against the local emulator"


@pytest.fixture
def example_with_leftovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/frontend-app after `npm ci`, `ampx generate outputs` and `npm run build`."""
    copy = tmp_path / "frontend-app"
    shutil.copytree(frontend_demo.FRONTEND_EXAMPLE_DIR, copy, ignore=shutil.ignore_patterns("node_modules", "dist", ".npm"))
    (copy / ".gitignore").unlink(missing_ok=True)  # the seeder leaves them out whatever that file says
    for leftover in ("node_modules/@aws-amplify/backend-cli/package.json", "dist/index.html", ".npm/_cacache/index"):
        (copy / leftover).parent.mkdir(parents=True, exist_ok=True)
        (copy / leftover).write_text("{}")
    (copy / "amplify_outputs.json").write_text("{}")
    monkeypatch.setattr(frontend_demo, "FRONTEND_EXAMPLE_DIR", copy)
    return copy


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What the seeder queues on commit: (task name, *args)."""
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(frontend_demo, "send_on_commit", lambda task, *args: sent.append((task, *args)))
    return sent


def seeded_branches() -> tuple[Branch, Branch]:
    """(the frontend demo's main, the todo demo's main) after a seed without builds."""
    seed_frontend_demo(build=False, say=lambda _: None)
    return (
        Branch.objects.get(app__name=FRONTEND_APP_NAME, name="main"),
        Branch.objects.get(app__name=DEMO_APP_NAME, name="main"),
    )


def test_the_repository_is_the_example_alone_without_its_build_leftovers(example_with_leftovers: Path, tmp_path: Path) -> None:
    said: list[str] = []
    bare = ensure_frontend_repository(tmp_path / "demo", said.append)

    assert bare == tmp_path / "demo" / "frontend-app.git"
    # Exactly the example's own files: no leftovers, and no tools/ or amplify/ (it has no backend).
    assert files_on_main(bare) == {"README.md", "amplify.yml", "build.mjs", "package.json", "package-lock.json"}
    heads = subprocess.run(["git", "branch", "--list"], cwd=bare, capture_output=True, text=True, check=True).stdout
    assert heads.split() == ["*", "main"]
    assert said == [f"frontend demo repository created at {bare}"]


def test_the_repository_is_made_once(example_with_leftovers: Path, tmp_path: Path) -> None:
    bare = ensure_frontend_repository(tmp_path / "demo", lambda _: None)
    head = head_of_main(bare)
    said: list[str] = []
    assert ensure_frontend_repository(tmp_path / "demo", said.append) == bare
    assert head_of_main(bare) == head
    assert said == []


def test_the_app_is_a_web_app_with_the_network_its_spec_and_the_todo_apps_id(db: None, var_dir: Path) -> None:
    said: list[str] = []
    line = seed_frontend_demo(build=False, say=said.append)

    app = App.objects.get(name=FRONTEND_APP_NAME)
    todo = App.objects.get(name=DEMO_APP_NAME)
    assert app.platform == App.Platform.WEB
    assert app.build_network is True
    assert app.package_name == "frontend-demo"
    assert "Seeded by make run" in app.description
    assert "todo demo's main branch" in app.description
    assert app.repository == str(var_dir / "demo" / "frontend-app.git")
    assert app.build_spec == (frontend_demo.FRONTEND_EXAMPLE_DIR / "amplify.yml").read_text()
    assert 'npx ampx generate outputs --app-id "$BACKEND_APP_ID" --branch main' in app.build_spec
    assert [(v.name, v.value, v.branch_id) for v in app.environment_variables.all()] == [("BACKEND_APP_ID", todo.app_id, None)]
    assert list(app.branches.values_list("name", "stage")) == [("main", Branch.Stage.PRODUCTION)]
    assert said[-1] == f"frontend demo app created: {app.app_id}"
    assert line == NO_EMULATOR
    assert not Job.objects.exists()


def test_seeding_again_changes_nothing(db: None, var_dir: Path) -> None:
    seed_frontend_demo(build=False, say=lambda _: None)
    app = App.objects.get(name=FRONTEND_APP_NAME)
    said: list[str] = []
    seed_frontend_demo(build=False, say=said.append)

    assert said == []
    assert App.objects.filter(name=FRONTEND_APP_NAME).count() == 1
    assert App.objects.count() == 2  # and the todo app it uses, made once
    again = App.objects.get(pk=app.pk)
    assert (again.build_spec, again.updated_at) == (app.build_spec, app.updated_at)
    assert again.environment_variables.count() == 1


def test_an_admins_backend_app_id_and_network_choice_are_left_alone(db: None, var_dir: Path) -> None:
    seed_frontend_demo(build=False, say=lambda _: None)
    app = App.objects.get(name=FRONTEND_APP_NAME)
    services.env_var_set(actor=None, app=app, name="BACKEND_APP_ID", value="d0therbackend1")
    App.objects.filter(pk=app.pk).update(build_network=False)

    seed_frontend_demo(build=False, say=lambda _: None)

    again = App.objects.get(pk=app.pk)
    assert list(again.environment_variables.values_list("name", "value")) == [("BACKEND_APP_ID", "d0therbackend1")]
    assert again.build_network is False


def test_without_node_nothing_is_queued_and_the_line_says_why(
    db: None, var_dir: Path, no_node: None, queued: list[tuple[Any, ...]]
) -> None:
    line = seed_frontend_demo(build=True, say=lambda _: None)

    assert line == "NOT built: Node.js and npm are not installed: apt-get install nodejs npm"
    assert queued == []
    assert not Job.objects.exists()
    # Ready for when Node.js is there: its build may read the backend on the emulator.
    role = aws_client("iam").get_role(RoleName=DEMO_ROLE)["Role"]
    assert App.objects.get(name=FRONTEND_APP_NAME).service_role_arn == role["Arn"]


@pytest.mark.parametrize("version", ["v16.20.2", "v18.18.2"])
def test_a_node_older_than_the_amplify_cli_needs_is_refused(
    db: None, var_dir: Path, node: list[str], queued: list[tuple[Any, ...]], version: str
) -> None:
    node.append(version)
    line = seed_frontend_demo(build=True, say=lambda _: None)

    assert line == (
        f"NOT built: Node.js {version} is too old; the Amplify CLI (@aws-amplify/backend-cli 1.10.0) needs "
        "18.19 or a later 18.x, 20.6 or a later 20.x, or 22.0 or newer"
    )
    assert queued == []


@pytest.mark.parametrize("version", ["v19.9.0", "v20.5.1", "v21.7.3"])
def test_a_node_between_the_amplify_clis_lines_is_refused(node: list[str], version: str) -> None:
    node.append(version)
    reason = nextjs_demo.node_available(minimum=frontend_demo.AMPX_NODE_MINIMUM, needed_by=frontend_demo.AMPX)
    assert reason is not None
    assert reason.startswith(f"Node.js {version} is not supported; the Amplify CLI")


@pytest.mark.parametrize("version", ["v18.19.0", "v20.6.0", "v20.11.1", "v22.0.0", "v24.1.0"])
def test_a_node_the_amplify_cli_supports_is_enough(node: list[str], version: str) -> None:
    node.append(version)
    assert nextjs_demo.node_available(minimum=frontend_demo.AMPX_NODE_MINIMUM, needed_by=frontend_demo.AMPX) is None


def test_with_node_the_build_waits_for_the_todo_apps_main(
    db: None, var_dir: Path, node: list[str], queued: list[tuple[Any, ...]]
) -> None:
    line = seed_frontend_demo(build=True, say=lambda _: None)

    app = App.objects.get(name=FRONTEND_APP_NAME)
    branch = app.branches.get(name="main")
    backend = Branch.objects.get(app__name=DEMO_APP_NAME, name="main")
    assert queued == [("apps.demo.tasks.build_frontend_demo", branch.pk, backend.pk)]
    assert not Job.objects.exists()  # the task starts it, once the backend is deployed
    assert line == (
        "built after the todo app's main branch is deployed (npm ci and the real ampx generate outputs, "
        f"a minute or two); then http://main.{app.app_id}.localhost:8000/"
    )
    assert app.service_role_arn == aws_client("iam").get_role(RoleName=DEMO_ROLE)["Role"]["Arn"]


def test_while_the_backend_builds_the_frontend_waits(db: None, var_dir: Path) -> None:
    branch, backend = seeded_branches()
    job = Job.objects.create(branch=backend, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.PENDING)
    with pytest.raises(BuildPending):
        build_frontend_after_backend(branch.pk, backend.pk, lambda _: None)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    with pytest.raises(BuildPending):
        build_frontend_after_backend(branch.pk, backend.pk, lambda _: None)
    assert not branch.jobs.exists()


def test_once_the_backend_is_deployed_one_build_is_started_and_a_redelivery_starts_none(db: None, var_dir: Path) -> None:
    branch, backend = seeded_branches()
    Job.objects.create(branch=backend, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.SUCCEED)
    said: list[str] = []
    build_frontend_after_backend(branch.pk, backend.pk, said.append)
    build_frontend_after_backend(branch.pk, backend.pk, said.append)

    job = branch.jobs.get()
    assert (job.job_id, job.job_type, job.status, job.triggered_by) == (1, Job.Type.RELEASE, Job.Status.PENDING, "make run")
    assert said == ["build #1 of frontend-demo's main queued"]


def test_a_build_from_before_the_backends_deployment_does_not_count(db: None, var_dir: Path) -> None:
    """The next `make run`: a fresh emulator, the backend deployed again, the site built again."""
    branch, backend = seeded_branches()
    earlier = job_start(branch=branch, job_type=Job.Type.RELEASE, triggered_by="the last make run")
    deployed = Job.objects.create(branch=backend, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.SUCCEED)
    Job.objects.filter(pk=earlier.pk).update(created_at=deployed.created_at - timedelta(minutes=5))

    build_frontend_after_backend(branch.pk, backend.pk, lambda _: None)

    assert list(branch.jobs.order_by("job_id").values_list("job_id", "triggered_by")) == [
        (1, "the last make run"),
        (2, "make run"),
    ]


def test_after_a_failed_backend_build_nothing_is_built(db: None, var_dir: Path) -> None:
    branch, backend = seeded_branches()
    Job.objects.create(branch=backend, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.FAILED)
    said: list[str] = []
    build_frontend_after_backend(branch.pk, backend.pk, said.append)

    assert not branch.jobs.exists()
    assert said == ["frontend demo not built: the last build of Todo app (demo)'s main did not succeed"]


def test_the_task_starts_the_build_and_retries_while_the_backend_builds(
    db: None, var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch, backend = seeded_branches()
    job = Job.objects.create(branch=backend, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.RUNNING)
    retried: list[dict[str, Any]] = []

    def retry(**kwargs: Any) -> Exception:
        retried.append(kwargs)
        return RuntimeError("retry")

    monkeypatch.setattr(build_frontend_demo, "retry", retry)
    with pytest.raises(RuntimeError, match="retry"):  # what the task raises is what retry returned
        build_frontend_demo.apply(args=(branch.pk, backend.pk))
    assert [(type(r["exc"]), r["countdown"]) for r in retried] == [(BuildPending, 3)]
    assert not branch.jobs.exists()

    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEED)
    build_frontend_demo.apply(args=(branch.pk, backend.pk))
    assert branch.jobs.get().job_type == Job.Type.RELEASE
    assert len(retried) == 1


def test_make_runs_seed_says_the_frontend_line_after_the_nextjs_one(
    db: None, var_dir: Path, node: list[str], queued: list[tuple[Any, ...]]
) -> None:
    said: list[str] = []
    seed_demo(build=True, say=said.append, nextjs=True)

    lines = [line for line in said if line.startswith(("NEXTJS_DEMO=", "FRONTEND_DEMO="))]
    assert [line.split("=")[0] for line in lines] == ["NEXTJS_DEMO", "FRONTEND_DEMO"]
    assert lines[1].startswith("FRONTEND_DEMO=built after the todo app's main branch is deployed")
    assert len(queued) == 1
    # One demo role for the three apps.
    assert len(set(App.objects.values_list("service_role_arn", flat=True))) == 1
    assert len(aws_client("iam").list_roles()["Roles"]) == 1


def test_the_seed_demo_command_prints_the_frontend_line_for_the_banner(db: None, var_dir: Path) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _seed_value(out.getvalue(), "FRONTEND_DEMO") == NO_EMULATOR
    assert App.objects.filter(name=FRONTEND_APP_NAME).exists()


def test_the_banner_shows_the_frontend_demo_after_the_nextjs_demo(settings: Any, tmp_path: Path) -> None:
    settings.COMPUTE_DIR = tmp_path / "compute"
    out = io.StringIO()
    command = RunConsole(stdout=out)
    command._isolation = lambda: "isolated"  # type: ignore[method-assign]
    command._banner(8000, None, None, "build #1 queued", "built after the todo app's main branch is deployed")

    lines = out.getvalue().splitlines()
    frontend = "  Frontend demo: built after the todo app's main branch is deployed"
    assert lines.index("  Next.js demo: build #1 queued") < lines.index(frontend)
    assert lines.index(frontend) < lines.index("  Press Ctrl-C to stop everything.")
