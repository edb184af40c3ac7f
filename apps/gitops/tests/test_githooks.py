"""Git host webhooks: signatures, size limits, schemas, and real GitHub deliveries turned into events."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from apps.gitops.githooks import (
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
    parse_github,
    parse_gitlab,
    same_repository,
    verify_github,
    verify_gitlab,
)
from conftest import fixture_missing

# ../shared next to the repository root: fixtures are read there, never copied in.
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "github-webhooks"
SECRET = "It's a Secret to Everybody"
PR_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
PUSH_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
ZERO = "0" * 40
SHA_A = "a" * 40
SHA_B = "b" * 40
PR_TITLE = "Update the README with new information."
HELLO_WORLD = "https://github.com/Codertocat/Hello-World"


def fixture_body(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        fixture_missing(f"GitHub webhook fixture {name} is not available")
    return path.read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_body(name))


def event_of(name: str) -> str:
    """X-GitHub-Event for a fixture: the file name up to the first dot."""
    return name.split(".", 1)[0]


def dumps(payload: object) -> bytes:
    return json.dumps(payload).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fields(event: object) -> dict[str, Any]:
    """An event's fields without its repo, for comparing with a table row."""
    assert dataclasses.is_dataclass(event)
    values = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    values.pop("repo")
    return values


# --- the real GitHub deliveries -----------------------------------------------------------

PR = {
    "number": 2,
    "head_branch": "changes",
    "head_commit": PR_SHA,
    "base_branch": "master",
    "from_fork": False,
    "title": PR_TITLE,
}
ACTED = {"draft": False, "merged": False}
IGNORED_ACTIONS = (
    "assigned",
    "labeled",
    "locked",
    "review_request_removed",
    "review_requested",
    "unassigned",
    "unlabeled",
    "unlocked",
)
TAG_PUSH = {"reason": "push to 'refs/tags/simple-tag', which is not a branch"}
# The push's own list of changed files comes along (apps.gitops.gitsync judges path filters by it).
NEW_MASTER = {
    "branch": "master",
    "commit": PUSH_SHA,
    "message": "Initial commit",
    "created": True,
    "before": ZERO,
    "files": ("README.md",),
}

# file name -> (event class, its fields but repo). Every create/delete fixture is a tag, every
# pull_request one is #2 changes -> master in one repository, and none is merged.
GITHUB_FIXTURES: dict[str, tuple[type, dict[str, Any]]] = {
    **{
        f"create.{example}payload.json": (Ignored, {"reason": "create of a 'tag' ref, not a branch"})
        for example in ("", "with-description.", "with-installation.", "with-organization.")
    },
    **{
        f"delete.{example}payload.json": (Ignored, {"reason": "delete of a 'tag' ref, not a branch"})
        for example in ("", "with-installation.", "with-organization.")
    },
    **{f"ping.{example}payload.json": (Ping, {}) for example in ("", "with-app_id.", "with-organization.")},
    "pull_request.opened.payload.json": (PullRequest, {**PR, **ACTED, "action": "opened"}),
    "pull_request.opened.with-null-body.json": (PullRequest, {**PR, **ACTED, "action": "opened"}),
    "pull_request.opened.with-organization.payload.json": (PullRequest, {**PR, **ACTED, "action": "opened"}),
    "pull_request.reopened.payload.json": (PullRequest, {**PR, **ACTED, "action": "reopened"}),
    "pull_request.reopened.with-organization.payload.json": (PullRequest, {**PR, **ACTED, "action": "reopened"}),
    "pull_request.synchronize.payload.json": (PullRequest, {**PR, **ACTED, "action": "synchronize"}),
    "pull_request.closed.payload.json": (PullRequest, {**PR, **ACTED, "action": "closed"}),
    "pull_request.closed.with-organization.payload.json": (PullRequest, {**PR, **ACTED, "action": "closed"}),
    **{
        f"pull_request.ready_for_review.{example}payload.json": (PullRequest, {**PR, **ACTED, "action": "ready_for_review"})
        for example in ("", "with-installation.", "with-organization.")
    },
    **{
        f"pull_request.converted_to_draft.{example}payload.json": (
            PullRequest,
            {**PR, "draft": True, "merged": False, "action": "converted_to_draft"},
        )
        for example in ("", "with-installation.", "with-organization.")
    },
    **{
        f"pull_request.{action}.payload.json": (Ignored, {"reason": f"pull_request action '{action}' is not acted on"})
        for action in IGNORED_ACTIONS
    },
    **{
        f"pull_request.{action}.with-organization.payload.json": (
            Ignored,
            {"reason": f"pull_request action '{action}' is not acted on"},
        )
        for action in IGNORED_ACTIONS
        if not action.startswith("review_request")
    },
    "push.payload.json": (Ignored, TAG_PUSH),
    "push.1.payload.json": (Ignored, TAG_PUSH),
    "push.with-installation.payload.json": (Ignored, TAG_PUSH),
    "push.with-organization.payload.json": (Ignored, TAG_PUSH),
    "push.with-new-branch.payload.json": (BranchPushed, NEW_MASTER),
    "push.with-no-username-committer.payload.json": (BranchPushed, NEW_MASTER),
}


def test_the_table_covers_every_fixture() -> None:
    if not FIXTURES.is_dir():
        fixture_missing("the GitHub webhook fixtures are not available")
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(GITHUB_FIXTURES)


@pytest.mark.parametrize(("name", "expected"), GITHUB_FIXTURES.items(), ids=list(GITHUB_FIXTURES))
def test_github_fixture_parses_to_its_event(name: str, expected: tuple[type, dict[str, Any]]) -> None:
    body = fixture_body(name)
    verify_github(SECRET, body, sign(body))
    event = parse_github(event_of(name), body)
    kind, values = expected
    assert type(event) is kind
    assert fields(event) == values


@pytest.mark.parametrize("name", [n for n in GITHUB_FIXTURES if not n.startswith("ping.with-organization")])
def test_github_fixture_names_its_repository(name: str) -> None:
    event = parse_github(event_of(name), fixture_body(name))
    owner = "Octocoders" if name.startswith("ping") else "Codertocat"
    assert event.repo.urls == (
        f"https://github.com/{owner}/Hello-World.git",
        f"git@github.com:{owner}/Hello-World.git",
        f"git://github.com/{owner}/Hello-World.git",
        f"https://github.com/{owner}/Hello-World",
    )
    assert same_repository(f"ssh://git@GitHub.com/{owner}/Hello-World", event.repo)
    assert not same_repository(f"https://github.com/{owner}/Other", event.repo)


def test_an_organization_ping_names_no_repository() -> None:
    event = parse_github("ping", fixture_body("ping.with-organization.payload.json"))
    assert event == Ping(repo=Repo(()))
    assert not same_repository(HELLO_WORLD, event.repo)


@pytest.mark.parametrize(("name", "kind"), [("create.payload.json", BranchCreated), ("delete.payload.json", BranchDeleted)])
def test_github_create_and_delete_of_a_branch(name: str, kind: type) -> None:
    payload = fixture_json(name) | {"ref": "feature/login", "ref_type": "branch"}
    event = parse_github(event_of(name), dumps(payload))
    assert type(event) is kind
    assert fields(event) == {"branch": "feature/login"}
    assert same_repository(HELLO_WORLD, event.repo)


def test_github_push_to_an_existing_branch_with_a_slash() -> None:
    payload = fixture_json("push.with-new-branch.payload.json") | {"ref": "refs/heads/feature/login", "created": False}
    event = parse_github("push", dumps(payload))
    assert fields(event) == {**NEW_MASTER, "branch": "feature/login", "created": False}


def test_github_push_deleting_a_branch() -> None:
    payload = fixture_json("push.payload.json") | {"ref": "refs/heads/feature/login"}
    assert payload["deleted"] is True
    assert payload["head_commit"] is None
    event = parse_github("push", dumps(payload))
    assert isinstance(event, BranchDeleted)
    assert event.branch == "feature/login"


def test_github_merged_pull_request() -> None:
    payload = fixture_json("pull_request.closed.payload.json")
    payload["pull_request"]["merged"] = True
    event = parse_github("pull_request", dumps(payload))
    assert isinstance(event, PullRequest)
    assert (event.action, event.merged) == ("closed", True)


# --- GitHub semantics, on small payloads of the real shape ----------------------------------


def gh_repository(full_name: str = "Codertocat/Hello-World") -> dict[str, Any]:
    return {
        "full_name": full_name,
        "clone_url": f"https://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "git_url": f"git://github.com/{full_name}.git",
        "html_url": f"https://github.com/{full_name}",
        "svn_url": f"https://github.com/{full_name}",
        "url": f"https://api.github.com/repos/{full_name}",
    }


def gh_pull_request(action: str = "opened") -> dict[str, Any]:
    return {
        "action": action,
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "Add login",
            "draft": False,
            "merged": False,
            "head": {"ref": "feature/login", "sha": SHA_A, "repo": gh_repository()},
            "base": {"ref": "main", "sha": SHA_B, "repo": gh_repository()},
        },
        "repository": gh_repository(),
    }


def gh_push(ref: str = "refs/heads/main", before: str = SHA_A, after: str = SHA_B) -> dict[str, Any]:
    head = {"id": after, "message": "Fix the header"}
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": after == ZERO,
        "head_commit": None if after == ZERO else head,
        "commits": [] if after == ZERO else [head],
        "repository": gh_repository(),
    }


@pytest.mark.parametrize("action", ["opened", "reopened", "synchronize", "ready_for_review", "converted_to_draft", "closed"])
def test_github_pull_request_actions_we_act_on(action: str) -> None:
    event = parse_github("pull_request", dumps(gh_pull_request(action)))
    assert isinstance(event, PullRequest)
    assert fields(event) == {
        "number": 7,
        "action": action,
        "head_branch": "feature/login",
        "head_commit": SHA_A,
        "base_branch": "main",
        "draft": False,
        "from_fork": False,
        "merged": False,
        "title": "Add login",
    }


@pytest.mark.parametrize("action", ["edited", "auto_merge_enabled", "milestoned", "enqueued", "review_requested"])
def test_other_github_pull_request_actions_are_ignored(action: str) -> None:
    event = parse_github("pull_request", dumps(gh_pull_request(action)))
    assert isinstance(event, Ignored)
    assert repr(action) in event.reason


def test_a_pull_request_from_a_fork() -> None:
    payload = gh_pull_request()
    payload["pull_request"]["head"]["repo"] = gh_repository("someone/Hello-World")
    event = parse_github("pull_request", dumps(payload))
    assert isinstance(event, PullRequest)
    assert event.from_fork
    # The event's repo is the base repository, the one the app builds.
    assert same_repository(HELLO_WORLD, event.repo)


def test_a_pull_request_from_a_deleted_fork() -> None:
    payload = gh_pull_request("closed")
    payload["pull_request"]["head"]["repo"] = None
    event = parse_github("pull_request", dumps(payload))
    assert isinstance(event, PullRequest)
    assert event.from_fork


def test_draft_may_be_absent_and_merged_null() -> None:
    payload = gh_pull_request()
    del payload["pull_request"]["draft"]
    payload["pull_request"]["merged"] = None
    event = parse_github("pull_request", dumps(payload))
    assert isinstance(event, PullRequest)
    assert (event.draft, event.merged) == (False, False)


def test_github_push_events() -> None:
    # These commits list no files: the delivery does not say which changed (files None).
    assert fields(parse_github("push", dumps(gh_push()))) == {
        "branch": "main",
        "commit": SHA_B,
        "message": "Fix the header",
        "created": False,
        "before": SHA_A,
        "files": None,
    }
    assert fields(parse_github("push", dumps(gh_push(before=ZERO)))) == {
        "branch": "main",
        "commit": SHA_B,
        "message": "Fix the header",
        "created": True,
        "before": ZERO,
        "files": None,
    }
    assert fields(parse_github("push", dumps(gh_push("refs/heads/release/2.0", after=ZERO)))) == {"branch": "release/2.0"}


def test_github_push_with_a_null_head_commit_has_an_empty_message() -> None:
    payload = gh_push() | {"head_commit": None}
    event = parse_github("push", dumps(payload))
    assert isinstance(event, BranchPushed)
    assert event.message == ""


@pytest.mark.parametrize("ref", ["refs/tags/v1.0", "refs/notes/commits", "refs/pull/7/head", "refs/heads/"])
def test_github_push_to_something_not_a_branch_is_ignored(ref: str) -> None:
    event = parse_github("push", dumps(gh_push(ref)))
    assert isinstance(event, Ignored)
    assert "not a branch" in event.reason


def test_unknown_github_events_are_ignored() -> None:
    event = parse_github("issues", dumps({"action": "opened"}))
    assert event == Ignored("GitHub event 'issues' is not acted on")


# --- signatures, size ------------------------------------------------------------------------


BODY = dumps(gh_push())


def test_good_signature() -> None:
    verify_github(SECRET, BODY, sign(BODY))


def test_the_signature_is_checked_on_the_raw_body_before_any_parsing() -> None:
    not_json = b"\xff not even text"
    verify_github(SECRET, not_json, sign(not_json))
    with pytest.raises(BadSignature):
        verify_github(SECRET, not_json, sign(BODY))


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(sign(BODY, "another secret"), id="wrong-secret"),
        pytest.param(sign(BODY).replace("sha256=", "sha1="), id="wrong-prefix"),
        pytest.param(sign(BODY).removeprefix("sha256="), id="no-prefix"),
        pytest.param(sign(BODY)[:-8], id="truncated"),
        pytest.param(sign(BODY + b" "), id="other-body"),
        pytest.param("sha256=" + "é" * 64, id="not-ascii"),
    ],
)
def test_bad_signatures(header: str | None) -> None:
    with pytest.raises(BadSignature) as caught:
        verify_github(SECRET, BODY, header)
    assert caught.value.status == 401


def test_an_empty_secret_verifies_nothing() -> None:
    with pytest.raises(BadSignature, match="no webhook secret"):
        verify_github("", BODY, sign(BODY, ""))
    with pytest.raises(BadSignature, match="no webhook secret"):
        verify_gitlab("", "")


def test_gitlab_token() -> None:
    verify_gitlab(SECRET, SECRET)
    for token in (None, "", SECRET + "x", SECRET[:-1], "é"):
        with pytest.raises(BadSignature):
            verify_gitlab(SECRET, token)


def test_size_limit() -> None:
    check_size(b"x" * MAX_BODY_BYTES, str(MAX_BODY_BYTES))
    check_size(b"", None)
    check_size(b"{}", "not a number")  # left to the body's own length
    with pytest.raises(BodyTooLarge) as caught:
        check_size(b"x" * (MAX_BODY_BYTES + 1), None)
    assert caught.value.status == 413
    with pytest.raises(BodyTooLarge):
        check_size(b"", str(MAX_BODY_BYTES + 1))
    with pytest.raises(BodyTooLarge):
        parse_github("push", b" " * (MAX_BODY_BYTES + 1))


# --- malformed payloads ------------------------------------------------------------------------


def malformed(event: str, body: bytes) -> str:
    with pytest.raises(MalformedPayload) as caught:
        parse_github(event, body)
    assert caught.value.status == 400
    assert isinstance(caught.value, HookError)
    return str(caught.value)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not JSON"),
        (b"payload=%7B%7D", "application/json"),
        (b"[1, 2]", "must be a JSON object, not an array"),
        (b'"push"', "must be a JSON object, not a string"),
        (b'{"ref": NaN}', "NaN is not valid JSON"),
        (b'{"ref": Infinity}', "Infinity is not valid JSON"),
        (b'{"ref": "\xff"}', "not UTF-8"),
        (b'{"ref": "\\ud800"}', "lone surrogate"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_body_that_is_not_a_json_object(body: bytes, words: str) -> None:
    assert words in malformed("push", body)


def test_a_pull_request_without_a_number() -> None:
    payload = gh_pull_request()
    del payload["number"]
    assert "number: is required" in malformed("pull_request", dumps(payload))


def test_a_pull_request_number_as_a_string() -> None:
    payload = gh_pull_request() | {"number": "7"}
    assert "number: must be an integer, not a string" in malformed("pull_request", dumps(payload))


def test_errors_name_nested_fields_and_never_echo_values() -> None:
    payload = gh_pull_request()
    payload["pull_request"]["head"]["sha"] = "<script>alert(1)</script>"
    payload["pull_request"]["draft"] = "yes"
    del payload["pull_request"]["base"]["ref"]
    message = malformed("pull_request", dumps(payload))
    assert "pull_request.head.sha: must be a 40 (SHA-1) or 64 (SHA-256) character lowercase hex commit id" in message
    assert "pull_request.draft: must be true or false, not a string" in message
    assert "pull_request.base.ref: is required" in message
    assert "<script>" not in message


def test_ignored_actions_are_still_validated() -> None:
    payload = gh_pull_request("labeled")
    del payload["repository"]
    assert "repository: is required" in malformed("pull_request", dumps(payload))


@pytest.mark.parametrize(
    ("event", "change", "field"),
    [
        ("push", {"after": 5}, "after: must be a string, not a number"),
        ("push", {"created": "true"}, "created: must be true or false, not a string"),
        ("push", {"ref": "refs/heads/a\nb"}, "ref: must be a non-empty ref name"),
        ("push", {"repository": {"html_url": HELLO_WORLD}}, "repository.clone_url: is required"),
        ("push", {"head_commit": {"id": SHA_B}}, "head_commit.message: is required"),
        ("create", {"ref_type": None}, "ref_type: must be a string, not null"),
        ("pull_request", {"action": 1}, "action: must be a string, not a number"),
        ("pull_request", {"number": 0}, "number: must be at least 1"),
        ("pull_request", {"pull_request": None}, "pull_request: must be an object, not null"),
    ],
)
def test_each_field_we_read_is_typed(event: str, change: dict[str, Any], field: str) -> None:
    base = {"push": gh_push(), "create": {"ref": "x", "ref_type": "branch", "repository": gh_repository()}}
    payload = copy.deepcopy(base.get(event) or gh_pull_request()) | change
    assert field in malformed(event, dumps(payload))


def test_a_deleted_head_repository_must_be_null_not_something_else() -> None:
    payload = gh_pull_request()
    payload["pull_request"]["head"]["repo"] = {"name": "Hello-World"}
    assert "pull_request.head.repo: must be an object with a full_name string, or null" in malformed(
        "pull_request", dumps(payload)
    )


# --- same repository ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app_repository", "payload_url", "same"),
    [
        ("https://github.com/octo/shop", "https://github.com/octo/shop.git", True),
        ("https://github.com/octo/shop.git", "git@github.com:octo/shop.git", True),
        ("git@github.com:octo/shop.git", "ssh://git@github.com/octo/shop", True),
        ("ssh://git@github.com:22/octo/shop.git/", "https://github.com/octo/shop", True),
        ("https://GitHub.COM/octo/shop/", "git://github.com/octo/shop.git", True),
        ("https://token@github.com/octo/shop", "https://github.com/octo/shop", True),
        ("https://gitlab.example/group/sub/shop", "git@gitlab.example:group/sub/shop.git", True),
        ("https://github.com/octo/shop", "https://github.com/someone/shop", False),
        ("https://github.com/octo/shop", "https://github.com/octo/shop-web", False),
        ("https://github.com/octo/shop", "https://gitlab.com/octo/shop", False),
        ("https://github.com/octo/shop", "https://github.com/octo", False),
        ("https://github.com/octo/shop", "", False),
        ("", "", False),
        ("not a url", "not a url", False),
    ],
)
def test_same_repository(app_repository: str, payload_url: str, same: bool) -> None:
    assert same_repository(app_repository, Repo((payload_url,))) is same


def test_same_repository_for_local_paths(tmp_path: Path) -> None:
    repository = tmp_path / "shop"
    repository.mkdir()
    (tmp_path / "link").symlink_to(repository)
    assert same_repository(str(repository), Repo((f"file://{repository}",)))
    assert same_repository(f"{repository}/", Repo((str(tmp_path / "link"),)))
    assert same_repository(f"file://{repository}", Repo((str(tmp_path / "other" / ".." / "shop"),)))
    assert not same_repository(str(repository), Repo((str(tmp_path / "shop.git"),)))
    assert not same_repository(str(repository), Repo((f"https://github.com{repository}",)))


def test_any_url_form_of_the_payload_may_match() -> None:
    repo = Repo(("https://github.com/octo/other.git", "git@github.com:octo/shop.git"))
    assert same_repository("https://github.com/octo/shop", repo)
    assert not same_repository("https://github.com/octo/shop", Repo(()))


# --- GitLab (no recorded deliveries: payloads follow GitLab's documented examples) -------------

GITLAB_PROJECT = {
    "id": 15,
    "name": "Diaspora",
    "description": "",
    "web_url": "https://gitlab.example/mike/diaspora",
    "avatar_url": None,
    "git_ssh_url": "git@gitlab.example:mike/diaspora.git",
    "git_http_url": "https://gitlab.example/mike/diaspora.git",
    "namespace": "Mike",
    "visibility_level": 0,
    "path_with_namespace": "mike/diaspora",
    "default_branch": "main",
    "homepage": "https://gitlab.example/mike/diaspora",
    "url": "git@gitlab.example:mike/diaspora.git",
    "ssh_url": "git@gitlab.example:mike/diaspora.git",
    "http_url": "https://gitlab.example/mike/diaspora.git",
}
GITLAB_REPOSITORY = {
    "name": "Diaspora",
    "url": "git@gitlab.example:mike/diaspora.git",
    "description": "",
    "homepage": "https://gitlab.example/mike/diaspora",
    "git_http_url": "https://gitlab.example/mike/diaspora.git",
    "git_ssh_url": "git@gitlab.example:mike/diaspora.git",
    "visibility_level": 0,
}
GITLAB_USER = {"id": 1, "name": "Administrator", "username": "root", "email": "admin@example.com"}


def gitlab_commit(sha: str, message: str) -> dict[str, Any]:
    return {
        "id": sha,
        "message": message,
        "title": message.splitlines()[0] if message else "",
        "timestamp": "2024-05-01T10:00:00+02:00",
        "url": f"https://gitlab.example/mike/diaspora/-/commit/{sha}",
        "author": {"name": "Jordi Mallach", "email": "jordi@example.com"},
        "added": ["CHANGELOG"],
        "modified": ["app/controller/application.rb"],
        "removed": [],
    }


def gitlab_push(ref: str = "refs/heads/main", before: str = SHA_A, after: str = SHA_B) -> dict[str, Any]:
    commits = (
        [] if after == ZERO else [gitlab_commit(SHA_A, "Older commit"), gitlab_commit(after, "Fix the header\n\nLonger text")]
    )
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": before,
        "after": after,
        "ref": ref,
        "ref_protected": True,
        "checkout_sha": None if after == ZERO else after,
        "message": None,
        "user_id": 4,
        "user_name": "John Smith",
        "user_username": "jsmith",
        "user_email": "john@example.com",
        "user_avatar": None,
        "project_id": 15,
        "project": copy.deepcopy(GITLAB_PROJECT),
        "commits": commits,
        "total_commits_count": len(commits),
        "push_options": {},
        "repository": copy.deepcopy(GITLAB_REPOSITORY),
    }


def gitlab_mr(action: str = "open", **attributes: Any) -> dict[str, Any]:
    object_attributes = {
        "id": 99,
        "iid": 1,
        "target_branch": "main",
        "source_branch": "ms-viewport",
        "source_project_id": 15,
        "author_id": 51,
        "assignee_ids": [6],
        "title": "MS-Viewport",
        "created_at": "2024-05-01 17:23:34 UTC",
        "updated_at": "2024-05-01 17:23:34 UTC",
        "milestone_id": None,
        "state": "merged" if action == "merge" else ("closed" if action == "close" else "opened"),
        "blocking_discussions_resolved": True,
        "work_in_progress": False,
        "draft": False,
        "first_contribution": True,
        "merge_status": "unchecked",
        "target_project_id": 15,
        "description": "",
        "url": "https://gitlab.example/mike/diaspora/-/merge_requests/1",
        "source": copy.deepcopy(GITLAB_PROJECT),
        "target": copy.deepcopy(GITLAB_PROJECT),
        "last_commit": {
            "id": SHA_B,
            "message": "fixed readme",
            "title": "Update file README.md",
            "timestamp": "2024-05-01T23:36:29+02:00",
            "url": f"https://gitlab.example/mike/diaspora/-/commit/{SHA_B}",
            "author": {"name": "GitLab dev user", "email": "gitlabdev@example.com"},
        },
        "labels": [],
        "action": action,
        "detailed_merge_status": "mergeable",
    }
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": GITLAB_USER,
        "project": copy.deepcopy(GITLAB_PROJECT),
        "object_attributes": object_attributes | attributes,
        "labels": [],
        "changes": {},
        "repository": {
            "name": "Diaspora",
            "url": "git@gitlab.example:mike/diaspora.git",
            "description": "",
            "homepage": "https://gitlab.example/mike/diaspora",
        },
    }


MR = {"number": 1, "head_branch": "ms-viewport", "head_commit": SHA_B, "base_branch": "main", "title": "MS-Viewport"}


def test_push_files_are_unknown_when_the_delivery_leaves_commits_out_or_was_forced() -> None:
    gitlab = gitlab_push() | {"total_commits_count": 25}  # GitLab lists 20 at most
    assert isinstance(event := parse_gitlab("Push Hook", dumps(gitlab)), BranchPushed)
    assert event.files is None
    github = fixture_json("push.with-new-branch.payload.json") | {"forced": True}
    assert isinstance(forced := parse_github("push", dumps(github)), BranchPushed)
    assert forced.files is None


def test_push_files_that_are_not_strings_are_refused() -> None:
    github = fixture_json("push.with-new-branch.payload.json")
    github["commits"][0]["added"] = [{"path": "x"}]
    with pytest.raises(MalformedPayload):
        parse_github("push", dumps(github))


def test_gitlab_push() -> None:
    event = parse_gitlab("Push Hook", dumps(gitlab_push()))
    assert fields(event) == {
        "branch": "main",
        "commit": SHA_B,
        "message": "Fix the header\n\nLonger text",
        "created": False,
        "before": SHA_A,
        "files": ("CHANGELOG", "app/controller/application.rb"),
    }
    assert event.repo.urls == (
        "https://gitlab.example/mike/diaspora.git",
        "git@gitlab.example:mike/diaspora.git",
        "https://gitlab.example/mike/diaspora",
    )
    assert same_repository("https://GITLAB.example/mike/diaspora", event.repo)


def test_gitlab_push_creating_a_branch() -> None:
    event = parse_gitlab("Push Hook", dumps(gitlab_push("refs/heads/feature/a", before=ZERO)))
    assert isinstance(event, BranchPushed)
    assert (event.branch, event.created) == ("feature/a", True)


def test_gitlab_push_whose_head_commit_is_not_listed() -> None:
    payload = gitlab_push()
    payload["commits"] = payload["commits"][:1]  # GitLab lists at most 20
    event = parse_gitlab("Push Hook", dumps(payload))
    assert isinstance(event, BranchPushed)
    assert (event.commit, event.message) == (SHA_B, "")


def test_gitlab_push_deleting_a_branch() -> None:
    event = parse_gitlab("Push Hook", dumps(gitlab_push("refs/heads/feature/a", after=ZERO)))
    assert isinstance(event, BranchDeleted)
    assert event.branch == "feature/a"


@pytest.mark.parametrize(
    ("event", "payload"), [("Push Hook", gitlab_push("refs/tags/v1.0")), ("Tag Push Hook", gitlab_push("refs/tags/v1.0"))]
)
def test_gitlab_tags_are_ignored(event: str, payload: dict[str, Any]) -> None:
    assert isinstance(parse_gitlab(event, dumps(payload)), Ignored)


@pytest.mark.parametrize(
    ("action", "attributes", "expected"),
    [
        ("open", {}, {"action": "opened", "merged": False}),
        ("reopen", {}, {"action": "reopened", "merged": False}),
        ("update", {"oldrev": SHA_A}, {"action": "synchronize", "merged": False}),
        ("close", {}, {"action": "closed", "merged": False}),
        ("merge", {}, {"action": "closed", "merged": True}),
    ],
)
def test_gitlab_merge_requests(action: str, attributes: dict[str, Any], expected: dict[str, Any]) -> None:
    event = parse_gitlab("Merge Request Hook", dumps(gitlab_mr(action, **attributes)))
    assert fields(event) == {**MR, **expected, "draft": False, "from_fork": False}
    assert same_repository("git@gitlab.example:mike/diaspora.git", event.repo)


@pytest.mark.parametrize("action", ["update", "approved", "unapproved", "approval", "unapproval"])
def test_gitlab_merge_request_actions_without_new_code_are_ignored(action: str) -> None:
    event = parse_gitlab("Merge Request Hook", dumps(gitlab_mr(action)))
    assert isinstance(event, Ignored)
    assert repr(action) in event.reason


@pytest.mark.parametrize("attributes", [{"draft": True}, {"draft": True, "work_in_progress": True}])
def test_gitlab_draft_merge_request(attributes: dict[str, Any]) -> None:
    event = parse_gitlab("Merge Request Hook", dumps(gitlab_mr(**attributes)))
    assert isinstance(event, PullRequest)
    assert event.draft


def test_gitlab_draft_in_older_payloads_is_work_in_progress() -> None:
    payload = gitlab_mr(work_in_progress=True)
    del payload["object_attributes"]["draft"]
    event = parse_gitlab("Merge Request Hook", dumps(payload))
    assert isinstance(event, PullRequest)
    assert event.draft


@pytest.mark.parametrize("source_project_id", [42, None], ids=["fork", "deleted-fork"])
def test_gitlab_merge_request_from_a_fork(source_project_id: int | None) -> None:
    event = parse_gitlab("Merge Request Hook", dumps(gitlab_mr(source_project_id=source_project_id)))
    assert isinstance(event, PullRequest)
    assert event.from_fork


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"iid": "1"}, "object_attributes.iid: must be an integer, not a string"),
        ({"last_commit": {}}, "object_attributes.last_commit.id: is required"),
        ({"oldrev": "abc"}, "object_attributes.oldrev: must be a 40 (SHA-1)"),
        ({"source_branch": ""}, "object_attributes.source_branch: must be a non-empty ref name"),
    ],
)
def test_malformed_gitlab_merge_request(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedPayload, match=field.replace("(", r"\(").replace(")", r"\)")):
        parse_gitlab("Merge Request Hook", dumps(gitlab_mr("update", **change)))


def test_malformed_gitlab_push() -> None:
    payload = gitlab_push()
    del payload["project"]["git_http_url"]
    payload["commits"][1]["message"] = None
    with pytest.raises(MalformedPayload) as caught:
        parse_gitlab("Push Hook", dumps(payload))
    assert "project.git_http_url: is required" in str(caught.value)
    assert "commits[1].message: must be a string, not null" in str(caught.value)


def test_other_gitlab_events_are_ignored() -> None:
    assert parse_gitlab("Pipeline Hook", dumps({"object_kind": "pipeline"})) == Ignored(
        "GitLab event 'Pipeline Hook' is not acted on"
    )
    with pytest.raises(MalformedPayload):
        parse_gitlab("Pipeline Hook", b"[]")
