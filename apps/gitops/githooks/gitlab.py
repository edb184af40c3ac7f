"""GitLab's webhooks: the token check and the events read from its deliveries."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from apps.gitops.githooks.common import (
    BRANCH_PREFIX,
    BadSignature,
    BranchDeleted,
    BranchPushed,
    GitLabEvent,
    Ignored,
    PullRequest,
    Repo,
    is_zero,
    load_object,
    pushed_files,
    quoted,
    repo_from,
    require_secret,
    validated,
)

_GITLAB_MR_ACTIONS = {
    "open": ("opened", False),
    "reopen": ("reopened", False),
    "close": ("closed", False),
    "merge": ("closed", True),
}
_GITLAB_URL_FIELDS = ("git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url", "homepage")


def verify_gitlab(secret: str, token_header: str | None) -> None:
    """X-Gitlab-Token must equal the secret, compared in constant time."""
    require_secret(secret)
    if not token_header:
        raise BadSignature("the X-Gitlab-Token header is missing")
    if not hmac.compare_digest(secret.encode(), token_header.encode("utf-8", "replace")):
        raise BadSignature("the X-Gitlab-Token header does not match")


# --- GitLab -------------------------------------------------------------------------------


def _gitlab_repo(payload: Mapping[str, Any]) -> Repo:
    return repo_from(payload.get("project"), payload.get("repository"), fields=_GITLAB_URL_FIELDS)


def _gitlab_push(payload: dict[str, Any]) -> BranchPushed | BranchDeleted | Ignored:
    repo = _gitlab_repo(payload)
    ref: str = payload["ref"]
    if not ref.startswith(BRANCH_PREFIX) or ref == BRANCH_PREFIX:
        return Ignored(f"push to {quoted(ref)}, which is not a branch", repo)
    branch = ref.removeprefix(BRANCH_PREFIX)
    after: str = payload["after"]
    if is_zero(after):
        return BranchDeleted(branch=branch, repo=repo)
    # GitLab lists at most 20 commits, so the head's own entry may be missing.
    message = next((c["message"] for c in payload["commits"] if c["id"] == after), "")
    commits = payload["commits"]
    known = payload.get("total_commits_count", len(commits)) == len(commits)
    return BranchPushed(
        branch=branch,
        commit=after,
        message=message,
        created=is_zero(payload["before"]),
        repo=repo,
        before=payload["before"],
        files=pushed_files(commits) if known else None,
    )


def _gitlab_action(attributes: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(our action, merged) for a GitLab merge request action, or None when not acted on."""
    action = attributes["action"]
    if action == "update":
        # "update" is also a title, label or assignee edit; only oldrev says commits were pushed.
        return ("synchronize", False) if "oldrev" in attributes else None
    return _GITLAB_MR_ACTIONS.get(action)


def _gitlab_merge_request(payload: dict[str, Any]) -> PullRequest | Ignored:
    repo = _gitlab_repo(payload)
    attributes = payload["object_attributes"]
    mapped = _gitlab_action(attributes)
    if mapped is None:
        detail = " without new commits" if attributes["action"] == "update" else ""
        return Ignored(f"merge request action {quoted(attributes['action'])}{detail} is not acted on", repo)
    action, merged = mapped
    return PullRequest(
        number=attributes["iid"],
        action=action,
        head_branch=attributes["source_branch"],
        head_commit=attributes["last_commit"]["id"],
        base_branch=attributes["target_branch"],
        draft=bool(attributes.get("draft", attributes.get("work_in_progress", False))),
        # A null source project is a deleted fork.
        from_fork=attributes["source_project_id"] != attributes["target_project_id"],
        merged=merged,
        title=attributes["title"],
        repo=repo,
    )


def parse_gitlab(event: str, body: bytes) -> GitLabEvent:
    """The event for a verified GitLab delivery; `event` is the X-Gitlab-Event header."""
    if event == "Push Hook":
        return _gitlab_push(validated("gitlab/push", body))
    if event == "Merge Request Hook":
        return _gitlab_merge_request(validated("gitlab/merge_request", body))
    load_object(body)
    return Ignored(f"GitLab event {quoted(event)} is not acted on")
