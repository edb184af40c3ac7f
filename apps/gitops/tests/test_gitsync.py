"""Detection, pushes, disconnection, previews and teardown, on real git repositories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.gitops import gitsync
from apps.gitops.models import Teardown
from apps.gitops.polling import poll_one
from apps.hosting.models import Deployment
from apps.secrets.paths import branch_path, shared_path
from console.amplify_names import branch_stack_name
from console.models import AuditEvent

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x",
    "PATH": "/usr/bin:/bin",
}


class Remote:
    """A working clone that pushes to the app's bare repository."""

    def __init__(self, bare: Path, work: Path) -> None:
        self.bare, self.work = bare, work
        subprocess.run(["git", "clone", "-q", "-b", "main", str(bare), str(work)], check=True, capture_output=True)

    def push_branch(self, name: str, text: str = "change") -> str:
        subprocess.run(["git", "checkout", "-q", "-B", name, "origin/main"], cwd=self.work, check=True, capture_output=True)
        (self.work / f"{name.replace('/', '_')}.txt").write_text(text)
        subprocess.run(["git", "add", "-A"], cwd=self.work, check=True)
        subprocess.run(["git", "commit", "-qm", f"work on {name}"], cwd=self.work, check=True, env=GIT_ENV)
        subprocess.run(["git", "push", "-q", "-f", "origin", f"{name}:{name}"], cwd=self.work, check=True, capture_output=True)
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=self.work, check=True, capture_output=True, text=True
        ).stdout.strip()

    def delete_branch(self, name: str) -> None:
        subprocess.run(["git", "push", "-q", "origin", f":{name}"], cwd=self.work, check=True, capture_output=True)


@pytest.fixture
def app(db: None, make_repo: Callable[..., Path]) -> App:
    repo = make_repo(("main",))
    app = services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    App.objects.filter(pk=app.pk).update(auto_detect_branches=True, auto_detect_patterns="feature/*, dev, !feature/wip-*")
    app.refresh_from_db()
    return app


@pytest.fixture
def remote(app: App, tmp_path: Path) -> Remote:
    return Remote(Path(app.repository), tmp_path / "clone")


def test_matching_branches_are_connected_and_built_others_are_not(app: App, remote: Remote) -> None:
    sha = remote.push_branch("feature/login")
    remote.push_branch("feature/wip-spike")
    remote.push_branch("feature/a/b")
    remote.push_branch("hotfix")
    remote.push_branch("dev")
    result_text = poll_one(app.pk)
    names = set(app.branches.values_list("name", flat=True))
    assert names == {"main", "feature/login", "dev"}
    login = app.branches.get(name="feature/login")
    assert (login.display_name, login.stage, login.last_seen_commit) == ("feature-login", "DEVELOPMENT", sha)
    job = login.jobs.get()
    assert (job.job_type, job.commit_id) == ("RELEASE", sha)
    assert "connected: dev, feature/login" in result_text
    assert app.git_deliveries.get(provider="poll").outcome.startswith("connected")


def test_a_push_seen_by_the_poll_and_a_webhook_starts_one_job(app: App, remote: Remote) -> None:
    remote.push_branch("dev")
    poll_one(app.pk)
    dev = app.branches.get(name="dev")
    assert dev.jobs.count() == 1
    sha = remote.push_branch("dev", "second change")
    outcome = gitsync.branch_pushed(app, "dev", sha, "second change", source="github")
    assert outcome.startswith("build #2 of dev")
    poll_one(app.pk)
    assert gitsync.branch_pushed(app, "dev", sha, "second change", source="gitlab") == f"{sha[:12]} of dev already seen"
    assert list(dev.jobs.order_by("job_id").values_list("commit_id", flat=True))[1:] == [sha]
    assert dev.jobs.get(job_id=2).commit_message == "second change"


def test_a_branch_connected_by_hand_is_built_on_its_next_push(app: App, remote: Remote) -> None:
    main = app.branches.get(name="main")
    poll_one(app.pk)  # first sighting: remembered, not built
    assert not main.jobs.exists()
    sha = remote.push_branch("main")
    poll_one(app.pk)
    assert main.jobs.get().commit_id == sha


def test_auto_build_off_records_the_push_without_building(app: App, remote: Remote) -> None:
    remote.push_branch("dev")
    poll_one(app.pk)
    Branch.objects.filter(app=app, name="dev").update(enable_auto_build=False)
    sha = remote.push_branch("dev", "more")
    assert gitsync.branch_pushed(app, "dev", sha, "", source="poll") == f"dev moved to {sha[:12]}; auto-build is off"
    assert app.branches.get(name="dev").jobs.count() == 1


def test_detection_off_connects_nothing(app: App, remote: Remote) -> None:
    App.objects.filter(pk=app.pk).update(auto_detect_branches=False)
    remote.push_branch("feature/x")
    poll_one(app.pk)
    assert list(app.branches.values_list("name", flat=True)) == ["main"]


def test_a_branch_deleted_in_git_is_disconnected_with_its_jobs_and_files(
    app: App, remote: Remote, django_capture_on_commit_callbacks: Any
) -> None:
    App.objects.filter(pk=app.pk).update(auto_disconnect=True)
    app.refresh_from_db()
    remote.push_branch("feature/gone")
    poll_one(app.pk)
    branch = app.branches.get(name="feature/gone")
    job = branch.jobs.get()
    Deployment.objects.create(branch=branch, job=job)
    remote.delete_branch("feature/gone")
    with django_capture_on_commit_callbacks(execute=True):
        poll_one(app.pk)
    assert not app.branches.filter(name="feature/gone").exists()
    teardown = app.teardowns.get()
    assert (teardown.kind, teardown.status, teardown.delete_stack) == ("DISCONNECT", "SUCCEEDED", False)
    assert not Deployment.objects.exists()


def test_an_empty_listing_disconnects_nothing(app: App) -> None:
    App.objects.filter(pk=app.pk).update(auto_disconnect=True)
    app.refresh_from_db()
    assert gitsync.sync_app(app, {}).disconnected == []
    assert app.branches.filter(name="main").exists()


# --- previews --------------------------------------------------------------------------


@pytest.fixture
def previews_on(app: App) -> App:
    Branch.objects.filter(app=app, name="main").update(pr_previews_enabled=True)
    return app


def test_a_pull_request_opens_a_preview_built_at_its_head(previews_on: App, remote: Remote) -> None:
    sha = remote.push_branch("feature/checkout")
    outcome = gitsync.preview_open(
        previews_on,
        number=7,
        head_branch="feature/checkout",
        head_commit=sha,
        base_branch="main",
        title="Checkout",
        source="github",
    )
    preview = previews_on.branches.get(name="pr-7")
    assert outcome == f"preview pr-7: build #1 at {sha[:12]}"
    assert (preview.stage, preview.pull_request_number, preview.pr_source_branch, preview.pr_destination_branch) == (
        "PULL_REQUEST",
        7,
        "feature/checkout",
        "main",
    )
    assert preview.url.startswith(f"http://pr-7.{previews_on.app_id}.")
    again = gitsync.preview_open(
        previews_on,
        number=7,
        head_branch="feature/checkout",
        head_commit=sha,
        base_branch="main",
        title="Checkout",
        source="poll",
    )
    assert again == f"{sha[:12]} of pr-7 already built"


def test_a_preview_of_a_fork_s_pull_request_is_marked_and_stays_marked_on_later_pushes(previews_on: App, remote: Remote) -> None:
    first = remote.push_branch("feature/theirs")
    gitsync.preview_open(
        previews_on, number=8, head_branch="feature/theirs", head_commit=first, base_branch="main", title="t",
        source="github", from_fork=True,
    )  # fmt: skip
    assert previews_on.branches.get(name="pr-8").pr_from_fork
    second = remote.push_branch("feature/theirs", text="more")
    outcome = gitsync.preview_open(
        previews_on, number=8, head_branch="feature/theirs", head_commit=second, base_branch="main", title="t",
        source="github", from_fork=True,
    )  # fmt: skip
    assert outcome == f"preview pr-8: build #2 at {second[:12]}"
    preview = previews_on.branches.get(name="pr-8")
    assert preview.pr_from_fork
    assert preview.jobs.count() == 2


def test_a_preview_follows_the_latest_word_on_whether_its_pull_request_is_from_a_fork(previews_on: App, remote: Remote) -> None:
    # Created before the flag existed (or by a caller that did not pass it), then reported by the host.
    sha = remote.push_branch("feature/theirs")
    gitsync.preview_open(
        previews_on, number=9, head_branch="feature/theirs", head_commit=sha, base_branch="main", title="t", source="demo"
    )
    assert not previews_on.branches.get(name="pr-9").pr_from_fork
    gitsync.preview_open(
        previews_on, number=9, head_branch="feature/theirs", head_commit=sha, base_branch="main", title="t",
        source="github", from_fork=True,
    )  # fmt: skip
    assert previews_on.branches.get(name="pr-9").pr_from_fork


def test_previews_need_to_be_enabled_on_the_base_branch(app: App, remote: Remote) -> None:
    sha = remote.push_branch("feature/x")
    outcome = gitsync.preview_open(
        app, number=1, head_branch="feature/x", head_commit=sha, base_branch="main", title="", source="github"
    )
    assert outcome == "previews are not enabled for main"
    assert not app.branches.filter(pull_request_number__isnull=False).exists()


def test_a_preview_build_gets_the_pull_request_variables(
    previews_on: App, remote: Remote, django_capture_on_commit_callbacks: Any
) -> None:
    spec = (
        "version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n"
        '        - echo "pr=$AWS_PULL_REQUEST_ID src=$AWS_PULL_REQUEST_SOURCE_BRANCH dst=$AWS_PULL_REQUEST_DESTINATION_BRANCH"\n'
    )
    remote_file = remote.work / "amplify.yml"
    subprocess.run(["git", "checkout", "-q", "-B", "feature/pr", "origin/main"], cwd=remote.work, check=True)
    remote_file.write_text(spec)
    subprocess.run(["git", "add", "-A"], cwd=remote.work, check=True)
    subprocess.run(["git", "commit", "-qm", "spec"], cwd=remote.work, check=True, env=GIT_ENV)
    subprocess.run(["git", "push", "-q", "origin", "feature/pr"], cwd=remote.work, check=True, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=remote.work, capture_output=True, text=True, check=True).stdout.strip()
    with django_capture_on_commit_callbacks(execute=True):
        gitsync.preview_open(
            previews_on, number=12, head_branch="feature/pr", head_commit=sha, base_branch="main", title="t", source="github"
        )
    job = previews_on.branches.get(name="pr-12").jobs.get()
    assert job.status == Job.Status.SUCCEED
    assert job.commit_id == sha
    assert "pr=12 src=feature/pr dst=main" in "".join(job.log_chunks.values_list("text", flat=True))


@pytest.fixture
def preview_stack(previews_on: App, remote: Remote) -> tuple[App, str]:
    sha = remote.push_branch("feature/pay")
    gitsync.preview_open(
        previews_on, number=3, head_branch="feature/pay", head_commit=sha, base_branch="main", title="Pay", source="github"
    )
    stack_name = branch_stack_name(previews_on.app_id, "pr-3")
    assert stack_name.startswith(f"amplify-{previews_on.app_id}-pr3-branch-")
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=stack_name, TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'
    )
    return previews_on, stack_name


def test_closing_a_pull_request_tears_the_preview_down_completely(
    preview_stack: tuple[App, str], django_capture_on_commit_callbacks: Any
) -> None:
    app, stack_name = preview_stack
    ssm = boto3.client("ssm", region_name="us-east-1")
    preview_secret, kept = (
        branch_path(app.app_id, "pr-3", "STRIPE_KEY"),
        [
            shared_path(app.app_id, "STRIPE_KEY"),
            branch_path(app.app_id, "main", "STRIPE_KEY"),
            branch_path(app.app_id, "pr-30", "STRIPE_KEY"),  # another preview, whose name starts alike
        ],
    )
    for path in (preview_secret, *kept):
        ssm.put_parameter(Name=path, Value="v", Type="SecureString")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = gitsync.preview_close(app, number=3, source="github")
    assert outcome.startswith("tearing down pr-3")
    names = {p["Name"] for p in ssm.describe_parameters()["Parameters"]}
    assert preview_secret not in names
    assert set(kept) <= names
    assert AuditEvent.objects.filter(action="secret.remove", target=preview_secret).exists()
    teardown = app.teardowns.get()
    assert (teardown.status, teardown.stack_name, teardown.attempts) == ("SUCCEEDED", stack_name, 1)
    # A progress task like the others: every step counted, the end stamped.
    assert teardown.steps_done == ["jobs", "hosting", "stack", "secrets", "branch"]
    assert (teardown.done, teardown.total, teardown.error) == (5, 5, "")
    assert teardown.finished_at is not None
    assert not app.branches.filter(name="pr-3").exists()
    stacks = boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == stack_name] == ["DELETE_COMPLETE"]
    assert gitsync.preview_close(app, number=3, source="github") == "no preview for pull request #3"


def test_a_failed_stack_deletion_stays_visible_and_can_be_retried(
    preview_stack: tuple[App, str], django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch, admin_client: Any
) -> None:
    from apps.gitops import teardown as teardown_module
    from console.cloudformation import Stack

    app, stack_name = preview_stack
    failed = Stack(
        stack_id=stack_name, name=stack_name, stack_status="DELETE_FAILED", status_reason="", created=None, last_updated=None
    )
    monkeypatch.setattr(teardown_module, "describe_stack", lambda name: failed)
    monkeypatch.setattr(
        teardown_module, "stack_failure_reason", lambda name: "Bucket: The bucket you tried to delete is not empty"
    )
    with django_capture_on_commit_callbacks(execute=True):
        gitsync.preview_close(app, number=3, source="github")
    teardown = app.teardowns.get()
    assert teardown.status == Teardown.Status.FAILED
    assert teardown.error == f"CloudFormation could not delete {stack_name}: Bucket: The bucket you tried to delete is not empty"
    assert (teardown.steps_done, teardown.done, teardown.total) == (["jobs", "hosting"], 2, 5)
    assert teardown.can_retry
    assert AuditEvent.objects.filter(action="teardown.fail", outcome="failure", message__contains="not empty").exists()
    assert app.branches.filter(name="pr-3").exists()  # nothing silently dropped
    page = admin_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "The bucket you tried to delete is not empty" in page
    assert f"/apps/{app.app_id}/teardowns/{teardown.pk}/retry/" in page
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/apps/{app.app_id}/teardowns/{teardown.pk}/retry/")
    assert response.status_code == 302
    teardown.refresh_from_db()
    assert (teardown.status, teardown.attempts, teardown.error, teardown.done) == ("SUCCEEDED", 2, "", 5)
    assert not app.branches.filter(name="pr-3").exists()
    # Retrying what has succeeded is refused, and queues nothing.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        admin_client.post(f"/apps/{app.app_id}/teardowns/{teardown.pk}/retry/")
    assert queued == []


def test_a_preview_sharing_a_backend_keeps_that_stack(
    previews_on: App, remote: Remote, django_capture_on_commit_callbacks: Any
) -> None:
    main = previews_on.branches.get(name="main")
    Branch.objects.filter(pk=main.pk).update(pr_shared_backend=main)
    sha = remote.push_branch("feature/shared")
    gitsync.preview_open(
        previews_on, number=5, head_branch="feature/shared", head_commit=sha, base_branch="main", title="", source="github"
    )
    with django_capture_on_commit_callbacks(execute=True):
        gitsync.preview_close(previews_on, number=5, source="github")
    assert previews_on.teardowns.get().delete_stack is False


def test_previews_page_lists_open_previews(previews_on: App, remote: Remote, viewer_client: Any) -> None:
    sha = remote.push_branch("feature/list")
    gitsync.preview_open(
        previews_on, number=9, head_branch="feature/list", head_commit=sha, base_branch="main", title="", source="github"
    )
    page = viewer_client.get(f"/apps/{previews_on.app_id}/previews/").content.decode()
    assert "#9: feature/list → main" in page
    assert "Not checked yet" in page


def test_a_teardown_records_each_step_it_finished(
    preview_stack: tuple[App, str], django_capture_on_commit_callbacks: Any
) -> None:
    app, _ = preview_stack
    with django_capture_on_commit_callbacks(execute=True):
        gitsync.preview_close(app, number=3, source="github")
    assert app.teardowns.get().steps_done == ["jobs", "hosting", "stack", "secrets", "branch"]


def test_a_teardown_whose_worker_died_is_failed_with_its_steps_and_can_be_retried(
    preview_stack: tuple[App, str], django_capture_on_commit_callbacks: Any, admin_client: Any, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.gitops.tasks import reap_stalled_teardowns

    app, _ = preview_stack
    settings.TASK_HEARTBEAT_TIMEOUT_SECONDS = 60
    silent = timezone.now() - timedelta(seconds=61)
    dead = Teardown.objects.create(app=app, kind=Teardown.Kind.PREVIEW, branch_name="pr-3", stack_name="x",
                                   status="RUNNING", steps_done=["jobs", "hosting"], heartbeat_at=silent, attempts=1)  # fmt: skip
    alive = Teardown.objects.create(app=app, kind=Teardown.Kind.PREVIEW, branch_name="pr-4", stack_name="y",
                                    status="RUNNING", heartbeat_at=timezone.now())  # fmt: skip

    assert reap_stalled_teardowns() == [dead.pk]

    dead.refresh_from_db()
    assert dead.status == Teardown.Status.FAILED
    assert dead.error == (
        "The worker running this task stopped (no heartbeat for 60 s) after builds stopped, hosted files removed. "
        "Retry runs every step again (each is safe to repeat)."
    )
    assert Teardown.objects.get(pk=alive.pk).status == Teardown.Status.RUNNING
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/apps/{app.app_id}/teardowns/{dead.pk}/retry/")
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("SUCCEEDED", 2)
    assert not app.branches.filter(name="pr-3").exists()
