"""Repository URLs are validated before git sees them; ls-remote reads real repositories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from apps.branches.git import GitError, InvalidRepositoryUrl, is_valid_branch_name, list_remote_branches, validate_repository_url


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "ssh://git@gitlab.example.com:2222/acme/shop.git",
        "git@github.com:acme/shop.git",
        "file:///srv/git/shop.git",
        "/srv/git/shop.git",
    ],
)
def test_accepted_repository_urls(url: str) -> None:
    assert validate_repository_url(f"  {url} ") == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the repository URL"),
        ("http://github.com/acme/shop.git", "Use https://"),
        ("ext::sh -c touch% /tmp/pwned", "spaces or control characters"),
        ("ext::sh", "not a repository URL"),
        ("--upload-pack=touch /tmp/x", "spaces or control characters"),
        ("-oProxyCommand=x", "not a repository URL"),
        ("ftp://example.com/repo.git", "Use an https://"),
        ("relative/path", "Use an https://"),
        ("https://github.com", "Use an https://"),
        ("https://git hub.com/a", "spaces"),
    ],
)
def test_refused_repository_urls(url: str, message: str) -> None:
    with pytest.raises(InvalidRepositoryUrl, match=message):
        validate_repository_url(url)


def test_ls_remote_lists_branches_with_commits(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(("main", "dev", "feature/login"))
    branches = list_remote_branches(str(repo))
    assert [b.name for b in branches] == ["dev", "feature/login", "main"]
    assert all(len(b.commit) == 40 for b in branches)
    assert [b.name for b in list_remote_branches(f"file://{repo}")] == ["dev", "feature/login", "main"]


def test_ls_remote_of_a_missing_repository_explains_why(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"does not appear to be a git repository"):
        list_remote_branches(str(tmp_path / "nope.git"))


def test_empty_repository_has_no_branches(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "empty.git")], check=True)
    assert list_remote_branches(str(tmp_path / "empty.git")) == []


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("main", True),
        ("feature/login", True),
        ("fix#42", True),
        ("größe", True),
        ("", False),
        ("-x", False),
        ("a..b", False),
        ("a b", False),
        ("x.lock", False),
        ("a~1", False),
        ("a:b", False),
        ("/x", False),
    ],
)
def test_branch_name_rules_follow_git(name: str, valid: bool) -> None:
    assert is_valid_branch_name(name) is valid
