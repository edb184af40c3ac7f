"""A build's Node.js: what a worker has, what a build asks for, the order that decides, the
log lines, and (in real sandboxed builds, run eagerly) the chosen node first on PATH.

The majors under BUILD_NODE_DIR here are stand-ins (a script printing a version), so these
tests need no download; tests/test_node_versions_worker.py builds with the real Node.js 22."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.nodejs import (
    SYSTEM_CA_BUNDLE,
    NodeChoice,
    NodeUnavailable,
    choose_node,
    installed_nodes,
    nvm_wishes,
)
from apps.builds.sandbox import DEFAULT_PATH, isolation_problem, node_mounts, unreachable_workspace
from apps.builds.tests.builds import build, log_of, make_app

SYSTEM_NODE = shutil.which("node", path=DEFAULT_PATH)
SYSTEM_VERSION = (
    subprocess.run([SYSTEM_NODE, "--version"], capture_output=True, text=True, check=True).stdout.strip() if SYSTEM_NODE else ""
)
needs_system_20 = pytest.mark.skipif(
    not SYSTEM_VERSION.startswith("v20."), reason=f"these cases are written for a system Node.js 20 (here: {SYSTEM_VERSION!r})"
)
pytestmark = needs_system_20


@pytest.fixture
def node_dir(settings: Any) -> Iterator[Path]:
    """BUILD_NODE_DIR with stand-ins for Node.js 18 and 22, where build users can reach it."""
    base = Path(settings.BUILD_WORKSPACE_DIR) / f"test-node-{uuid.uuid4().hex[:12]}"
    for major, version in ((18, "v18.20.4"), (22, "v22.4.1")):
        folder = base / str(major) / "bin"
        folder.mkdir(parents=True)
        (folder / "node").write_text(f"#!/bin/sh\necho {version}\n")
        os.chmod(folder / "node", 0o755)  # noqa: S103 - build users run it
    (base / "not-a-major" / "bin").mkdir(parents=True)  # ignored: only <major>/bin/node counts
    settings.BUILD_NODE_DIR = base
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def choose(commands: list[str], *, branch: str = "", app: str = "", nvmrc: str | None = None) -> NodeChoice:
    return choose_node(commands=commands, env={}, branch_setting=branch, app_setting=app, nvmrc=nvmrc)


def major_of(choice: NodeChoice) -> int | None:
    return choice.install.major if choice.install else None


# --- what the worker has ---------------------------------------------------------------


def test_the_worker_has_the_system_node_and_each_major_of_build_node_dir(node_dir: Path) -> None:
    found = [(i.major, i.version, i.system) for i in installed_nodes()]
    assert found == [(18, "v18.20.4", False), (20, SYSTEM_VERSION, True), (22, "v22.4.1", False)]
    assert next(i for i in installed_nodes() if i.major == 22).bin_dir == node_dir / "22" / "bin"


def test_without_build_node_dir_only_the_system_node_is_there(settings: Any, tmp_path: Path) -> None:
    settings.BUILD_NODE_DIR = tmp_path / "absent"
    assert [(i.major, i.system) for i in installed_nodes()] == [(20, True)]


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root worker runs builds as other users")
def test_a_node_folder_build_users_cannot_reach_is_named_with_the_fix(node_dir: Path, settings: Any) -> None:
    private = node_dir / "private"
    private.mkdir(mode=0o700)
    settings.BUILD_NODE_DIR = private / "nodes"
    assert unreachable_workspace() == (
        f"build users cannot reach BUILD_NODE_DIR ({private / 'nodes'}): {private} does not let others pass; "
        f"run chmod o+x {private}, or set BUILD_NODE_DIR to a folder they can reach"
    )
    private.chmod(0o711)
    assert unreachable_workspace() is None


def test_the_sandbox_binds_build_node_dir_read_only_unless_absent_or_under_usr(node_dir: Path, settings: Any) -> None:
    assert node_mounts() == ["--ro-bind", str(node_dir), str(node_dir)]
    settings.BUILD_NODE_DIR = node_dir / "absent"
    assert node_mounts() == []
    settings.BUILD_NODE_DIR = Path("/usr/local/lib")  # already in the sandbox with /usr
    assert node_mounts() == []


# --- reading nvm lines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "versions"),
    [
        ("nvm use 22", ["22"]),
        ("nvm install 22 && nvm use 22", ["22", "22"]),
        ("nvm use v22.1.0", ["v22.1.0"]),
        ("nvm use 22.1", ["22.1"]),
        ("nvm install lts/*", ["lts/*"]),
        ("nvm install --lts", ["lts/*"]),
        ("nvm use --lts=jod", ["lts/jod"]),
        ("nvm use --silent 18", ["18"]),
        ("nvm use $NODE_MAJOR", ["20"]),
        ("nvm use ${NODE_MAJOR}", ["20"]),
        ("nvm use", [""]),  # the project's .nvmrc
        ("if true; then nvm use 18; fi", ["18"]),
        ("echo 'run nvm use 22 locally'", []),
        ("npm ci", []),
        ("nvm ls", []),
    ],
)
def test_nvm_use_and_install_lines_are_read_as_nvm_reads_them(command: str, versions: list[str]) -> None:
    assert [w.version for w in nvm_wishes([command], {"NODE_MAJOR": "20"})] == versions


# --- the order that decides ----------------------------------------------------------------


def test_an_nvm_line_wins_over_the_branch_and_app_settings(node_dir: Path) -> None:
    choice = choose(["npm ci", "nvm use 22", "npm run build"], branch="18", app="18")
    assert major_of(choice) == 22
    assert choice.log_lines() == ["## Node.js 22.4.1 (from amplify.yml nvm use 22)"]


def test_runtime_versions_nodejs_comes_after_nvm_lines_and_before_the_settings(node_dir: Path) -> None:
    choice = choose_node(commands=["npm ci"], env={}, branch_setting="22", app_setting="", nvmrc=None, runtime_versions=["18"])
    assert choice.log_lines() == ["## Node.js 18.20.4 (from amplify.yml runtime-versions nodejs: 18)"]
    choice = choose_node(commands=["nvm use 22"], env={}, branch_setting="", app_setting="", nvmrc=None, runtime_versions=["18"])
    assert major_of(choice) == 22


def test_the_branch_setting_wins_over_the_app_setting_and_the_app_setting_over_the_default(node_dir: Path) -> None:
    assert choose(["npm ci"], branch="22", app="18").log_lines() == [
        "## Node.js 22.4.1 (from the branch's Node.js version setting)"
    ]
    assert choose(["npm ci"], app="18").log_lines() == ["## Node.js 18.20.4 (from the app's Node.js version setting)"]
    default = choose(["npm ci"])
    assert default.install is not None
    assert default.install.system
    assert default.log_lines() == [f"## Node.js {SYSTEM_VERSION[1:]} (from the worker's default, no version asked)"]


def test_a_minor_or_patch_runs_the_major_with_a_line_saying_so(node_dir: Path) -> None:
    choice = choose(["nvm use v22.1.0"])
    assert major_of(choice) == 22
    assert choice.log_lines() == [
        "## Node.js 22.4.1 (from amplify.yml nvm use v22.1.0)",
        "## v22.1.0 asked; this worker has one Node.js per major, so 22 runs (v22.4.1)",
    ]


@pytest.mark.parametrize(
    ("version", "major"),
    [("lts/*", 22), ("lts/iron", 20), ("lts/hydrogen", 18), ("node", 22), ("system", 20), ("18.x", 18)],
)
def test_aliases_resolve_among_the_installed_majors(node_dir: Path, version: str, major: int) -> None:
    choice = choose([f"nvm install {version}"])
    assert major_of(choice) == major


def test_nvm_use_without_a_version_reads_the_project_s_nvmrc(node_dir: Path) -> None:
    choice = choose(["nvm use"], nvmrc="v18")
    assert major_of(choice) == 18
    assert choice.source == "amplify.yml nvm use (.nvmrc: v18)"
    with pytest.raises(NodeUnavailable, match=r"nvm use names no version and the project has no \.nvmrc"):
        choose(["nvm use"])


def test_a_major_the_worker_lacks_fails_with_the_installed_ones_listed(node_dir: Path) -> None:
    with pytest.raises(NodeUnavailable) as failed:
        choose(["nvm use 23"])
    assert str(failed.value) == (
        f"Node.js 23 is not installed on this worker (asked by amplify.yml nvm use 23). Installed: 18 (v18.20.4), "
        f"20 ({SYSTEM_VERSION}, the default), 22 (v22.4.1). Ask for one of them, or install Node.js 23 as "
        f"{node_dir / '23' / 'bin' / 'node'}."
    )
    with pytest.raises(NodeUnavailable, match=r"asked by the app's Node\.js version setting"):
        choose([], app="16")


def test_a_version_that_is_no_version_and_two_majors_in_one_spec_are_refused(node_dir: Path) -> None:
    with pytest.raises(NodeUnavailable, match=r"'banana' is not a Node\.js version this console understands"):
        choose(["nvm use banana"])
    with pytest.raises(NodeUnavailable, match=r"asks for Node\.js 18 and 22 .*a build here runs on one Node\.js"):
        choose(["nvm use 18", "nvm use 22"])


def test_the_chosen_node_goes_first_on_path_and_the_build_s_node_options_are_kept(node_dir: Path) -> None:
    env = {"PATH": DEFAULT_PATH, "NODE_OPTIONS": "--max-old-space-size=512", "NODE_EXTRA_CA_CERTS": "/mine.pem"}
    choose(["nvm use 22"]).apply(env)
    assert env == {
        "PATH": f"{node_dir / '22' / 'bin'}:{DEFAULT_PATH}",
        "NODE_OPTIONS": "--max-old-space-size=512",
        "NODE_EXTRA_CA_CERTS": "/mine.pem",  # the build's own is kept
    }
    older = {"PATH": DEFAULT_PATH}
    choose(["nvm use 18"]).apply(older)
    assert older["PATH"] == f"{node_dir / '18' / 'bin'}:{DEFAULT_PATH}"
    assert "NODE_OPTIONS" not in older
    system = {"PATH": DEFAULT_PATH}
    choose([]).apply(system)  # the system's node is on PATH already
    assert system["PATH"] == DEFAULT_PATH


@pytest.mark.skipif(not SYSTEM_CA_BUNDLE.is_file(), reason=f"no {SYSTEM_CA_BUNDLE} on this machine")
def test_every_chosen_node_trusts_the_system_s_certificate_authorities(node_dir: Path) -> None:
    """An official Node.js build knows only its own CAs, and npm's cafile is per installation."""
    for commands in (["nvm use 22"], []):
        env = {"PATH": DEFAULT_PATH}
        choose(commands).apply(env)
        assert env["NODE_EXTRA_CA_CERTS"] == "/etc/ssl/certs/ca-certificates.crt"


# --- in real builds (bubblewrap, run eagerly) ---------------------------------------------

needs_sandbox = pytest.mark.skipif(isolation_problem() is not None, reason=f"no build sandbox here: {isolation_problem()}")

# `npm version --json` names the node that runs npm itself (the stand-ins cannot run npm).
NPM_NODE = """npm version --json 2>/dev/null | grep -o '"node": "[^"]*"' || true"""


def spec(*nvm: str) -> str:
    phases = {
        "preBuild": {"commands": [*nvm, NPM_NODE]},
        "build": {"commands": ['echo "node in the build is $(node --version)"']},
    }
    return yaml.safe_dump({"version": 1, "frontend": {"phases": phases}}, sort_keys=False, width=10_000)


@needs_sandbox
def test_a_build_runs_on_the_node_its_nvm_line_asks_for_and_says_so(
    db: None, make_repo: Callable[..., Path], node_dir: Path
) -> None:
    job = build(make_app(make_repo, spec("nvm use 22")))
    log = log_of(job)
    assert job.status == Job.Status.SUCCEED, log
    assert "## Node.js 22.4.1 (from amplify.yml nvm use 22)\n" in log
    assert "## node --version: v22.4.1\n" in log
    assert "# Executing command: nvm use 22\n## nvm use 22: this build runs on Node.js v22.4.1" in log
    assert "node in the build is v22.4.1\n" in log


@needs_sandbox
def test_a_build_runs_on_the_branch_s_setting_and_without_one_on_the_default(
    db: None, make_repo: Callable[..., Path], node_dir: Path
) -> None:
    app = make_app(make_repo, spec())
    log = log_of(build(app))
    assert f"## Node.js {SYSTEM_VERSION[1:]} (from the worker's default, no version asked)\n" in log
    assert f"node in the build is {SYSTEM_VERSION}\n" in log
    # The system's npm, run by the system's node.
    assert f'"node": "{SYSTEM_VERSION[1:]}"\n' in log
    Branch.objects.filter(app=app, name="main").update(node_version="18")
    App.objects.filter(pk=app.pk).update(node_version="22")
    job = build(app)
    log = log_of(job)
    assert job.status == Job.Status.SUCCEED, log
    assert "## Node.js 18.20.4 (from the branch's Node.js version setting)\n" in log
    assert "node in the build is v18.20.4\n" in log


@needs_sandbox
def test_a_build_runs_on_the_node_runtime_versions_names(db: None, make_repo: Callable[..., Path], node_dir: Path) -> None:
    document = yaml.safe_load(spec())
    document["frontend"]["phases"]["build"]["runtime-versions"] = {"nodejs": 18, "python": "3.12"}
    job = build(make_app(make_repo, yaml.safe_dump(document)))
    log = log_of(job)
    assert job.status == Job.Status.SUCCEED, log
    assert "## Node.js 18.20.4 (from amplify.yml runtime-versions nodejs: 18)\n" in log
    assert "node in the build is v18.20.4\n" in log
    # Only nodejs is chosen; another runtime asked for is said to be ignored, not ignored silently.
    assert "## runtime-versions python 3.12: not honoured (only nodejs is chosen); builds use the worker's own\n" in log


@needs_sandbox
def test_a_build_asking_for_a_missing_major_fails_before_any_command(
    db: None, make_repo: Callable[..., Path], node_dir: Path
) -> None:
    job = build(make_app(make_repo, spec("nvm install 16")))
    log = log_of(job)
    assert job.status == Job.Status.FAILED
    assert job.status_reason.startswith("Node.js 16 is not installed on this worker (asked by amplify.yml nvm install 16)")
    assert "Installed: 18 (v18.20.4)" in job.status_reason
    assert "# Executing command" not in log
