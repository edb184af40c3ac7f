"""Git integration end to end: a real Celery worker (sharing the test database), real git
repositories and a real moto server.

1. Auto-detection: branches pushed to git are found by the poll (a task run by the worker),
   the matching one is connected and built, and torn down once it is deleted in git.
2. Previews: a signed GitHub `pull_request` delivery opens a preview that the worker builds at
   the pull request's head; closing the pull request tears it down with its backend stack.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import subprocess
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job, LogChunk
from apps.gitops.models import GitDelivery, Teardown
from apps.gitops.tasks import poll_app
from conftest import fixture_missing
from console.amplify_names import branch_stack_name
from console.emulator import Emulator

pytestmark = pytest.mark.worker

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "github-webhooks"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x",
    "PATH": "/usr/bin:/bin",
}
SPEC = yaml.safe_dump(
    {
        "version": 1,
        "frontend": {
            "phases": {"build": {"commands": ['echo "branch=$AWS_BRANCH pr=$AWS_PULL_REQUEST_ID commit=$AWS_COMMIT_ID"']}}
        },
    },
    sort_keys=False,
    width=10_000,
)
STACK_TEMPLATE = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'


# --- helpers -------------------------------------------------------------------------------


def wait_for[T](predicate: Callable[[], T], timeout: float, message: str, output: deque[str] | None = None) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            tail = "".join(output or [])
            raise AssertionError(f"not within {timeout} s: {message}\n--- worker output\n{tail}")
        time.sleep(0.25)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=GIT_ENV).stdout.strip()


class Remote:
    """A working clone that pushes to the app's bare repository."""

    def __init__(self, bare: Path, work: Path) -> None:
        self.work = work
        subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True)

    def push_branch(self, name: str, base: str) -> str:
        git("checkout", "-q", "-B", name, f"origin/{base}", cwd=self.work)
        (self.work / f"{name.replace('/', '_')}.txt").write_text(f"work on {name}\n")
        git("add", "-A", cwd=self.work)
        git("commit", "-qm", f"work on {name}", cwd=self.work)
        git("push", "-q", "-f", "origin", f"{name}:{name}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def delete_branch(self, name: str) -> None:
        git("push", "-q", "origin", f":{name}", cwd=self.work)


def log_text(job: Job) -> str:
    return "".join(LogChunk.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def ended_job(branch_name: str, app: App, output: deque[str], timeout: float = 60) -> Job:
    def find() -> Job | None:
        return Job.objects.filter(branch__app=app, branch__name=branch_name, status__in=Job.ENDED).first()

    job = wait_for(find, timeout, f"a build of {branch_name} to end", output)
    assert job is not None
    assert job.status == Job.Status.SUCCEED, f"{job.status}: {job.status_reason}\n{log_text(job)}\n{''.join(output)}"
    return job


def ended_teardown(app: App, branch_name: str, output: deque[str], timeout: float = 60) -> Teardown:
    def find() -> Teardown | None:
        return app.teardowns.filter(
            branch_name=branch_name, status__in=(Teardown.Status.SUCCEEDED, Teardown.Status.FAILED)
        ).first()

    teardown = wait_for(find, timeout, f"the teardown of {branch_name} to end", output)
    assert teardown is not None
    assert teardown.status == Teardown.Status.SUCCEEDED, f"{teardown.error}\n{''.join(output)}"
    return teardown


def cloudformation(emulator: Emulator) -> Any:
    return boto3.client(
        "cloudformation",
        region_name=settings.AWS_REGION,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def stack_is_gone(client: Any, stack_name: str) -> bool:
    """DELETE_COMPLETE in the stack list, or no longer describable by name."""
    listed = [s["StackStatus"] for s in client.list_stacks()["StackSummaries"] if s["StackName"] == stack_name]
    if listed and set(listed) == {"DELETE_COMPLETE"}:
        return True
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        return "does not exist" in str(error)
    return all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fixture_json(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if not path.is_file():
        fixture_missing(f"GitHub webhook fixture {name} is not available at {FIXTURES}")
    document: dict[str, Any] = json.loads(path.read_bytes())
    return document


def deliver(app: App, event: str, payload: dict[str, Any]) -> tuple[int, str]:
    body = json.dumps(payload).encode()
    response = Client().post(
        f"/hooks/github/{app.app_id}",
        body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, app.git_webhook_secret),
        },
    )
    return response.status_code, response.json()["message"]


# --- 1. auto-detection through the poll, on the worker -------------------------------------------


def test_detected_branches_are_built_and_disconnected_when_deleted(
    live_worker: subprocess.Popen[str],
    worker_output: deque[str],
    emulator: Emulator,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    repo = make_repo(("main",), {"amplify.yml": SPEC})
    app = services.app_create(actor=None, name="Detect", repository=str(repo), production_branch="main")
    services.app_git_settings_update(
        actor=None,
        app=app,
        auto_detect_branches=True,
        auto_detect_patterns="feature/*, !feature/wip-*",
        auto_disconnect=True,
        delete_backend_on_disconnect=True,
    )
    remote = Remote(repo, tmp_path / "clone")
    sha = remote.push_branch("feature/a", "main")
    remote.push_branch("feature/wip-b", "main")
    remote.push_branch("other", "main")

    poll_app.delay(app.pk)

    job = ended_job("feature/a", app, worker_output)
    assert (job.job_type, job.commit_id, job.triggered_by) == ("RELEASE", sha, "auto-detected (poll)")
    assert f"branch=feature/a pr= commit={sha}" in log_text(job)
    assert set(app.branches.values_list("name", flat=True)) == {"main", "feature/a"}
    feature = app.branches.get(name="feature/a")
    assert (feature.display_name, feature.stage, feature.last_seen_commit) == ("feature-a", "DEVELOPMENT", sha)
    assert not Job.objects.filter(branch__name="main").exists(), "main was only seen for the first time"
    assert app.git_deliveries.get(provider="poll").outcome == "connected: feature/a"

    # The branch's backend, as its build would have deployed it.
    stack_name = branch_stack_name(app.app_id, "feature/a")
    aws = cloudformation(emulator)
    aws.create_stack(StackName=stack_name, TemplateBody=STACK_TEMPLATE)

    remote.delete_branch("feature/a")
    poll_app.delay(app.pk)

    teardown = ended_teardown(app, "feature/a", worker_output)
    assert (teardown.kind, teardown.stack_name, teardown.delete_stack, teardown.attempts) == (
        "DISCONNECT",
        stack_name,
        True,
        1,
    )
    assert set(app.branches.values_list("name", flat=True)) == {"main"}
    assert not Job.objects.filter(branch__app=app, branch__name="feature/a").exists()
    assert stack_is_gone(aws, stack_name)
    latest_poll = app.git_deliveries.filter(provider="poll").first()
    assert latest_poll is not None
    assert latest_poll.outcome == "disconnecting: feature/a"


# --- 2. a pull-request preview through the webhook, on the worker ---------------------------------


def test_a_pull_request_preview_is_built_and_torn_down_with_its_stack(
    live_worker: subprocess.Popen[str],
    worker_output: deque[str],
    emulator: Emulator,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    opened = fixture_json("pull_request.opened.payload.json")
    closed = fixture_json("pull_request.closed.payload.json")
    repo = make_repo(("master", "changes"), {"amplify.yml": SPEC})
    head = Remote(repo, tmp_path / "clone").push_branch("changes", "changes")  # the PR's head, ahead of master
    app = services.app_create(actor=None, name="Hello-World", repository=str(repo), production_branch="master")
    master = app.branches.get(name="master")
    services.branch_preview_settings_update(actor=None, branch=master, pr_previews_enabled=True, pr_shared_backend=None)

    def retarget(payload: dict[str, Any]) -> dict[str, Any]:
        payload = copy.deepcopy(payload)
        payload["repository"]["clone_url"] = str(repo)
        payload["pull_request"]["head"]["sha"] = head
        return payload

    assert deliver(app, "pull_request", retarget(opened)) == (202, f"preview pr-2: build #1 at {head[:12]}")

    job = ended_job("pr-2", app, worker_output)
    assert job.commit_id == head
    log = log_text(job)
    assert f"branch=pr-2 pr=2 commit={head}" in log, log
    preview = Branch.objects.get(app=app, name="pr-2")
    assert (preview.pull_request_number, preview.pr_source_branch, preview.pr_destination_branch) == (2, "changes", "master")

    # The preview's own backend stack, as its build would have deployed it.
    stack_name = branch_stack_name(app.app_id, "pr-2")
    aws = cloudformation(emulator)
    aws.create_stack(StackName=stack_name, TemplateBody=STACK_TEMPLATE)
    assert aws.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    status, message = deliver(app, "pull_request", retarget(closed))
    assert status == 202
    assert message.startswith("tearing down pr-2 (teardown "), message

    teardown = ended_teardown(app, "pr-2", worker_output)
    assert (teardown.kind, teardown.stack_name, teardown.delete_stack) == ("PREVIEW", stack_name, True)
    assert not Branch.objects.filter(app=app, name="pr-2").exists()
    assert not Job.objects.filter(pk=job.pk).exists()
    assert stack_is_gone(aws, stack_name)
    assert list(GitDelivery.objects.filter(app=app).order_by("id").values_list("event", "outcome")) == [
        ("pull_request", f"preview pr-2: build #1 at {head[:12]}"),
        ("pull_request", message),
    ]
