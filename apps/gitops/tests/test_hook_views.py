"""The git-host webhook endpoints, /hooks/github/<appId> and /hooks/gitlab/<appId>, end to end
in-process: every recorded GitHub delivery, signed and posted through the Django test client
against an app on a real local bare repository.

Builds are not run here: a job's build is queued on commit, which never happens inside a `db`
test. A closed pull request's teardown is run with `django_capture_on_commit_callbacks(execute=True)`,
which runs the queued task eagerly in this process (against the in-process AWS mock).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings
from django.test import Client

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.gitops import gitsync
from apps.gitops.githooks import MAX_BODY_BYTES
from apps.gitops.hook_views import PREVIEW_ACTIONS
from apps.gitops.models import GitDelivery, Teardown
from apps.gitops.tasks import branch_created
from conftest import fixture_missing
from console.amplify_names import branch_stack_name

# ../shared next to the repository root (/work/main -> /work/shared): read there, never copied in.
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "github-webhooks"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []
# The head the console last saw of `master` before the deliveries: anything but its real head.
OLD_SHA = "1" * 40
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x",
    "PATH": "/usr/bin:/bin",
}


# --- helpers -----------------------------------------------------------------------------------


def git_out(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=GIT_ENV).stdout.strip()


def head_of(bare: Path, branch: str) -> str:
    return git_out("rev-parse", f"refs/heads/{branch}", cwd=bare)


def commit_on(bare: Path, branch: str, work: Path, text: str) -> str:
    """Push one new commit to `branch` of the bare repository; its sha."""
    if not work.exists():
        subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True)
    git_out("checkout", "-q", "-B", branch, f"origin/{branch}", cwd=work)
    (work / f"{branch.replace('/', '_')}.txt").write_text(text)
    git_out("add", "-A", cwd=work)
    git_out("commit", "-qm", f"work on {branch}", cwd=work)
    git_out("push", "-q", "origin", f"{branch}:{branch}", cwd=work)
    git_out("fetch", "-q", "origin", cwd=work)
    return git_out("rev-parse", "HEAD", cwd=work)


def event_of(name: str) -> str:
    """X-GitHub-Event for a fixture: the file name up to the first dot."""
    return name.split(".", 1)[0]


def fixture_json(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if not path.is_file():
        fixture_missing(f"GitHub webhook fixture {name} is not available")
    document: dict[str, Any] = json.loads(path.read_bytes())
    return document


def dumps(payload: object) -> bytes:
    return json.dumps(payload).encode()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Hello:
    """The app every delivery is pointed at, and its repository's real heads."""

    app: App
    repo: Path
    master: str
    changes: str

    def retarget(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The delivery, pointed at this app's repository and at the repository's real commits."""
        payload = copy.deepcopy(payload)
        if isinstance(payload.get("repository"), dict):
            payload["repository"]["clone_url"] = str(self.repo)
        event = event_of(name)
        if event == "pull_request":
            payload["pull_request"]["head"]["sha"] = self.changes
        elif event == "push" and payload["ref"].startswith("refs/heads/") and not payload["deleted"]:
            payload["after"] = self.master
            if payload.get("head_commit"):
                payload["head_commit"]["id"] = self.master
        return payload


def post_github(
    client: Client,
    app: App,
    event: str,
    body: bytes,
    *,
    delivery: str | None = None,
    signature: str | None = "sign",
    **extra: Any,
) -> tuple[int, str, str]:
    """(status, message, delivery id) of a GitHub delivery; the body is signed with the app's secret by default."""
    delivery = delivery or str(uuid.uuid4())
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(body, app.git_webhook_secret)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    response = client.generic(
        "POST", f"/hooks/github/{app.app_id}", body, content_type="application/json", headers=headers, **extra
    )
    return response.status_code, response.json()["message"], delivery


def counts(app: App) -> dict[str, int]:
    return {
        "deliveries": GitDelivery.objects.filter(app=app).count(),
        "jobs": Job.objects.filter(branch__app=app).count(),
        "branches": app.branches.count(),
        "teardowns": app.teardowns.count(),
    }


def the_delivery(app: App, delivery: str) -> GitDelivery:
    return GitDelivery.objects.get(app=app, provider="github", delivery_id=delivery)


@pytest.fixture
def hello(db: None, make_repo: Callable[..., Path], tmp_path: Path) -> Hello:
    repo = make_repo(("master", "changes"))
    # `changes` one commit ahead of `master`, so a build at the wrong head shows.
    changes = commit_on(repo, "changes", tmp_path / "clone", "the pull request's change")
    app = services.app_create(actor=None, name="Hello-World", repository=str(repo), production_branch="master")
    services.app_git_settings_update(actor=None, app=app, auto_detect_branches=True, auto_detect_patterns="*")
    master = app.branches.get(name="master")
    services.branch_preview_settings_update(actor=None, branch=master, pr_previews_enabled=True, pr_shared_backend=None)
    # Seen before at another commit: a push to master is then a new commit, and is built.
    Branch.objects.filter(pk=master.pk).update(last_seen_commit=OLD_SHA)
    app.refresh_from_db()
    assert app.git_webhook_secret, "app_create sets a webhook secret"
    return Hello(app=app, repo=repo, master=head_of(repo, "master"), changes=changes)


@pytest.fixture
def client() -> Client:
    """Git hosts are not signed in."""
    return Client()


# --- every recorded GitHub delivery ---------------------------------------------------------


def kind_of(name: str, payload: dict[str, Any]) -> str:
    """What the console should do with a delivery, from the event and the payload alone."""
    event = event_of(name)
    if event == "ping":
        return "pong"
    if event in ("create", "delete"):
        return "ignored" if payload["ref_type"] != "branch" else f"branch {event}"
    if event == "push":
        if not payload["ref"].startswith("refs/heads/"):
            return "ignored"
        return "branch delete" if payload["deleted"] else "branch push"
    if event == "pull_request":
        action = payload["action"]
        if action == "closed":
            return "pr closed"
        if action in PREVIEW_ACTIONS:
            return "pr skipped" if payload["pull_request"].get("draft") else "pr preview"
        return "ignored"
    return "ignored"


def test_the_fixtures_are_there() -> None:
    if not FIXTURE_NAMES:
        fixture_missing(f"the GitHub webhook fixtures are not available at {FIXTURES}")
    kinds = {name: kind_of(name, fixture_json(name)) for name in FIXTURE_NAMES}
    # The facts the outcomes below rest on (see test_githooks.py).
    assert {n for n, k in kinds.items() if k == "branch push"} >= {
        "push.with-new-branch.payload.json",
        "push.with-no-username-committer.payload.json",
    }
    assert {k for n, k in kinds.items() if n.startswith(("create.", "delete."))} == {"ignored"}
    assert kinds["pull_request.opened.payload.json"] == "pr preview"
    assert kinds["pull_request.converted_to_draft.payload.json"] == "ignored"
    assert kinds["pull_request.closed.payload.json"] == "pr closed"


# With no fixtures, one case whose fixture_json() reports them missing (a failure under CI).
@pytest.mark.parametrize("name", FIXTURE_NAMES or ["(no GitHub webhook fixtures)"])
def test_every_github_delivery_has_its_outcome(
    name: str, hello: Hello, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    app = hello.app
    payload = hello.retarget(name, fixture_json(name))
    event, kind = event_of(name), kind_of(name, payload)
    body = dumps(payload)
    expected_deliveries = 1

    if kind == "pr closed":
        # A preview to close: the same pull request, opened (its build is queued, never run here).
        opened = post_github(client, app, event, dumps({**payload, "action": "opened"}))
        assert opened[:2] == (202, f"preview pr-{payload['number']}: build #1 at {hello.changes[:12]}")
        stack_name = branch_stack_name(app.app_id, f"pr-{payload['number']}")
        cloudformation = boto3.client("cloudformation", region_name=settings.AWS_REGION)
        cloudformation.create_stack(StackName=stack_name, TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}')
        expected_deliveries = 2
        with django_capture_on_commit_callbacks(execute=True):
            status, message, delivery = post_github(client, app, event, body)
    else:
        status, message, delivery = post_github(client, app, event, body)

    recorded = the_delivery(app, delivery)
    assert (recorded.event, recorded.outcome) == (event, message), "the delivery is recorded with what came of it"
    assert recorded.outcome != "received"
    assert GitDelivery.objects.filter(app=app).count() == expected_deliveries
    preview_name = f"pr-{payload.get('number')}"

    if kind == "pong":
        assert (status, message) == (200, "pong")
        assert not Job.objects.exists()
    elif kind == "ignored":
        assert status == 202
        assert message.startswith("ignored: "), message
        assert not Job.objects.exists()
        assert list(app.branches.values_list("name", flat=True)) == ["master"]
    elif kind == "branch push":
        branch_name = payload["ref"].removeprefix("refs/heads/")
        job = Job.objects.get()
        assert (job.branch.name, job.job_type, job.commit_id, job.status) == (branch_name, "RELEASE", hello.master, "PENDING")
        assert job.commit_message == payload["head_commit"]["message"]
        assert job.triggered_by == "push (github)"
        if branch_name == "master":
            assert (status, message) == (202, f"build #1 of master at {hello.master[:12]}")
        else:  # a new branch: auto-detection (pattern *) connects it
            assert (status, message) == (202, f"connected {branch_name}")
        assert app.branches.get(name=branch_name).last_seen_commit == hello.master
    elif kind == "pr preview":
        assert (status, message) == (202, f"preview {preview_name}: build #1 at {hello.changes[:12]}")
        preview = app.branches.get(name=preview_name)
        assert (preview.stage, preview.pull_request_number, preview.pr_source_branch, preview.pr_destination_branch) == (
            "PULL_REQUEST",
            payload["number"],
            payload["pull_request"]["head"]["ref"],
            payload["pull_request"]["base"]["ref"],
        )
        job = preview.jobs.get()
        assert (job.job_type, job.commit_id, job.status) == ("RELEASE", hello.changes, "PENDING")
        assert Job.objects.count() == 1
    elif kind == "pr closed":
        teardown = app.teardowns.get()
        assert (status, message) == (202, f"tearing down {preview_name} (teardown {teardown.pk})")
        assert (teardown.kind, teardown.status, teardown.branch_name, teardown.delete_stack) == (
            "PREVIEW",
            "SUCCEEDED",
            preview_name,
            True,
        )
        assert not app.branches.filter(name=preview_name).exists()
        assert not Job.objects.exists()  # the preview's queued build went with it
        stacks = cloudformation.list_stacks()["StackSummaries"]
        assert [s["StackStatus"] for s in stacks if s["StackName"] == stack_name] == ["DELETE_COMPLETE"]
    else:  # pragma: no cover - a new kind of fixture needs its expectation written here
        pytest.fail(f"no expectation for {name} ({kind})")

    # The same delivery again (GitHub's redelivery keeps its id): answered, nothing done.
    before = counts(app)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post_github(client, app, event, body, delivery=delivery)
    assert again[:2] == (200, "Already received: ignored.")
    assert counts(app) == before
    assert callbacks == []
    assert the_delivery(app, delivery).outcome == message


# --- what the fixtures do not cover ---------------------------------------------------------------


def test_a_webhook_push_to_a_branch_never_seen_builds(hello: Hello, client: Client) -> None:
    """A push delivery is a real new commit: unlike the poll's first sighting, it builds."""
    app = hello.app
    Branch.objects.filter(app=app, name="master").update(last_seen_commit="")
    payload = hello.retarget("push.with-new-branch.payload.json", fixture_json("push.with-new-branch.payload.json"))
    assert post_github(client, app, "push", dumps(payload))[:2] == (202, f"build #1 of master at {hello.master[:12]}")
    assert Job.objects.get().commit_id == hello.master
    assert app.branches.get(name="master").last_seen_commit == hello.master


def test_a_push_seen_twice_under_two_delivery_ids_builds_once(hello: Hello, client: Client) -> None:
    payload = hello.retarget("push.with-new-branch.payload.json", fixture_json("push.with-new-branch.payload.json"))
    assert post_github(client, hello.app, "push", dumps(payload))[0] == 202
    status, message, _ = post_github(client, hello.app, "push", dumps(payload))
    assert (status, message) == (202, f"{hello.master[:12]} of master already seen")
    assert Job.objects.count() == 1
    assert GitDelivery.objects.count() == 2


def test_a_branch_created_and_deleted_through_create_and_delete_events(
    hello: Hello, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    app = hello.app
    services.app_git_settings_update(actor=None, app=app, auto_disconnect=True)
    create = hello.retarget("create.payload.json", fixture_json("create.payload.json")) | {"ref": "changes", "ref_type": "branch"}
    # The event names no commit: a worker reads the head, the request never runs git.
    with django_capture_on_commit_callbacks() as queued:
        assert post_github(client, app, "create", dumps(create))[:2] == (
            202,
            "branch changes created; a worker reads its head commit",
        )
    assert not app.branches.filter(name="changes").exists()
    assert branch_created(app.pk, "changes", "github") == "connected changes"
    assert len(queued) == 1
    job = app.branches.get(name="changes").jobs.get()
    assert (job.commit_id, job.triggered_by) == (hello.changes, "auto-detected (github)")
    assert branch_created(app.pk, "not-in-git", "github") == "branch not-in-git created but not found in the repository"

    delete = hello.retarget("delete.payload.json", fixture_json("delete.payload.json")) | {"ref": "changes", "ref_type": "branch"}
    with django_capture_on_commit_callbacks(execute=True):
        status, message, _ = post_github(client, app, "delete", dumps(delete))
    teardown = app.teardowns.get()
    assert (status, message) == (202, f"disconnecting changes (teardown {teardown.pk})")
    assert (teardown.kind, teardown.status, teardown.delete_stack) == ("DISCONNECT", "SUCCEEDED", False)
    assert not app.branches.filter(name="changes").exists()


def test_a_branch_deleted_by_a_push_is_not_disconnected_unless_asked(hello: Hello, client: Client) -> None:
    payload = fixture_json("push.payload.json") | {"ref": "refs/heads/master"}
    payload["repository"]["clone_url"] = str(hello.repo)
    assert payload["deleted"] is True
    status, message, _ = post_github(client, hello.app, "push", dumps(payload))
    assert (status, message) == (202, "master was deleted in git; auto-disconnection is off")
    assert hello.app.branches.filter(name="master").exists()
    assert not hello.app.teardowns.exists()


def test_a_draft_pull_request_is_not_previewed(hello: Hello, client: Client) -> None:
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    payload["pull_request"]["draft"] = True
    status, message, _ = post_github(client, hello.app, "pull_request", dumps(payload))
    assert (status, message) == (202, "skipped: pull request #2 is a draft (drafts are not previewed)")
    assert not hello.app.branches.filter(name="pr-2").exists()


def test_a_pull_request_into_a_branch_without_previews_is_not_previewed(hello: Hello, client: Client) -> None:
    Branch.objects.filter(app=hello.app, name="master").update(pr_previews_enabled=False)
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    status, message, _ = post_github(client, hello.app, "pull_request", dumps(payload))
    assert (status, message) == (202, "previews are not enabled for master")
    assert not Job.objects.exists()


def test_a_synchronize_builds_the_preview_again_at_the_new_head(hello: Hello, client: Client) -> None:
    app = hello.app
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    post_github(client, app, "pull_request", dumps(payload))
    newer = commit_on(hello.repo, "changes", hello.repo.parent / "clone", "more")
    payload["action"] = "synchronize"
    payload["pull_request"]["head"]["sha"] = newer
    assert post_github(client, app, "pull_request", dumps(payload))[:2] == (202, f"preview pr-2: build #2 at {newer[:12]}")
    assert list(app.branches.get(name="pr-2").jobs.order_by("job_id").values_list("commit_id", flat=True)) == [
        hello.changes,
        newer,
    ]


def test_closing_a_pull_request_without_a_preview(hello: Hello, client: Client) -> None:
    payload = hello.retarget("pull_request.closed.payload.json", fixture_json("pull_request.closed.payload.json"))
    assert post_github(client, hello.app, "pull_request", dumps(payload))[:2] == (202, "no preview for pull request #2")
    assert not hello.app.teardowns.exists()


# --- refusals: nothing recorded, nothing started ------------------------------------------------


@pytest.fixture
def push_body(hello: Hello) -> bytes:
    return dumps(hello.retarget("push.with-new-branch.payload.json", fixture_json("push.with-new-branch.payload.json")))


@pytest.mark.parametrize(
    ("signature", "why"),
    [
        (None, "the X-Hub-Signature-256 header is missing"),
        ("", "the X-Hub-Signature-256 header is missing"),
        ("sha256=" + "0" * 64, "the X-Hub-Signature-256 signature does not match the body"),
        ("sha1=" + "0" * 40, "the X-Hub-Signature-256 header must start with sha256="),
        ("other-secret", "the X-Hub-Signature-256 signature does not match the body"),
        ("other-body", "the X-Hub-Signature-256 signature does not match the body"),
    ],
)
def test_a_bad_or_missing_signature_is_refused(
    hello: Hello, client: Client, push_body: bytes, signature: str | None, why: str
) -> None:
    if signature == "other-secret":
        signature = sign(push_body, "not the app's secret")
    elif signature == "other-body":
        signature = sign(push_body + b" ", hello.app.git_webhook_secret)
    before = counts(hello.app)
    status, message, _ = post_github(client, hello.app, "push", push_body, signature=signature)
    assert (status, message) == (401, why)
    assert counts(hello.app) == before
    assert not GitDelivery.objects.exists()
    assert not Job.objects.exists()


def test_an_unknown_app_is_404(hello: Hello, client: Client, push_body: bytes) -> None:
    response = client.post(
        "/hooks/github/dnosuchapp00000",
        push_body,
        content_type="application/json",
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(push_body, hello.app.git_webhook_secret)},
    )
    assert (response.status_code, response.json()) == (404, {"message": "No such app."})
    assert client.post("/hooks/gitlab/dnosuchapp00000", b"{}", content_type="application/json").status_code == 404
    assert not GitDelivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"ref": ', "malformed payload: the body is not JSON: Expecting value at line 1, column 9"),
        (b"payload=%7B%7D", "set the webhook's content type to application/json"),
        (b"[1, 2]", "malformed payload: the body must be a JSON object, not an array"),
        (b"\xff\xfe{}", "malformed payload: the body is not UTF-8 text"),
        (b'{"ref": NaN}', "malformed payload: NaN is not valid JSON"),
        (b'{"zen": "x"}', "malformed payload: after: is required"),
    ],
)
def test_a_malformed_but_signed_body_is_400_and_not_recorded(hello: Hello, client: Client, body: bytes, why: str) -> None:
    status, message, _ = post_github(client, hello.app, "push", body)
    assert status == 400
    assert why in message
    assert not GitDelivery.objects.exists()
    assert not Job.objects.exists()


def test_a_missing_event_header_is_400(hello: Hello, client: Client, push_body: bytes) -> None:
    status, message, _ = post_github(client, hello.app, "", push_body)
    assert (status, message) == (400, "The event header is missing.")
    assert not GitDelivery.objects.exists()


def test_an_event_not_acted_on_is_recorded_and_ignored(hello: Hello, client: Client) -> None:
    status, message, delivery = post_github(client, hello.app, "issues", b'{"action": "opened"}')
    assert (status, message) == (202, "ignored: GitHub event 'issues' is not acted on")
    assert the_delivery(hello.app, delivery).outcome == message


def padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    body = b'{"zen": ""}'
    return body[:-2] + b"x" * (size - len(body)) + body[-2:]


def test_a_body_over_256_kb_is_413(hello: Hello, client: Client) -> None:
    too_big = padded(MAX_BODY_BYTES + 1)
    assert len(too_big) == 256 * 1024 + 1
    status, message, _ = post_github(client, hello.app, "ping", too_big)
    assert status == 413
    assert message == f"the body may be at most {MAX_BODY_BYTES} bytes; Content-Length says {MAX_BODY_BYTES + 1}"
    # Declared too big (a small body behind it): refused before the body is read.
    small = b'{"zen": "x"}'
    status, message, _ = post_github(client, hello.app, "ping", small, CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert (status, message) == (413, f"the body may be at most {MAX_BODY_BYTES} bytes; Content-Length says {10 * 1024 * 1024}")
    assert not GitDelivery.objects.exists()
    # Exactly the limit is accepted.
    status, message, _ = post_github(client, hello.app, "ping", padded(MAX_BODY_BYTES))
    assert (status, message) == (200, "pong")


def test_a_body_over_256_kb_is_413_even_without_a_signature(hello: Hello, client: Client) -> None:
    # Size first: a huge unauthenticated body is refused before its HMAC is computed.
    status, _, _ = post_github(client, hello.app, "push", padded(MAX_BODY_BYTES + 1), signature=None)
    assert status == 413


def test_a_delivery_for_another_repository_is_recorded_and_ignored(hello: Hello, client: Client) -> None:
    for name in ("push.with-new-branch.payload.json", "pull_request.opened.payload.json"):
        payload = hello.retarget(name, fixture_json(name))
        payload["repository"]["clone_url"] = "https://github.com/Codertocat/Hello-World.git"  # unchanged
        status, message, delivery = post_github(client, hello.app, event_of(name), dumps(payload))
        assert status == 202
        assert message == f"ignored: the delivery is for https://github.com/Codertocat/Hello-World.git, not {hello.repo}"
        assert the_delivery(hello.app, delivery).outcome == message
    assert not Job.objects.exists()
    assert list(hello.app.branches.values_list("name", flat=True)) == ["master"]


def test_the_repository_may_be_named_by_a_file_url(hello: Hello, client: Client, push_body: bytes) -> None:
    payload = json.loads(push_body)
    payload["repository"]["clone_url"] = f"file://{hello.repo}"
    assert post_github(client, hello.app, "push", dumps(payload))[:2] == (202, f"build #1 of master at {hello.master[:12]}")


def test_an_app_without_a_secret_refuses_every_delivery(hello: Hello, client: Client, push_body: bytes) -> None:
    App.objects.filter(pk=hello.app.pk).update(git_webhook_secret="")
    empty_key_signature = sign(push_body, "")
    status, message, _ = post_github(client, hello.app, "push", push_body, signature=empty_key_signature)
    assert (status, message) == (401, "This app has no webhook secret; set one in its Git settings.")
    gitlab = client.post(
        f"/hooks/gitlab/{hello.app.app_id}", b"{}", content_type="application/json", headers={"X-Gitlab-Token": ""}
    )
    assert gitlab.status_code == 401
    assert not GitDelivery.objects.exists()


def test_a_rotated_secret_refuses_the_old_one(hello: Hello, client: Client, push_body: bytes) -> None:
    old = sign(push_body, hello.app.git_webhook_secret)
    services.app_rotate_webhook_secret(actor=None, app=hello.app)
    assert post_github(client, hello.app, "push", push_body, signature=old)[0] == 401
    assert post_github(client, hello.app, "push", push_body)[0] == 202


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_get_is_not_allowed(hello: Hello, client: Client, provider: str) -> None:
    assert client.get(f"/hooks/{provider}/{hello.app.app_id}").status_code == 405
    assert not GitDelivery.objects.exists()


# --- GitLab -----------------------------------------------------------------------------------------


def gitlab_project(repo: Path) -> dict[str, Any]:
    return {
        "id": 15,
        "name": "Hello-World",
        "web_url": "https://gitlab.example/codertocat/hello-world",
        "git_ssh_url": "git@gitlab.example:codertocat/hello-world.git",
        "git_http_url": str(repo),
        "path_with_namespace": "codertocat/hello-world",
        "default_branch": "master",
    }


def gitlab_push(hello: Hello, after: str) -> dict[str, Any]:
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": OLD_SHA,
        "after": after,
        "ref": "refs/heads/master",
        "checkout_sha": after,
        "user_username": "jsmith",
        "project_id": 15,
        "project": gitlab_project(hello.repo),
        "commits": [{"id": after, "message": "Fix the header", "title": "Fix the header"}],
        "total_commits_count": 1,
        "repository": {"name": "Hello-World", "homepage": "https://gitlab.example/codertocat/hello-world"},
    }


def gitlab_merge_request(hello: Hello, action: str) -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "project": gitlab_project(hello.repo),
        "object_attributes": {
            "iid": 4,
            "action": action,
            "title": "Change the README",
            "source_branch": "changes",
            "target_branch": "master",
            "source_project_id": 15,
            "target_project_id": 15,
            "draft": False,
            "work_in_progress": False,
            "state": "opened",
            "last_commit": {"id": hello.changes, "message": "work on changes"},
        },
    }


def post_gitlab(
    client: Client, app: App, event: str, payload: dict[str, Any], *, token: str | None = None, uuid_header: bool = True
) -> tuple[int, str]:
    headers = {"X-Gitlab-Event": event, "X-Gitlab-Token": app.git_webhook_secret if token is None else token}
    if uuid_header:
        headers["X-Gitlab-Event-UUID"] = str(uuid.uuid4())
    response = client.post(f"/hooks/gitlab/{app.app_id}", dumps(payload), content_type="application/json", headers=headers)
    return response.status_code, response.json()["message"]


def test_a_gitlab_push_with_the_right_token_builds(hello: Hello, client: Client) -> None:
    app = hello.app
    assert post_gitlab(client, app, "Push Hook", gitlab_push(hello, hello.master), token="wrong") == (
        401,
        "the X-Gitlab-Token header does not match",
    )
    assert post_gitlab(client, app, "Push Hook", gitlab_push(hello, hello.master), token="") == (
        401,
        "the X-Gitlab-Token header is missing",
    )
    assert not GitDelivery.objects.exists()
    assert post_gitlab(client, app, "Push Hook", gitlab_push(hello, hello.master)) == (
        202,
        f"build #1 of master at {hello.master[:12]}",
    )
    job = Job.objects.get()
    assert (job.branch.name, job.commit_id, job.commit_message, job.triggered_by) == (
        "master",
        hello.master,
        "Fix the header",
        "push (gitlab)",
    )
    delivery = GitDelivery.objects.get()
    assert (delivery.provider, delivery.event, delivery.outcome) == (
        "gitlab",
        "Push Hook",
        f"build #1 of master at {hello.master[:12]}",
    )


def test_a_gitlab_delivery_without_an_id_is_told_apart_by_its_body(hello: Hello, client: Client) -> None:
    payload = gitlab_push(hello, hello.master)
    assert post_gitlab(client, hello.app, "Push Hook", payload, uuid_header=False)[0] == 202
    assert post_gitlab(client, hello.app, "Push Hook", payload, uuid_header=False) == (200, "Already received: ignored.")
    assert GitDelivery.objects.get().delivery_id == hashlib.sha256(dumps(payload)).hexdigest()


def test_a_gitlab_merge_request_opens_and_closes_a_preview(
    hello: Hello, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    app = hello.app
    assert post_gitlab(client, app, "Merge Request Hook", gitlab_merge_request(hello, "open")) == (
        202,
        f"preview pr-4: build #1 at {hello.changes[:12]}",
    )
    preview = app.branches.get(name="pr-4")
    assert (preview.pull_request_number, preview.pr_source_branch, preview.pr_destination_branch) == (4, "changes", "master")
    assert preview.jobs.get().commit_id == hello.changes
    # An edit of the title (no oldrev) builds nothing.
    assert post_gitlab(client, app, "Merge Request Hook", gitlab_merge_request(hello, "update")) == (
        202,
        "ignored: merge request action 'update' without new commits is not acted on",
    )
    with django_capture_on_commit_callbacks(execute=True):
        status, message = post_gitlab(client, app, "Merge Request Hook", gitlab_merge_request(hello, "merge"))
    assert (status, message) == (202, f"tearing down pr-4 (teardown {app.teardowns.get().pk})")
    assert app.teardowns.get().status == Teardown.Status.SUCCEEDED
    assert not app.branches.filter(name="pr-4").exists()


def test_a_gitlab_delivery_for_another_project_is_ignored(hello: Hello, client: Client) -> None:
    payload = gitlab_push(hello, hello.master)
    payload["project"]["git_http_url"] = "https://gitlab.example/codertocat/hello-world.git"
    status, message = post_gitlab(client, hello.app, "Push Hook", payload)
    assert status == 202
    assert message.startswith("ignored: the delivery is for https://gitlab.example/codertocat/hello-world.git")
    assert not Job.objects.exists()


# --- the deliveries page ----------------------------------------------------------------------------


def test_deliveries_show_on_the_previews_page_for_a_viewer(hello: Hello, client: Client, viewer_client: Client) -> None:
    app = hello.app
    _, _, ping = post_github(client, app, "ping", dumps(hello.retarget("ping.payload.json", fixture_json("ping.payload.json"))))
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    _, opened_outcome, opened = post_github(client, app, "pull_request", dumps(payload))
    response = viewer_client.get(f"/apps/{app.app_id}/previews/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<code>ping</code>" in page
    assert "<code>pull_request</code>" in page
    assert "pong" in page
    assert opened_outcome in page
    assert ping[:20] in page
    assert opened[:20] in page
    assert "#2: changes → master" in page


# --- found while writing these tests: production bugs, kept visible -------------------------------


def test_a_pull_request_does_not_take_over_a_branch_named_like_its_preview(hello: Hello, client: Client) -> None:
    app = hello.app
    pr_branch_head = commit_on(hello.repo, "master", hello.repo.parent / "clone", "base")  # any commit
    subprocess.run(["git", "push", "-q", str(hello.repo), f"{pr_branch_head}:refs/heads/pr-2"], cwd=hello.repo, check=True)
    assert gitsync.branch_pushed(app, "pr-2", pr_branch_head, "", source="poll") == "connected pr-2"  # pattern *
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    status, message, _ = post_github(client, app, "pull_request", dumps(payload))
    regular = app.branches.get(name="pr-2")
    assert regular.pull_request_number is None
    assert list(regular.jobs.values_list("commit_id", flat=True)) == [pr_branch_head], "the git branch built at another head"
    assert (status, message) == (202, "not previewed: a connected branch is already named pr-2; rename or disconnect it")


def test_a_delivery_that_failed_can_be_redelivered(hello: Hello, push_body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(raise_request_exception=False)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("database went away")

    monkeypatch.setattr(gitsync, "branch_pushed", broken)
    delivery = str(uuid.uuid4())
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(push_body, hello.app.git_webhook_secret),
    }
    url = f"/hooks/github/{hello.app.app_id}"
    assert client.post(url, push_body, content_type="application/json", headers=headers).status_code == 500
    monkeypatch.undo()
    again = client.post(url, push_body, content_type="application/json", headers=headers)
    assert again.status_code == 202, again.json()
    assert Job.objects.filter(commit_id=hello.master).exists()


# --- pull requests from forks ------------------------------------------------------------------


def fork_pull_request(hello: Hello) -> dict[str, Any]:
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    payload["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"
    return payload


def test_a_fork_s_pull_request_is_not_previewed_while_fork_previews_are_off(hello: Hello, client: Client) -> None:
    assert hello.app.fork_previews == App.ForkPreviews.OFF  # the default
    before = counts(hello.app)
    status, message, _ = post_github(client, hello.app, "pull_request", dumps(fork_pull_request(hello)))
    assert (status, message) == (202, "skipped: pull request #2 comes from a fork (previews of forks are off)")
    assert counts(hello.app) == {**before, "deliveries": before["deliveries"] + 1}


@pytest.mark.parametrize("policy", [App.ForkPreviews.WITHOUT_SECRETS, App.ForkPreviews.WITH_SECRETS])
def test_a_fork_s_pull_request_is_previewed_and_marked_when_an_admin_allows_it(hello: Hello, client: Client, policy: str) -> None:
    App.objects.filter(pk=hello.app.pk).update(fork_previews=policy)
    status, message, _ = post_github(client, hello.app, "pull_request", dumps(fork_pull_request(hello)))
    assert (status, message) == (202, f"preview pr-2: build #1 at {hello.changes[:12]}")
    preview = hello.app.branches.get(name="pr-2")
    assert preview.pr_from_fork
    assert preview.jobs.count() == 1


def test_a_pull_request_from_the_app_s_own_repository_is_not_marked_as_a_fork(hello: Hello, client: Client) -> None:
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    post_github(client, hello.app, "pull_request", dumps(payload))
    assert not hello.app.branches.get(name="pr-2").pr_from_fork


def test_a_gitlab_merge_request_from_a_fork_follows_the_fork_policy(hello: Hello, client: Client) -> None:
    payload = gitlab_merge_request(hello, "open")
    payload["object_attributes"]["source_project_id"] = 99
    assert post_gitlab(client, hello.app, "Merge Request Hook", payload) == (
        202,
        "skipped: pull request #4 comes from a fork (previews of forks are off)",
    )
    assert not hello.app.branches.filter(name="pr-4").exists()
    App.objects.filter(pk=hello.app.pk).update(fork_previews=App.ForkPreviews.WITHOUT_SECRETS)
    assert post_gitlab(client, hello.app, "Merge Request Hook", payload)[0] == 202
    preview = hello.app.branches.get(name="pr-4")
    assert preview.pr_from_fork
    assert preview.jobs.count() == 1
