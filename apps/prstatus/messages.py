"""What a pull request is told: the commit status's description and the comment's text."""

from __future__ import annotations

from apps.branches.models import Branch
from apps.builds.models import Job
from apps.builds.selectors import job_url
from apps.prstatus.models import State

_HEADING = "**Amplify console** · preview of this pull request"


def description(job: Job, state: str) -> str:
    """At most 140 characters (GitHub's limit)."""
    return {
        State.RUNNING: f"Build #{job.job_id} is running",
        State.SUCCEEDED: f"Build #{job.job_id} succeeded: preview deployed",
        State.FAILED: f"Build #{job.job_id} failed",
    }[State(state)][:140]


def build_comment(job: Job, state: str) -> str:
    branch: Branch = job.branch
    commit = f" of `{job.commit_id[:12]}`" if job.commit_id else ""
    lines = [
        f"{_HEADING} ({branch.app.name} / {branch.name})",
        "",
        f"Build #{job.job_id}{commit}: **{State(state).label}** · [build log]({job_url(job)})",
        "",
    ]
    if state == State.SUCCEEDED:
        lines.append(f"Preview: {branch.url}")
    elif state == State.RUNNING:
        lines.append(f"Preview (updated when the build succeeds): {branch.url}")
    else:
        reason = f" ({job.status_reason})" if job.status_reason else ""
        lines.append(f"The preview was not updated{reason}: {branch.url}")
    return "\n".join(lines)


def closed_comment(preview_name: str) -> str:
    closed = f"The pull request was closed: its preview ({preview_name}) has been torn down and its URL no longer answers."
    return f"{_HEADING}\n\n{closed}"


CANCELLED_DESCRIPTION = "The preview was torn down before its build ended"
