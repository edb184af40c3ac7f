"""Whether, and how, a build may run isolated on this worker: the sandbox of one build,
the line the job log gives it, and the check the dashboard and `make run` report."""

from __future__ import annotations

from apps.builds.models import Job
from apps.builds.netguard import NetworkGuardError, ensure_guard, guard_required
from apps.builds.sandbox import Layout, Limits, Sandbox, isolation_enabled, isolation_problem, outer_uid_for
from console.isolation_status import record_isolation_problem


class BuildRefused(Exception):
    """This worker may not run the build; the message says why and what to do."""


def check_build_isolation() -> str | None:
    """Why this worker cannot run isolated builds (recorded for the dashboard), or None."""
    if not isolation_enabled():
        return None
    problem = isolation_problem()
    if problem is None and (guard := _guard_problem()):
        problem = f"builds with the network on cannot be guarded: {guard}"
    record_isolation_problem(problem)
    return problem


def _guard_problem() -> str | None:
    """Why the network guard cannot be put in place, or None (also when it is not wanted)."""
    if not guard_required():
        return None
    try:
        ensure_guard()
    except NetworkGuardError as error:
        return str(error)
    return None


def sandbox_for(job: Job, layout: Layout) -> Sandbox:
    """The build's sandbox, or BuildRefused when this worker may not run it."""
    app = job.branch.app
    limits = Limits.from_settings()
    sandbox = Sandbox(layout=layout, network=app.build_network, limits=limits, outer_uid=outer_uid_for(job.pk))
    if not isolation_enabled():
        return sandbox
    problem = isolation_problem()
    if problem:
        record_isolation_problem(problem)
        raise BuildRefused(
            f"Builds are refused on this worker: they cannot be isolated ({problem}). "
            "Install bubblewrap, or set BUILD_ISOLATION=off to run builds unisolated on purpose."
        )
    if app.build_network and (guard := _guard_problem()):
        record_isolation_problem(f"the network guard is unavailable: {guard}")
        raise BuildRefused(
            f"Builds with the network on are refused on this worker: the console's own addresses cannot be "
            f"blocked from them ({guard}). Turn the app's build network off, run the worker as root with "
            "iptables, or set BUILD_NETWORK_GUARD=off on purpose."
        )
    return sandbox


def describe(sandbox: Sandbox) -> str:
    """The job log's line on what the build may reach."""
    if not isolation_enabled():
        return "## WARNING: this build is NOT isolated (BUILD_ISOLATION=off): it runs as the worker's user"
    network = "on (this host's addresses and the metadata service blocked)" if sandbox.network else "off"
    if sandbox.network and not guard_required():
        network = "on, UNGUARDED (BUILD_NETWORK_GUARD=off)"
    limits = sandbox.limits
    return (
        f"## Isolated build (bubblewrap): user build, network {network}; limits: {limits.processes} processes, "
        f"{limits.memory_mb} MB memory per process, {limits.cpu_seconds} s CPU per process, {limits.disk_mb} MB disk"
    )
