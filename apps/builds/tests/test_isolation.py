"""The pieces of build isolation that need no worker: the sandbox's command line and
limits, the network guard's rules, reading what a build left, the dashboard's warnings."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from apps.builds import sandbox as sandbox_module
from apps.builds.limits import LimitGuard, OutputWatcher, limit_hint
from apps.builds.netguard import chain, rules
from apps.builds.process import run_script
from apps.builds.sandbox import DEFAULT_PATH, Layout, Limits, Sandbox, outer_uid_for
from apps.builds.workspace_files import read_small_file, read_workspace_file, write_workspace_file
from console.isolation_status import isolation_warnings, record_isolation_problem

LIMITS = Limits(processes=64, memory_mb=1024, cpu_seconds=60, disk_mb=20)
needs_bwrap = pytest.mark.skipif(sandbox_module.isolation_problem() is not None, reason="bubblewrap cannot run here")


@pytest.fixture
def workspaces(settings: Any) -> Iterator[Path]:
    """A folder build users can reach (pytest's own tmp folders are private to the test user)."""
    base = Path(settings.BUILD_WORKSPACE_DIR) / f"test-{uuid.uuid4().hex[:12]}"
    base.mkdir(parents=True)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _sandbox(base: Path, *, network: bool = False, limits: Limits = LIMITS, job_pk: int = 1) -> Sandbox:
    layout = Layout(base / f"job-{job_pk}")
    layout.create()
    layout.src.mkdir()
    return Sandbox(layout=layout, network=network, limits=limits, outer_uid=outer_uid_for(job_pk))


def _run(sandbox: Sandbox, script: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    sandbox.hand_over()
    path = sandbox.layout.control / "phase.sh"
    path.write_text(script)
    output: list[str] = []
    result = run_script(
        sandbox.command(["bash", str(path)]),
        cwd=sandbox.layout.src,
        env={"PATH": DEFAULT_PATH, "HOME": sandbox.home, **(env or {})},
        on_output=output.append,
        on_tick=lambda pgid: None,
        deadline=time.monotonic() + 60,
        preexec=sandbox.preexec(),
    )
    return result.exit_code, "".join(output)


# --- the sandbox itself (real bubblewrap) ------------------------------------------------


@needs_bwrap
def test_a_sandboxed_command_runs_as_build_in_its_own_pid_namespace_and_sees_no_host_files(workspaces: Path) -> None:
    marker = Path(__file__).resolve()
    code, out = _run(
        _sandbox(workspaces),
        f"id -un; id -u; echo pid=$$; ls /proc | grep -c '^[0-9]'; cat {marker} >/dev/null 2>&1 || echo no-host-file;"
        " echo HOME=$HOME; touch $HOME/ok /tmp/ok src-ok && echo writes-ok",
    )
    assert code == 0, out
    lines = out.split()
    assert lines[:2] == ["build", "1000"]
    # bwrap's init and the script's shell (plus a pipeline or two): not the worker's hundreds.
    assert int(lines[3]) < 10, out
    assert "no-host-file" in out
    assert "HOME=/home/build" in out
    assert "writes-ok" in out


@needs_bwrap
def test_the_environment_is_only_what_the_runner_gives(workspaces: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_ONLY_MARKER", "worker-secret-value")
    code, out = _run(_sandbox(workspaces), "env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'", {"GIVEN": "yes"})
    assert code == 0, out
    assert "GIVEN=yes" in out
    assert "worker-secret-value" not in out
    assert "SECRET_KEY" not in out


@needs_bwrap
def test_a_file_larger_than_the_disk_limit_ends_the_writer_with_sigxfsz(workspaces: Path) -> None:
    code, out = _run(_sandbox(workspaces), "head -c 30000000 /dev/zero > big")
    assert code == 128 + signal.SIGXFSZ, out
    assert "disk limit of 20 MB" in limit_hint(code, False, LIMITS)


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="process counting needs builds on host uids of their own (root worker)")
def test_the_limit_guard_counts_the_build_s_processes_and_its_disk_use(workspaces: Path) -> None:
    sandbox = _sandbox(workspaces, limits=Limits(processes=16, memory_mb=1024, cpu_seconds=60, disk_mb=1))
    sandbox.hand_over()
    (sandbox.layout.src / "data").write_bytes(b"x" * 2 * 1024 * 1024)
    guard = LimitGuard(sandbox)
    assert guard.check() == "The build wrote 2 MB, more than its disk limit of 1 MB (BUILD_DISK_LIMIT_MB)."
    script = sandbox.layout.control / "spawn.sh"
    script.write_text("for i in $(seq 30); do sleep 30 & done; wait")
    process = subprocess.Popen(sandbox.command(["bash", str(script)]), preexec_fn=sandbox.preexec(), start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while (sandbox.process_count() or 0) < 16 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert guard.check() == "The build reached its limit of 16 processes (BUILD_MAX_PROCESSES)."
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Between samples a fork bomb may sit under the limit; the shell's complaint gives it away.
    watcher = OutputWatcher()
    watcher.feed("environment: fork: retry: Resource temporarily unavailable\n")
    sandbox.layout.src.joinpath("data").unlink()
    assert LimitGuard(sandbox, watcher).check() == "The build reached its limit of 16 processes (BUILD_MAX_PROCESSES)."
    assert LimitGuard(sandbox, OutputWatcher()).check() is None


def test_limit_hints_name_the_limit_that_ended_a_command() -> None:
    assert "CPU time limit of 60 s" in limit_hint(128 + signal.SIGXCPU, False, LIMITS)
    assert "1024 MB per process (BUILD_MEMORY_LIMIT_MB)" in limit_hint(1, True, LIMITS)
    assert limit_hint(1, False, LIMITS) == ""
    watcher = OutputWatcher()
    watcher.feed("building...\n")
    assert not watcher.out_of_memory
    watcher.feed("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n")
    assert watcher.out_of_memory


def test_the_sandbox_command_line_binds_only_the_workspace_and_system_folders(workspaces: Path, settings: Any) -> None:
    sandbox = _sandbox(workspaces, network=False)
    argv = sandbox.command(["bash", "x.sh"])
    assert argv[0] == "bwrap"
    assert "--unshare-all" in argv
    assert "--die-with-parent" in argv
    assert "--disable-userns" in argv
    assert "--share-net" not in argv
    sources = [argv[i + 1] for i, word in enumerate(argv) if word in ("--bind", "--ro-bind")]
    writable = [argv[i + 1] for i, word in enumerate(argv) if word == "--bind"]
    assert set(writable) == {str(p) for p in (sandbox.layout.src, sandbox.layout.status, sandbox.layout.home, sandbox.layout.tmp)}
    # Of the console's own folders, only this build's workspace is visible.
    console_paths = [source for source in sources if source.startswith(str(settings.BASE_DIR))]
    assert console_paths, sources
    assert all(Path(source).is_relative_to(sandbox.layout.root) for source in console_paths), console_paths
    assert "--share-net" in _sandbox(workspaces, network=True, job_pk=2).command(["true"])
    settings.BUILD_ISOLATION = "off"
    assert sandbox.command(["bash", "x.sh"]) == ["bash", "x.sh"]


@needs_bwrap
def test_node_installations_under_tmp_are_visible_in_the_sandbox(workspaces: Path, settings: Any) -> None:
    """The sandbox puts a /tmp of its own over the host's: BUILD_NODE_DIR under /tmp (a
    checkout there) must be bound after it, or builds silently run the system's node."""
    nodes = Path(tempfile.mkdtemp(prefix="nodes-", dir="/tmp"))
    try:
        nodes.chmod(0o755)
        (nodes / "22" / "bin").mkdir(parents=True)
        (nodes / "22" / "bin" / "node").write_text("#!/bin/sh\necho v22.0.0-from-node-dir\n")
        (nodes / "22" / "bin" / "node").chmod(0o755)
        settings.BUILD_NODE_DIR = nodes
        code, output = _run(_sandbox(workspaces), f"{nodes}/22/bin/node")
        assert (code, output.strip()) == (0, "v22.0.0-from-node-dir")
    finally:
        shutil.rmtree(nodes, ignore_errors=True)


def test_without_bubblewrap_the_probe_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    sandbox_module.reset_probe()
    try:
        assert sandbox_module.isolation_problem() == (
            "bubblewrap (bwrap) is not installed on this worker: apt-get install bubblewrap"
        )
    finally:
        sandbox_module.reset_probe()


# --- the network guard's rules --------------------------------------------------------------


def test_the_guard_rejects_this_host_and_metadata_and_lets_only_the_aws_endpoint_through(settings: Any) -> None:
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:4566"
    settings.BUILD_BLOCKED_NETWORKS = ["10.20.0.0/16", "fd12::/64"]
    settings.BUILD_GUARD_CHAIN = "STAGING-BUILDS"  # another console on this host keeps its own chain
    name = chain()
    assert name == "STAGING-BUILDS"
    v4, v6 = rules(4), rules(6)
    assert v4.splitlines()[:4] == [
        "*filter",
        f":{name} - [0:0]",
        # Only replies on connections others opened to a guarded process (the console to a compute server).
        f"-A {name} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {name} -d 127.0.0.1 -p tcp --dport 4566 -j RETURN",
    ]
    assert f"-A {name} -m addrtype --dst-type LOCAL -j REJECT" in v4
    assert f"-A {name} -d 169.254.0.0/16 -j REJECT" in v4
    assert f"-A {name} -d 10.20.0.0/16 -j REJECT" in v4
    assert "fd12::/64" not in v4
    assert "fd12::/64" in v6
    assert "fd00:ec2::254/128" in v6
    assert "4566" not in v6  # 127.0.0.1 is IPv4 only
    assert v4.rstrip().endswith("COMMIT")


# --- reading what a build left, as the worker ---------------------------------------------


def test_workspace_reads_never_follow_symlinks_or_open_fifos(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    secret = tmp_path / "console-secret"
    secret.write_text("console-secret-value")
    (root / "plain.json").write_text("{}")
    (root / "link.json").symlink_to(secret)
    os.mkfifo(root / "fifo.json")
    (root / "dir-link").symlink_to(tmp_path)
    assert read_workspace_file(root, root / "plain.json", 100) == b"{}"
    assert read_workspace_file(root, root / "link.json", 100) is None
    assert read_workspace_file(root, root / "fifo.json", 100) is None  # returns at once, never blocks
    assert read_workspace_file(root, root / "dir-link" / "console-secret", 100) is None
    assert read_workspace_file(root, root / "missing.json", 100) is None
    with pytest.raises(ValueError, match="at most 1 are read"):
        read_workspace_file(root, root / "plain.json", 1)
    assert read_small_file(root, "link.json") == ""


def test_workspace_writes_replace_a_planted_symlink_instead_of_following_it(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    target = tmp_path / "console-file"
    target.write_text("untouched")
    (root / "amplify_outputs.json").symlink_to(target)
    write_workspace_file(root / "amplify_outputs.json", '{"version": "1"}')
    assert target.read_text() == "untouched"
    assert not (root / "amplify_outputs.json").is_symlink()
    assert (root / "amplify_outputs.json").read_text() == '{"version": "1"}'


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_warns_admins_when_builds_are_not_isolated(
    admin_client: Client, viewer_client: Client, settings: Any
) -> None:
    settings.BUILD_ISOLATION = "off"
    page = admin_client.get("/").content.decode()
    assert "Builds are not isolated." in page
    assert "BUILD_ISOLATION=off" in page
    assert "Builds are not isolated." not in viewer_client.get("/").content.decode()
    settings.BUILD_ISOLATION = "on"
    assert "Builds are not isolated." not in admin_client.get("/").content.decode()


def test_the_dashboard_shows_everyone_that_a_worker_refuses_builds(viewer_client: Client, settings: Any) -> None:
    settings.BUILD_ISOLATION = "on"
    record_isolation_problem("bubblewrap (bwrap) is not installed on this worker: apt-get install bubblewrap")
    try:
        page = viewer_client.get("/").content.decode()
        assert "Builds are refused." in page
        assert "apt-get install bubblewrap" in page
        record_isolation_problem(None)
        assert isolation_warnings() == []
    finally:
        cache.clear()


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root worker runs builds as other users")
def test_a_workspace_folder_build_users_cannot_reach_is_named_with_the_fix(workspaces: Path, settings: Any) -> None:
    private = workspaces / "private"
    private.mkdir(mode=0o700)
    settings.BUILD_WORKSPACE_DIR = private / "workspaces"
    assert sandbox_module.unreachable_workspace() == (
        f"build users cannot reach BUILD_WORKSPACE_DIR ({private / 'workspaces'}): {private} does not let others pass; "
        f"run chmod o+x {private}, or set BUILD_WORKSPACE_DIR to a folder they can reach"
    )
    sandbox_module.reset_probe()
    try:
        assert "build users cannot reach BUILD_WORKSPACE_DIR" in (sandbox_module.isolation_problem() or "")
    finally:
        sandbox_module.reset_probe()
    private.chmod(0o711)
    assert sandbox_module.unreachable_workspace() is None
