"""The Next.js demo `make run` seeds: its repository (the example plus the todo app's
ampx stand-in), a WEB_COMPUTE app with the network on, and a build of main only where
Node.js can run it; the line it returns is what the banner shows."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.demo import nextjs_demo
from apps.demo.management.commands.runconsole import Command as RunConsole
from apps.demo.management.commands.runconsole import _seed_value
from apps.demo.nextjs_demo import (
    NEXTJS_APP_NAME,
    ensure_nextjs_repository,
    node_available,
    seed_nextjs_demo,
)
from apps.demo.seed import DEMO_APP_NAME, DEMO_ROLE, seed_demo
from apps.demo.tests.repos import files_on_main, head_of_main
from console.aws import aws_client


@pytest.fixture
def example_with_leftovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/nextjs-app after `npm ci`, `next build` and a build's outputs,
    without its .gitignore: the seeder leaves them out whatever that file says."""
    copy = tmp_path / "nextjs-app"
    shutil.copytree(nextjs_demo.NEXTJS_EXAMPLE_DIR, copy, ignore=shutil.ignore_patterns("node_modules", ".next"))
    (copy / ".gitignore").unlink()
    for leftover in ("node_modules/next/package.json", ".next/BUILD_ID", ".npm/_cacache/index", ".amplify-hosting/x.json"):
        (copy / leftover).parent.mkdir(parents=True, exist_ok=True)
        (copy / leftover).write_text("{}")
    (copy / "amplify_outputs.json").write_text("{}")
    monkeypatch.setattr(nextjs_demo, "NEXTJS_EXAMPLE_DIR", copy)
    return copy


def test_the_repository_is_the_example_with_the_todo_apps_tools_and_amplify(example_with_leftovers: Path, tmp_path: Path) -> None:
    said: list[str] = []
    bare = ensure_nextjs_repository(tmp_path / "demo", said.append)

    assert bare == tmp_path / "demo" / "nextjs-app.git"
    files = files_on_main(bare)
    assert {"package.json", "package-lock.json", "amplify.yml", "next.config.mjs", "app/page.js"} <= files
    assert {"tools/ampx_standin.py", "amplify/backend.ts", "amplify/data/resource.ts"} <= files
    leftovers = ("node_modules/", ".next/", ".npm/", ".amplify-hosting/", "amplify_outputs.json")
    assert [name for name in files if name.startswith(leftovers) or "__pycache__" in name] == []
    heads = subprocess.run(["git", "branch", "--list"], cwd=bare, capture_output=True, text=True, check=True).stdout
    assert heads.split() == ["*", "main"]
    assert said == [f"Next.js demo repository created at {bare}"]


def test_the_repository_is_made_once(example_with_leftovers: Path, tmp_path: Path) -> None:
    bare = ensure_nextjs_repository(tmp_path / "demo", lambda _: None)
    head = head_of_main(bare)
    said: list[str] = []
    assert ensure_nextjs_repository(tmp_path / "demo", said.append) == bare
    assert head_of_main(bare) == head
    assert said == []


def test_the_app_is_server_rendered_with_the_network_on_its_spec_and_greeting(db: None, var_dir: Path) -> None:
    said: list[str] = []
    line = seed_nextjs_demo(build=False, say=said.append)

    app = App.objects.get(name=NEXTJS_APP_NAME)
    assert app.platform == App.Platform.WEB_COMPUTE
    assert app.build_network is True
    assert app.package_name == "nextjs-demo"
    assert app.description == "Seeded by make run from examples/nextjs-app (server-rendered Next.js)."
    assert app.repository == str(var_dir / "demo" / "nextjs-app.git")
    assert app.build_spec == (nextjs_demo.NEXTJS_EXAMPLE_DIR / "amplify.yml").read_text()
    assert "python3 tools/ampx_standin.py pipeline-deploy" in app.build_spec
    assert [(v.name, v.value, v.branch_id) for v in app.environment_variables.all()] == [
        ("GREETING", "Hello from the server", None)
    ]
    assert list(app.branches.values_list("name", "stage")) == [("main", Branch.Stage.PRODUCTION)]
    assert said[-1] == f"Next.js demo app created: {app.app_id}"
    assert line == "NOT built: builds are queued only against the local emulator"
    assert not Job.objects.exists()


def test_seeding_again_changes_nothing(db: None, var_dir: Path) -> None:
    seed_nextjs_demo(build=False, say=lambda _: None)
    app = App.objects.get(name=NEXTJS_APP_NAME)
    said: list[str] = []
    seed_nextjs_demo(build=False, say=said.append)

    assert said == []
    assert App.objects.filter(name=NEXTJS_APP_NAME).count() == 1
    again = App.objects.get(pk=app.pk)
    assert (again.build_spec, again.updated_at) == (app.build_spec, app.updated_at)
    assert again.environment_variables.count() == 1


def test_an_admin_turning_the_network_off_is_left_alone(db: None, var_dir: Path) -> None:
    seed_nextjs_demo(build=False, say=lambda _: None)
    App.objects.filter(name=NEXTJS_APP_NAME).update(build_network=False)
    seed_nextjs_demo(build=False, say=lambda _: None)
    assert App.objects.get(name=NEXTJS_APP_NAME).build_network is False


def test_node_and_npm_missing_is_said_with_how_to_install_them(no_node: None) -> None:
    assert node_available() == "Node.js and npm are not installed: apt-get install nodejs npm"


def test_npm_missing_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    assert node_available() == "Node.js and npm are not installed: apt-get install nodejs npm"


@pytest.mark.parametrize("version", ["v16.20.2", "v18.17.1"])
def test_a_node_older_than_next_needs_is_refused(node: list[str], version: str) -> None:
    node.append(version)
    assert node_available() == f"Node.js {version} is too old; Next.js needs 18.18 or newer"


@pytest.mark.parametrize("version", ["v18.18.0", "v18.19.1", "v20.11.1", "v22.3.0"])
def test_a_recent_node_is_enough(node: list[str], version: str) -> None:
    node.append(version)
    assert node_available() is None


def test_a_node_that_does_not_run_is_said(node: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> str:
        raise subprocess.CalledProcessError(127, ["node", "--version"])

    monkeypatch.setattr(nextjs_demo, "_node_version", broken)
    reason = node_available()
    assert reason is not None
    assert reason.startswith("Node.js does not run: ")


def test_without_node_nothing_is_built_and_the_line_says_why(db: None, var_dir: Path, no_node: None) -> None:
    line = seed_nextjs_demo(build=True, say=lambda _: None)

    assert line == "NOT built: Node.js and npm are not installed: apt-get install nodejs npm"
    assert not Job.objects.exists()
    # The app is ready for when Node.js is there: its backend phase may deploy to the emulator.
    role = aws_client("iam").get_role(RoleName=DEMO_ROLE)["Role"]
    assert App.objects.get(name=NEXTJS_APP_NAME).service_role_arn == role["Arn"]


def test_with_node_one_build_of_main_is_queued(db: None, var_dir: Path, node: list[str]) -> None:
    line = seed_nextjs_demo(build=True, say=lambda _: None)

    app = App.objects.get(name=NEXTJS_APP_NAME)
    job = Job.objects.get()
    assert (job.branch.app, job.branch.name, job.job_type, job.triggered_by) == (app, "main", Job.Type.RELEASE, "make run")
    assert line == (
        f"build #{job.job_id} queued: npm ci and next build run in the background (a minute or two); "
        f"then http://main.{app.app_id}.localhost:8000/"
    )
    assert app.service_role_arn == aws_client("iam").get_role(RoleName=DEMO_ROLE)["Role"]["Arn"]


def test_the_todo_app_and_the_nextjs_app_share_the_demo_role(db: None, var_dir: Path, node: list[str]) -> None:
    said: list[str] = []
    seed_demo(build=True, say=said.append, nextjs=True)

    roles = set(App.objects.values_list("service_role_arn", flat=True))
    assert len(roles) == 1
    assert "" not in roles
    assert len(aws_client("iam").list_roles()["Roles"]) == 1
    nextjs_lines = [line for line in said if line.startswith("NEXTJS_DEMO=")]
    assert len(nextjs_lines) == 1
    assert nextjs_lines[0].startswith("NEXTJS_DEMO=build #1 queued: ")
    # After the todo app's builds.
    assert said.index(nextjs_lines[0]) > said.index("build #1 of main queued")


def test_seed_demo_leaves_the_nextjs_app_out_unless_asked(db: None, var_dir: Path) -> None:
    seed_demo(build=False, say=lambda _: None)
    assert list(App.objects.values_list("name", flat=True)) == [DEMO_APP_NAME]


def test_the_seed_demo_command_prints_the_line_for_the_banner(db: None, var_dir: Path) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _seed_value(out.getvalue(), "NEXTJS_DEMO") == "NOT built: builds are queued only against the local emulator"
    assert sorted(App.objects.values_list("name", flat=True)) == [DEMO_APP_NAME, "frontend-demo", NEXTJS_APP_NAME]


def test_the_banner_shows_the_nextjs_demo_and_where_hostd_listens(settings: Any, tmp_path: Path) -> None:
    settings.COMPUTE_DIR = tmp_path / "compute"
    out = io.StringIO()
    command = RunConsole(stdout=out)
    command._isolation = lambda: "isolated"  # type: ignore[method-assign]
    command._banner(8000, None, None, "build #1 queued: npm ci and next build run in the background")

    lines = out.getvalue().splitlines()
    assert f"  Compute:    server-rendered apps run under hostd ({tmp_path / 'compute' / 'hostd.sock'})" in lines
    assert "  Next.js demo: build #1 queued: npm ci and next build run in the background" in lines
    assert lines.index("  Next.js demo: build #1 queued: npm ci and next build run in the background") < lines.index(
        "  Press Ctrl-C to stop everything."
    )


def test_seed_values_are_read_indented_or_not() -> None:
    output = "  admin account ready\n  NEXTJS_DEMO=NOT built: x=y\nADMIN_PASSWORD=s3cret=\n"
    assert _seed_value(output, "NEXTJS_DEMO") == "NOT built: x=y"
    assert _seed_value(output, "ADMIN_PASSWORD") == "s3cret="
    assert _seed_value(output, "MISSING") is None
