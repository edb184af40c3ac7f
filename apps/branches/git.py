"""Talking to git repositories: URL validation and `git ls-remote`.

Repository URLs come from users, so they are hostile until checked: only
https, ssh (URL or scp-like) and local paths / file URLs are accepted; git's
`ext::` and friends are refused both here and through GIT_ALLOW_PROTOCOL.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!/)[^\s]+$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class GitError(Exception):
    """A git command failed; the message is safe to show."""


class InvalidRepositoryUrl(ValueError):
    pass


@dataclass(frozen=True)
class RemoteBranch:
    name: str
    commit: str


def validate_repository_url(url: str) -> str:
    """Return the URL if it is an https, ssh, file or absolute-path repository."""
    url = url.strip()
    if not url:
        raise InvalidRepositoryUrl("Enter the repository URL.")
    if _CONTROL.search(url):
        raise InvalidRepositoryUrl("The repository URL may not contain spaces or control characters.")
    if url.startswith("-") or "::" in url:
        raise InvalidRepositoryUrl("That is not a repository URL.")
    if url.startswith("/"):
        return url
    if _SCP_LIKE.match(url):
        return url
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc and parts.path not in ("", "/"):
        return url
    if parts.scheme == "ssh" and parts.netloc and parts.path not in ("", "/"):
        return url
    if parts.scheme == "file" and parts.path.startswith("/") and parts.netloc in ("", "localhost"):
        return url
    if parts.scheme == "http":
        raise InvalidRepositoryUrl("Use https:// (plain http is not accepted).")
    raise InvalidRepositoryUrl("Use an https:// or ssh:// URL, git@host:owner/repo.git, a file:// URL or an absolute local path.")


_GIT_SETTINGS = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ALLOW_PROTOCOL": "https:ssh:file",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
}


def _git_env() -> dict[str, str]:
    return {**os.environ, **_GIT_SETTINGS}


def run_git(args: list[str], *, cwd: str | Path | None = None, timeout: int | None = None) -> str:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_git_env(),
            capture_output=True,
            text=True,
            timeout=timeout or settings.GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout or settings.GIT_TIMEOUT_SECONDS} s.") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        # git's own reason is on its "fatal:" line; hints follow it.
        detail = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")
        detail = detail.removeprefix("fatal: ").removeprefix("error: ") or f"exit code {result.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return result.stdout


def list_remote_branches(url: str, *, timeout: int | None = None) -> list[RemoteBranch]:
    """The repository's branches (name, head commit), sorted by name."""
    validate_repository_url(url)
    output = run_git(["ls-remote", "--heads", "--", url], timeout=timeout)
    branches = []
    for line in output.splitlines():
        commit, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            branches.append(RemoteBranch(name=ref.removeprefix("refs/heads/"), commit=commit))
    return sorted(branches, key=lambda branch: branch.name)


def remote_heads(url: str, *, timeout: int | None = None) -> dict[str, str]:
    """{branch: commit} of the repository: the poll's lean listing (no sorting, no objects)."""
    validate_repository_url(url)
    output = run_git(["ls-remote", "--heads", "--", url], timeout=timeout)
    heads = {}
    for line in output.splitlines():
        commit, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            heads[ref[11:]] = commit
    return heads


def is_valid_branch_name(name: str) -> bool:
    """git check-ref-format's rules, without running git."""
    if not name or name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")) or name == "@":
        return False
    if ".." in name or "//" in name or "@{" in name or "/." in name or name.startswith("."):
        return False
    return not re.search(r"[\x00-\x20\x7f~^:?*\[\\]", name)
