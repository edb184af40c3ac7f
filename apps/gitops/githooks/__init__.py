"""Git host webhooks (GitHub, GitLab): from a raw request to verified, validated domain
events. The shared rules (sizes, payload validation, repository identity, the events) are
in common; each host's signature check and readers in its own module."""

from __future__ import annotations

from apps.gitops.githooks.common import (
    MAX_BODY_BYTES,
    BadSignature,
    BodyTooLarge,
    BranchCreated,
    BranchDeleted,
    BranchPushed,
    HookError,
    Ignored,
    MalformedPayload,
    Ping,
    PullRequest,
    Repo,
    check_size,
    same_repository,
)
from apps.gitops.githooks.github import parse_github, verify_github
from apps.gitops.githooks.gitlab import parse_gitlab, verify_gitlab

__all__ = [
    "MAX_BODY_BYTES",
    "BadSignature",
    "BodyTooLarge",
    "BranchCreated",
    "BranchDeleted",
    "BranchPushed",
    "HookError",
    "Ignored",
    "MalformedPayload",
    "Ping",
    "PullRequest",
    "Repo",
    "check_size",
    "parse_github",
    "parse_gitlab",
    "same_repository",
    "verify_github",
    "verify_gitlab",
]
