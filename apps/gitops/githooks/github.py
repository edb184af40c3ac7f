"""GitHub's webhooks: the signature check and the events read from its deliveries."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from apps.gitops.githooks.common import (
    BRANCH_PREFIX,
    BadSignature,
    BranchCreated,
    BranchDeleted,
    BranchPushed,
    GitHubEvent,
    Ignored,
    Ping,
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

_GITHUB_PR_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review", "converted_to_draft", "closed"})
_GITHUB_URL_FIELDS = ("clone_url", "ssh_url", "git_url", "html_url", "svn_url")
_SIGNATURE_PREFIX = "sha256="
_GITHUB_MAX_COMMITS = 2048


def verify_github(secret: str, body: bytes, signature_header: str | None) -> None:
    """X-Hub-Signature-256 must be "sha256=" + the hex HMAC-SHA256 of the raw body."""
    require_secret(secret)
    if not signature_header:
        raise BadSignature("the X-Hub-Signature-256 header is missing")
    if not signature_header.startswith(_SIGNATURE_PREFIX):
        raise BadSignature("the X-Hub-Signature-256 header must start with sha256=")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    given = signature_header.removeprefix(_SIGNATURE_PREFIX).strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise BadSignature("the X-Hub-Signature-256 signature does not match the body")


# --- GitHub -------------------------------------------------------------------------------


def _github_repo(payload: Mapping[str, Any]) -> Repo:
    return repo_from(payload.get("repository"), fields=_GITHUB_URL_FIELDS)


def _github_ping(payload: dict[str, Any]) -> Ping:
    return Ping(repo=_github_repo(payload))


def _github_push(payload: dict[str, Any]) -> BranchPushed | BranchDeleted | Ignored:
    repo = _github_repo(payload)
    ref: str = payload["ref"]
    if not ref.startswith(BRANCH_PREFIX) or ref == BRANCH_PREFIX:
        return Ignored(f"push to {quoted(ref)}, which is not a branch", repo)
    branch = ref.removeprefix(BRANCH_PREFIX)
    if payload["deleted"] or is_zero(payload["after"]):
        return BranchDeleted(branch=branch, repo=repo)
    head = payload["head_commit"]
    message = head["message"] if head else ""
    commits = payload.get("commits") or []
    # GitHub lists at most 2048 commits; a forced push's list is no diff from `before`.
    known = len(commits) < _GITHUB_MAX_COMMITS and not payload.get("forced", False)
    return BranchPushed(
        branch=branch,
        commit=payload["after"],
        message=message,
        created=payload["created"],
        repo=repo,
        before=payload.get("before", ""),
        files=pushed_files(commits) if known else None,
    )


def _github_ref(event: str, payload: dict[str, Any]) -> BranchCreated | BranchDeleted | Ignored:
    repo = _github_repo(payload)
    if payload["ref_type"] != "branch":
        return Ignored(f"{event} of a {quoted(payload['ref_type'])} ref, not a branch", repo)
    if event == "create":
        return BranchCreated(branch=payload["ref"], repo=repo)
    return BranchDeleted(branch=payload["ref"], repo=repo)


def _github_pull_request(payload: dict[str, Any]) -> PullRequest | Ignored:
    repo = _github_repo(payload)
    action: str = payload["action"]
    if action not in _GITHUB_PR_ACTIONS:
        return Ignored(f"pull_request action {quoted(action)} is not acted on", repo)
    pr = payload["pull_request"]
    head_repo = pr["head"]["repo"]
    return PullRequest(
        number=payload["number"],
        action=action,
        head_branch=pr["head"]["ref"],
        head_commit=pr["head"]["sha"],
        base_branch=pr["base"]["ref"],
        draft=bool(pr.get("draft", False)),
        # A deleted fork (null head repo) is still a fork: its code is not the base repository's.
        from_fork=head_repo is None or head_repo["full_name"] != pr["base"]["repo"]["full_name"],
        merged=bool(pr["merged"]),
        title=pr["title"],
        repo=repo,
    )


def parse_github(event: str, body: bytes) -> GitHubEvent:
    """The event for a verified GitHub delivery; `event` is the X-GitHub-Event header."""
    if event == "ping":
        return _github_ping(validated("github/ping", body))
    if event == "push":
        return _github_push(validated("github/push", body))
    if event in ("create", "delete"):
        return _github_ref(event, validated("github/ref", body))
    if event == "pull_request":
        return _github_pull_request(validated("github/pull_request", body))
    load_object(body)
    return Ignored(f"GitHub event {quoted(event)} is not acted on")
