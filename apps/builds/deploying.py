"""The deploy step of a build: its output handed to a registered deployer (a server-rendered
app), or its artifacts collected and hosted as static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from apps.builds import jobs
from apps.builds.artifacts import ArtifactError, collect_artifacts, content_type_for
from apps.builds.deployers import BuildOutput, DeployFailed, deploy_other_output
from apps.builds.joblog import JobLog
from apps.builds.models import Job, JobStep
from apps.hosting import selectors as hosting_selectors
from apps.hosting import services as hosting
from apps.hosting.services import SourceFile
from console.aws_errors import AwsError

S = Job.Status


class BuildFailed(Exception):
    """The build ends here; the reason is shown on the job page."""

    def __init__(self, reason: str, *, command: str = "", exit_code: int | None = None, status: str = S.FAILED) -> None:
        super().__init__(reason)
        self.reason, self.command, self.exit_code, self.status = reason, command, exit_code, status


def _custom_http(source: Path, project: Path, log: JobLog) -> str:
    """customHttp.yml of the app root or the repository root, checked now: a bad one fails the build."""
    app_root = project.relative_to(source.resolve()).as_posix() if project != source else ""
    try:
        text = hosting_selectors.read_custom_http(source, "" if app_root == "." else app_root)
        if text is None:
            return ""
        rules = hosting_selectors.parse_custom_headers(text, app_root=app_root or None)
    except hosting_selectors.HeadersInvalid as error:
        raise BuildFailed(f"customHttp.yml is invalid: {error}") from None
    log.line(f"## customHttp.yml: {len(rules)} header rules (they take the place of the app's custom headers)")
    return text


def deploy_output(job: Job, section: dict[str, Any], project: Path, source: Path, log: JobLog) -> None:
    artifacts = (section.get("frontend") or {}).get("artifacts")
    if not artifacts:
        log.line("## No frontend.artifacts in the build spec: nothing to host")
        for step in (JobStep.Name.DEPLOY, JobStep.Name.VERIFY):
            jobs.step_update(job.pk, step, S.SUCCEED)
        return
    jobs.step_update(job.pk, JobStep.Name.DEPLOY, S.RUNNING)
    output = BuildOutput(job.branch, job.pk, project, artifacts, lambda: _custom_http(source, project, log), log.line)
    try:
        deployed = deploy_other_output(output)  # a server-rendered app (apps.compute), for one
    except DeployFailed as error:
        raise BuildFailed(str(error)) from None
    except AwsError as error:
        raise BuildFailed(f"Storing the build output in the hosting bucket failed: {error}") from None
    if deployed is not None:
        jobs.step_update(job.pk, JobStep.Name.DEPLOY, S.SUCCEED)
        log.line(f"## Deployed: deployment {deployed.pk} is live at {job.branch.url}")
        jobs.step_update(job.pk, JobStep.Name.VERIFY, S.SUCCEED)
        return
    discard = artifacts.get("discard-paths") in (True, "yes")
    try:
        files = collect_artifacts(project, artifacts.get("baseDirectory", ""), artifacts["files"], discard)
    except ArtifactError as error:
        raise BuildFailed(f"Collecting artifacts failed: {error}") from None
    total = sum(f.size for f in files)
    if total > settings.BUILD_ARTIFACT_MAX_BYTES:
        limit_mb = settings.BUILD_ARTIFACT_MAX_BYTES // (1024 * 1024)
        raise BuildFailed(f"The artifacts are {total // (1024 * 1024)} MB; the limit is {limit_mb} MB.")
    custom_headers = _custom_http(source, project, log)
    sources = [SourceFile(f.path, f.source, f.size, content_type_for(f.path)) for f in files]
    try:
        hosting.publish(job.branch, job.pk, sources, custom_headers=custom_headers, say=log.line)
    except AwsError as error:
        raise BuildFailed(f"Storing the artifacts in the hosting bucket failed: {error}") from None
    jobs.step_update(job.pk, JobStep.Name.DEPLOY, S.SUCCEED)
    log.line(f"## Deployed {len(files)} files ({total // 1024} KiB) to {job.branch.url}")
    jobs.step_update(job.pk, JobStep.Name.VERIFY, S.RUNNING)
    if not any(f.path == "index.html" for f in files):
        log.line("## Warning: no index.html at the top of the artifacts; the branch URL's root will show 404")
    jobs.step_update(job.pk, JobStep.Name.VERIFY, S.SUCCEED)
