"""Talking to git repositories: URL validation and `git ls-remote`.

Repository URLs come from users, so they are hostile until checked: only
https, ssh (URL or scp-like) and local paths / file URLs are accepted; git's
`ext::` and friends are refused both here and through GIT_ALLOW_PROTOCOL.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!/)[^\s]+$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class GitError(Exception):
    """A git command failed; the message is safe to show."""


class InvalidRepositoryUrl(ValueError):
    pass


@dataclass(frozen=True)
class GitCredentials:
    """A repository's user name and password (or token), kept apart from its URL."""

    username: str
    password: str = field(repr=False)


def split_credentials(url: str) -> tuple[str, GitCredentials | None]:
    """An https URL without its `user:token@` part, and that part. Other URLs come back as
    they are: an ssh user name (git@) is no secret, and ssh keys never sit in a URL."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or "@" not in parts.netloc:
        return url.strip(), None
    userinfo, _, host = parts.netloc.rpartition("@")
    username, password = (unquote(part) for part in userinfo.partition(":")[::2])
    if _CONTROL.search(username + password.replace(" ", "")):
        raise InvalidRepositoryUrl("The credentials in the repository URL may not contain control characters.")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, GitCredentials(username, password)


def mask_credentials(url: str) -> str:
    """The URL as it may be shown: credentials, if any, replaced by ***."""
    bare, credentials = split_credentials(url)
    if credentials is None:
        return bare
    parts = urlsplit(bare)
    return urlunsplit((parts.scheme, f"***@{parts.netloc}", parts.path, parts.query, parts.fragment))


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


# git asks this helper for the credentials; it reads them from git's environment, so they
# are on no command line (ps shows those to every user) and in no file.
_CREDENTIAL_HELPER = '!f() { echo "username=$CONSOLE_GIT_USERNAME"; echo "password=$CONSOLE_GIT_PASSWORD"; }; f'


def _git_env(credentials: GitCredentials | None) -> dict[str, str]:
    env = {**os.environ, **_GIT_SETTINGS}
    if credentials is not None:
        env["CONSOLE_GIT_USERNAME"], env["CONSOLE_GIT_PASSWORD"] = credentials.username, credentials.password
    return env


def run_git(
    args: list[str],
    *,
    cwd: str | Path | None = None,
    timeout: int | None = None,
    credentials: GitCredentials | None = None,
) -> str:
    # The empty helper first: git then asks ours alone, not a helper of the host's config.
    helper = ["-c", "credential.helper=", "-c", f"credential.helper={_CREDENTIAL_HELPER}"] if credentials else []
    command = args[0]
    try:
        result = subprocess.run(
            ["git", *helper, *args],
            cwd=cwd,
            env=_git_env(credentials),
            capture_output=True,
            text=True,
            timeout=timeout or settings.GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {command} timed out after {timeout or settings.GIT_TIMEOUT_SECONDS} s.") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        # git's own reason is on its "fatal:" line; hints follow it.
        detail = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")
        detail = detail.removeprefix("fatal: ").removeprefix("error: ") or f"exit code {result.returncode}"
        if credentials is not None and credentials.password:
            detail = detail.replace(credentials.password, "***")
        raise GitError(f"git {command} failed: {detail}")
    return result.stdout


def list_remote_branches(
    url: str, *, timeout: int | None = None, credentials: GitCredentials | None = None
) -> list[RemoteBranch]:
    """The repository's branches (name, head commit), sorted by name."""
    validate_repository_url(url)
    output = run_git(["ls-remote", "--heads", "--", url], timeout=timeout, credentials=credentials)
    branches = []
    for line in output.splitlines():
        commit, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            branches.append(RemoteBranch(name=ref.removeprefix("refs/heads/"), commit=commit))
    return sorted(branches, key=lambda branch: branch.name)


def remote_heads(url: str, *, timeout: int | None = None, credentials: GitCredentials | None = None) -> dict[str, str]:
    """{branch: commit} of the repository: the poll's lean listing (no sorting, no objects)."""
    validate_repository_url(url)
    output = run_git(["ls-remote", "--heads", "--", url], timeout=timeout, credentials=credentials)
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
