"""Getting a job's source: the branch (or a preview's pull request, from a fork too) cloned
and the job's commit checked out, with git's credentials kept out of the clone's config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime

from apps.branches.services import GitCredentials, GitError, run_git
from apps.builds.deploying import BuildFailed
from apps.builds.models import Job

# Where git hosts keep a pull request's head, for PRs from forks.
_PR_REFS = ("refs/pull/{n}/head", "refs/merge-requests/{n}/head")


def clone_commit(job: Job, source: Path) -> dict[str, Any]:
    """Clone the job's branch (a preview's pull request) into `source` and check out the job's
    commit; its id, time and message. BuildFailed when git cannot."""
    branch = job.branch
    # A preview branch (pr-N) does not exist in git: clone the pull request's source branch.
    ref = branch.pr_source_branch if branch.pull_request_number else branch.name
    # Given to git through its environment: the clone's .git/config keeps the bare URL.
    credentials = branch.app.git_credentials
    try:
        clone = [
            "clone",
            "--quiet",
            "--no-tags",
            "--single-branch",
            "--branch",
            ref,
            "--",
            branch.app.repository,
            str(source),
        ]
        try:
            run_git(clone, timeout=600, credentials=credentials)
        except GitError:
            if not branch.pull_request_number:
                raise
            # The source branch lives in a fork: take the host's pull-request ref instead.
            run_git(
                ["clone", "--quiet", "--no-tags", "--no-checkout", "--", branch.app.repository, str(source)],
                timeout=600,
                credentials=credentials,
            )
            _fetch_pull_request(source, branch.pull_request_number, credentials)
        if job.commit_id:
            try:
                run_git(["checkout", "--quiet", "--detach", job.commit_id], cwd=source)
            except GitError:
                run_git(["fetch", "--quiet", "origin", job.commit_id], cwd=source, timeout=600, credentials=credentials)
                run_git(["checkout", "--quiet", "--detach", job.commit_id], cwd=source)
        out = run_git(["log", "-1", "--format=%H%x00%cI%x00%B"], cwd=source)
    except GitError as error:
        raise BuildFailed(f"Cloning the repository failed: {error}") from None
    commit_id, commit_time, message = out.split("\x00", 2)
    return {"id": commit_id.strip(), "time": parse_datetime(commit_time.strip()), "message": message.strip()}


def _fetch_pull_request(source: Path, number: int, credentials: GitCredentials | None) -> None:
    for pattern in _PR_REFS:
        try:
            run_git(
                ["fetch", "--quiet", "origin", pattern.format(n=number)],
                cwd=source,
                timeout=600,
                credentials=credentials,
            )
            run_git(["checkout", "--quiet", "--detach", "FETCH_HEAD"], cwd=source)
            return
        except GitError:
            continue
    raise GitError(f"neither the source branch nor a pull-request ref of #{number} could be fetched")
