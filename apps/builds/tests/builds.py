"""Helpers for build tests: a repository with a spec, a build run eagerly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from apps.builds.tasks import process_branch_queue

SITE_SPEC = """version: 1
frontend:
  phases:
    build:
      commands:
        - echo "building $AWS_BRANCH job $AWS_JOB_ID at $AWS_COMMIT_ID"
        - mkdir -p dist/docs && printf '<h1>home</h1>' > dist/index.html && printf 'body{}' > dist/app.css
        - printf '<p>docs</p>' > dist/docs/index.html
  artifacts:
    baseDirectory: dist
    files: ['**/*']
"""


def make_app(make_repo: Callable[..., Path], spec: str | None = SITE_SPEC, files: dict[str, str] | None = None) -> App:
    content = dict(files or {"README.md": "x\n"})
    if spec is not None:
        content["amplify.yml"] = spec
    repo = make_repo(("main", "dev"), files=content)
    return services.app_create(actor=None, name="Site", repository=str(repo), production_branch="main")


def preview_branch(app: App, number: int, source: str, *, from_fork: bool) -> Branch:
    """A preview branch pr-<number> of a pull request from `source` into main."""
    name = f"pr-{number}"
    return Branch.objects.create(
        app=app, name=name, display_name=name, stage=Branch.Stage.PULL_REQUEST, pull_request_number=number,
        pr_source_branch=source, pr_destination_branch="main", pr_from_fork=from_fork,
    )  # fmt: skip


def build(app: App, branch: str = "main", **kwargs: Any) -> Job:
    """Start a job and run the branch queue right here (the worker's task, called directly)."""
    job = jobs.job_start(
        branch=app.branches.get(name=branch), job_type=kwargs.pop("job_type", Job.Type.MANUAL), triggered_by="test", **kwargs
    )
    process_branch_queue(job.branch_id)
    job.refresh_from_db()
    return job


def log_of(job: Job) -> str:
    return "".join(job.log_chunks.values_list("text", flat=True))
