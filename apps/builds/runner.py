"""The build of one claimed job: clone, read the spec, run the phases, store
the artifacts, switch hosting. Called by the Celery task with a job id."""

from __future__ import annotations

import json
import logging
import shlex
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.branches.models import Branch
from apps.branches.selectors import BuildSpecInvalid, OutputsInvalid, outputs_as_written, parse_build_spec, parse_outputs
from apps.branches.services import read_stack_now, unowned_resources
from apps.builds import jobs, skipping
from apps.builds.buildcache import restore_cache, save_cache
from apps.builds.buildenv import NoCredentials, build_environment, build_timeout
from apps.builds.checkout import clone_commit
from apps.builds.deployers import DeployFailed, before_redeploy
from apps.builds.deploying import BuildFailed, deploy_output
from apps.builds.isolation import BuildRefused, describe, sandbox_for
from apps.builds.joblog import JobLog, Masker
from apps.builds.limits import LimitGuard, OutputWatcher, limit_hint
from apps.builds.models import Job, JobStep
from apps.builds.nodejs import SCRIPT_PREAMBLE, NodeChoice, NodeUnavailable, choose_node, other_runtimes_note
from apps.builds.process import CANCEL, process_identity, run_script
from apps.builds.sandbox import Layout, Sandbox, isolation_enabled
from apps.builds.workspace_files import read_small_file, read_workspace_file, write_workspace_file
from apps.hosting import selectors as hosting_selectors
from apps.hosting import services as hosting
from console.db_outage import DATABASE_AWAY, forget_connection

logger = logging.getLogger(__name__)
S = Job.Status
SPEC_FILES = ("amplify.yml", "amplify.yaml")
SPEC_MAX_BYTES = 1024 * 1024
OUTPUTS_MAX_BYTES = 20 * 1024 * 1024
NVMRC_MAX_BYTES = 1024
PHASES = {
    "backend": ("preBuild", "build", "postBuild"),
    "frontend": ("preBuild", "build", "postBuild"),
    "test": ("preTest", "test", "postTest"),
}


@dataclass
class Workspace:
    layout: Layout
    project: Path

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def source(self) -> Path:
        return self.layout.src


JOB_GONE = "job-gone"


class JobGone(Exception):
    """The job's row went away mid-build: its branch was disconnected or its app deleted."""


class BuildSkipped(Exception):
    """An automatic build found not worth running (apps.builds.skipping); str() is the reason."""

    def __init__(self, reason: str, commit: dict[str, Any]) -> None:
        super().__init__(reason)
        self.commit = commit


def run_job(job_pk: int) -> None:
    job = Job.objects.select_related("branch__app", "source_job").filter(pk=job_pk).first()
    if job is None:
        return
    log = JobLog(job, Masker([]))
    workspace: Workspace | None = None
    try:
        if job.redeploy:
            _redeploy(job, log)
        else:
            workspace = _new_workspace(job)
            _build(job, log, workspace)
        log.flush(final=True)
        jobs.job_finish(job.pk, S.SUCCEED)
    except BuildSkipped as skipped:
        log.line(f"## {skipped}")
        log.flush(final=True)
        commit = skipped.commit
        fields = {"commit_id": commit["id"], "commit_message": commit["message"], "commit_time": commit["time"]}
        if not jobs.job_skip(job.pk, str(skipped), **fields):
            jobs.job_finish(job.pk, S.CANCELLED)  # cancelled meanwhile: it ends as cancelled
    except JobGone:
        logger.info("job %s was removed while it ran: its build was stopped", job_pk)
    except Exception as error:  # the job must end, whatever broke
        if not Job.objects.filter(pk=job_pk).exists():
            # Removed between two steps: nothing is left to report to.
            logger.info("job %s was removed while it ran", job_pk)
            return
        _end_with_error(job, log, error)
    finally:
        if workspace is not None:
            shutil.rmtree(workspace.root, ignore_errors=True)


def _end_with_error(job: Job, log: JobLog, error: Exception) -> None:
    """End the job with what went wrong: a build's failure, or the runner's own error."""
    if isinstance(error, BuildFailed):
        failure = error
        log.line(f"## {failure.reason}")
        log.flush(final=True)
        jobs.job_finish(
            job.pk, failure.status, reason=failure.reason, failed_command=failure.command, exit_code=failure.exit_code
        )
        return
    logger.error("job %s crashed", job.pk, exc_info=error)
    log.line(f"## Internal error in the build runner: {type(error).__name__}: {error}")
    log.flush(final=True)
    jobs.job_finish(job.pk, S.FAILED, reason=f"Internal error: {type(error).__name__}")


def _new_workspace(job: Job) -> Workspace:
    settings.BUILD_WORKSPACE_DIR.mkdir(parents=True, exist_ok=True)
    root = settings.BUILD_WORKSPACE_DIR / f"{job.branch.app.app_id}-{job.branch_id}-{job.job_id}-{uuid.uuid4().hex[:8]}"
    layout = Layout(root)
    layout.create()
    return Workspace(layout=layout, project=layout.src)


def _redeploy(job: Job, log: JobLog) -> None:
    source = job.source_job
    deployment = hosting_selectors.deployment_of_job(source.pk) if source else None
    if deployment is None:
        raise BuildFailed(
            f"The job to redeploy has no hosted files any more: each branch keeps its last "
            f"{settings.HOSTING_KEEP_DEPLOYMENTS} deployments. Start a new build instead."
        )
    jobs.job_set_running(job.pk)
    jobs.step_update(job.pk, JobStep.Name.BUILD, S.SUCCEED)
    log.line(f"## Redeploying the files of job #{source.job_id if source else '?'} (commit {job.commit_id[:12]}); no rebuild.")
    jobs.step_update(job.pk, JobStep.Name.DEPLOY, S.RUNNING)
    try:
        before_redeploy(job.branch, deployment, log.line)  # a server-rendered app's server starts first
    except DeployFailed as error:
        raise BuildFailed(str(error)) from None
    hosting.redeploy(job.branch, deployment)  # the same manifest again: nothing is copied
    jobs.step_update(job.pk, JobStep.Name.DEPLOY, S.SUCCEED)
    jobs.step_update(job.pk, JobStep.Name.VERIFY, S.SUCCEED)
    log.line(f"## Deployed: {deployment.file_count} files are live at {job.branch.url}")


def _build(job: Job, log: JobLog, workspace: Workspace) -> None:
    branch = job.branch
    jobs.step_update(job.pk, JobStep.Name.BUILD, S.RUNNING)
    try:
        sandbox = sandbox_for(job, workspace.layout)
    except BuildRefused as refused:
        raise BuildFailed(str(refused)) from None
    log.line(f"## Cloning {branch.app.repository} ({branch.name})")
    commit = clone_commit(job, workspace.source)
    log.line(f"## Commit {commit['id']}: {commit['message'].splitlines()[0] if commit['message'] else ''}")
    if job.automatic and (reason := skipping.marker_reason(commit["message"])):
        raise BuildSkipped(reason, commit)
    spec, spec_source = _read_spec(job, workspace)
    log.line(f"## Build spec: {spec_source}")
    section = _select_application(spec, job, workspace)
    if job.automatic and (
        reason := skipping.clone_paths_reason(job.branch, workspace.source, workspace.project, commit["id"], log.line)
    ):
        raise BuildSkipped(reason, commit)
    jobs.job_set_running(job.pk, commit_id=commit["id"], commit_message=commit["message"], commit_time=commit["time"])
    job.commit_id = commit["id"]
    try:
        environment = build_environment(
            job,
            {**spec.get("env", {}).get("variables", {}), **section.get("env", {}).get("variables", {})},
            home=sandbox.home,
            tmp=sandbox.tmp,
        )
    except NoCredentials as error:
        raise BuildFailed(f"The service role could not be assumed: {error}") from None
    log.mask = Masker(environment.mask)
    log.line(describe(sandbox))
    for note in environment.notes:
        log.line(note)
    env = environment.variables
    node = _choose_node(job, section, env, workspace)
    node.apply(env)
    for line in node.log_lines():
        log.line(line)
    if runtimes := other_runtimes_note(_spec_phases(section)):
        log.line(runtimes)
    limit = build_timeout(env, branch.app.build_timeout_cap_minutes)
    if limit.note:
        log.line(limit.note)
    timeout = limit.seconds
    deadline = time.monotonic() + timeout
    restore_cache(branch, workspace.project, log.line)
    sandbox.hand_over()
    ctx = _PhaseContext(job=job, log=log, workspace=workspace, env=env, deadline=deadline, timeout=timeout, sandbox=sandbox)
    shared = branch.pr_shared_backend if branch.pull_request_number else None
    if shared is not None:
        _use_shared_backend(shared, workspace, log)
    elif "backend" in section:
        _run_phases(ctx, "backend", section["backend"])
        read_stack_now(branch)  # the deploy changed it: the branch page shows the new status at once
        _capture_outputs(job, workspace, log)
    if "frontend" in section:
        _run_phases(ctx, "frontend", section["frontend"])
    if "test" in section:
        _run_phases(ctx, "test", section["test"])
    jobs.step_update(job.pk, JobStep.Name.BUILD, S.SUCCEED)
    save_cache(branch, section, workspace.project, log.line)
    deploy_output(job, section, workspace.project, workspace.source, log)


def _choose_node(job: Job, section: dict[str, Any], env: dict[str, str], workspace: Workspace) -> NodeChoice:
    """The build's Node.js (apps.builds.nodejs); a version this worker lacks fails the build now."""
    try:
        nvmrc = read_workspace_file(workspace.source, workspace.project / ".nvmrc", NVMRC_MAX_BYTES)
    except ValueError:
        nvmrc = None
    try:
        return choose_node(
            commands=[str(c) for phase in _spec_phases(section) for c in phase.get("commands") or []],
            runtime_versions=[
                str(phase["runtime-versions"]["nodejs"])
                for phase in _spec_phases(section)
                if "nodejs" in (phase.get("runtime-versions") or {})
            ],
            env=env,
            branch_setting=job.branch.node_version,
            app_setting=job.branch.app.node_version,
            nvmrc=nvmrc.decode("utf-8", errors="replace").strip() if nvmrc else None,
        )
    except NodeUnavailable as error:
        raise BuildFailed(str(error)) from None


def _spec_phases(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The spec section's phases, in the order the build runs them."""
    return [
        ((section.get(part) or {}).get("phases") or {}).get(phase) or {} for part, phases in PHASES.items() for phase in phases
    ]


def _read_spec(job: Job, workspace: Workspace) -> tuple[dict[str, Any], str]:
    for name in SPEC_FILES:
        # A repository may carry amplify.yml as a symlink to anywhere: read plain files only.
        try:
            data = read_workspace_file(workspace.source, workspace.source / name, SPEC_MAX_BYTES)
        except ValueError as error:
            raise BuildFailed(f"The build spec is too large: {error}") from None
        if data is not None:
            text = data.decode("utf-8", errors="replace")
            source = f"{name} from the repository (it wins over the stored spec)"
            break
    else:
        text, source = job.branch.app.build_spec, "the app's stored build spec"
        if not text.strip():
            raise BuildFailed("No build spec: add amplify.yml to the repository or save one in Build settings.")
    try:
        return parse_build_spec(text), source
    except BuildSpecInvalid as invalid:
        raise BuildFailed(f"The build spec ({source.split(' ')[0]}) is invalid: {invalid}") from None


def _select_application(spec: dict[str, Any], job: Job, workspace: Workspace) -> dict[str, Any]:
    applications = spec.get("applications")
    if not applications:
        return spec
    wanted = next(
        (v.value for v in job.branch.app.environment_variables.filter(name="AMPLIFY_MONOREPO_APP_ROOT", branch__isnull=True)),
        None,
    )
    if wanted is None and len(applications) == 1:
        chosen = applications[0]
    else:
        chosen = next((a for a in applications if a["appRoot"].strip("/") == (wanted or "").strip("/")), None)
        if chosen is None:
            roots = ", ".join(a["appRoot"] for a in applications)
            raise BuildFailed(f"The spec lists several applications ({roots}); set AMPLIFY_MONOREPO_APP_ROOT to one of them.")
    project = (workspace.source / chosen["appRoot"]).resolve()
    if not project.is_relative_to(workspace.source.resolve()) or not project.is_dir():
        raise BuildFailed(f"appRoot {chosen['appRoot']!r} is not a folder of the repository.")
    workspace.project = project
    return {
        **chosen,
        "env": {"variables": {**spec.get("env", {}).get("variables", {}), **chosen.get("env", {}).get("variables", {})}},
    }


@dataclass
class _PhaseContext:
    job: Job
    log: JobLog
    workspace: Workspace
    env: dict[str, str]
    deadline: float
    timeout: int
    sandbox: Sandbox


def _phase_script(ctx: _PhaseContext, section: str, phases: dict[str, Any], status_file: Path) -> tuple[Path, list[str]]:
    """One bash script for the section's phases: `set -e`, each command logged before it runs."""
    commands: list[str] = []
    lines = ["set -e", SCRIPT_PREAMBLE, f"cd {shlex.quote(str(ctx.workspace.project))}"]
    for phase in PHASES[section]:
        phase_commands = (phases.get(phase) or {}).get("commands") or []
        if not phase_commands:
            continue
        lines.append(f"printf '%s\\n' {shlex.quote(f'## Starting phase: {section} {phase}')}")
        for command in phase_commands:
            commands.append(command)
            lines.append(f"printf '%s\\n' {len(commands) - 1} > {shlex.quote(str(status_file))}")
            lines.append(f"printf '%s\\n' {shlex.quote(f'# Executing command: {command}')}")
            lines.append(command)
    lines.append(f"printf 'done\\n' > {shlex.quote(str(status_file))}")
    # The worker's own folder: the build can read its scripts but not swap them.
    script = ctx.workspace.layout.control / f"{section}.sh"
    script.write_text("\n".join(lines) + "\n")
    return script, commands


def _run_phases(ctx: _PhaseContext, section: str, spec: dict[str, Any]) -> None:
    phases = spec.get("phases") or {}
    status_file = ctx.workspace.layout.status / f"{section}.status"
    script, commands = _phase_script(ctx, section, phases, status_file)
    if not commands:
        return

    recorded_group: list[int] = []
    watcher = OutputWatcher()
    guard = LimitGuard(ctx.sandbox, watcher)

    def output(text: str) -> None:
        watcher.feed(text)
        ctx.log.write(text)

    def tick(pgid: int) -> str | None:
        # Every half second: the page sees new lines soon, the reaper sees a live worker.
        try:
            status = jobs.job_heartbeat(ctx.job.pk)
            if status and not recorded_group:
                Job.objects.filter(pk=ctx.job.pk).update(process_group=pgid, process_started=process_identity(pgid))
                recorded_group.append(pgid)
        except DATABASE_AWAY as error:
            # The database is restarting: the build goes on, its lines wait in the log's
            # buffer, and the reaper fails the job only if the database stays away longer
            # than BUILD_HEARTBEAT_TIMEOUT_SECONDS.
            forget_connection(error)
            return guard.check()
        if not status:
            return JOB_GONE  # before any write: the job's rows are gone
        ctx.log.flush()
        if status == S.CANCELLING:
            return CANCEL
        return guard.check()

    result = run_script(
        ctx.sandbox.command(["bash", str(script)]),
        cwd=ctx.workspace.project,
        env=ctx.env,
        on_output=output,
        on_tick=tick,
        deadline=ctx.deadline,
        tick_seconds=0.5,
        preexec=ctx.sandbox.preexec(),
    )
    if result.stopped == JOB_GONE:
        raise JobGone
    ctx.log.flush(final=True)
    if result.cancelled:
        raise BuildFailed(f"Cancelled: {_what_was_stopped()}.", status=S.CANCELLED)
    if result.stopped:
        stopped = _what_was_stopped()
        raise BuildFailed(f"{result.stopped} {stopped[0].upper()}{stopped[1:]}.")
    if result.timed_out:
        limit = f"{ctx.timeout // 60} minutes" if ctx.timeout >= 60 else f"{ctx.timeout} s"
        raise BuildFailed(f"Timed out after {limit} (_BUILD_TIMEOUT): {_what_was_stopped()}.")
    if result.exit_code != 0:
        marker = read_small_file(ctx.workspace.layout.status, status_file.name)
        command = commands[int(marker)] if marker.isdigit() and int(marker) < len(commands) else ""
        failed = (
            f"Command failed with exit code {result.exit_code}: {command}"
            if command
            else f"{section} failed with exit code {result.exit_code}"
        )
        hint = limit_hint(result.exit_code, watcher.out_of_memory, ctx.sandbox.limits)
        if not hint and section == "backend" and "AWS_ACCESS_KEY_ID" not in ctx.env:
            hint = "The build had no AWS credentials: set a service role in the app's settings."
        raise BuildFailed(f"{failed}. {hint}" if hint else failed, command=command, exit_code=result.exit_code)


def _what_was_stopped() -> str:
    # Only the sandbox's PID namespace takes along processes that left the group (setsid).
    if isolation_enabled():
        return "every process of the build was stopped"
    return "the build's processes were stopped, but unisolated (BUILD_ISOLATION=off) one that left its group may still run"


def _capture_outputs(job: Job, workspace: Workspace, log: JobLog) -> None:
    # The build wrote this file: read it only if it is a regular file of the project,
    # never through a symlink (it could name the console's own files).
    try:
        data = read_workspace_file(workspace.source, workspace.project / "amplify_outputs.json", OUTPUTS_MAX_BYTES)
    except ValueError as error:
        raise BuildFailed(f"amplify_outputs.json is too large: {error}") from None
    if data is None:
        log.line("## The backend wrote no amplify_outputs.json (or not as a plain file)")
        return
    try:
        outputs = parse_outputs(data)
    except OutputsInvalid as invalid:
        raise BuildFailed(f"amplify_outputs.json is invalid: {'; '.join(invalid.errors[:5])}") from None
    # The build wrote these: what they name is the branch's only if the branch's stack owns it.
    unowned, stack_name = unowned_resources(job.branch, outputs)
    Branch.objects.filter(pk=job.branch_id).update(
        backend_outputs=outputs, backend_outputs_job=job, backend_outputs_unowned=unowned
    )
    log.line(f"## Captured amplify_outputs.json (version {outputs['version']}) as the branch's backend outputs")
    if stack_name and not unowned:
        log.line(f"## Every bucket and user pool it names belongs to the branch's stack {stack_name}")
    for entry in unowned:
        log.line(
            f"## Warning: it names the {entry['kind']} {entry['name']}, but {entry['reason']}: "
            "the console will not act on it (an admin may add a bucket by hand under Storage)"
        )


def _use_shared_backend(shared: Branch, workspace: Workspace, log: JobLog) -> None:
    """A preview sharing a branch's backend skips the backend phase and gets its outputs."""
    if not shared.backend_outputs:
        raise BuildFailed(f"This preview shares the backend of {shared.name}, which has no captured amplify_outputs.json yet.")
    document = outputs_as_written(shared.backend_outputs)
    write_workspace_file(workspace.project / "amplify_outputs.json", json.dumps(document, indent=2))
    log.line(f"## Backend phase skipped: this preview uses the backend of {shared.name} (its amplify_outputs.json)")
