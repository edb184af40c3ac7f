"""Open → build started → build ended → closed, through the console's real entry points (the
git hosts' webhook deliveries and the job's status changes), against the local fake of each
git host: the exact calls, in order, with their fields and authentication."""

from __future__ import annotations

from typing import Any

from django.test import Client

from apps.builds import jobs
from apps.builds.models import Job
from apps.gitops.tests.test_hook_views import Hello, dumps, fixture_json, gitlab_merge_request, post_github, post_gitlab
from apps.prstatus.models import PullRequest
from apps.prstatus.services import reporting_save
from apps.prstatus.tests.conftest import GITHUB_COMMENT_ID, GITLAB_NOTE_ID, FakeHost, Recorded

GITHUB_TOKEN = "ghp_" + "T0k3n" * 7
GITLAB_TOKEN = "glpat-" + "s3cr3t" * 4


def open_github_pull_request(hello: Hello, client: Client) -> Job:
    payload = hello.retarget("pull_request.opened.payload.json", fixture_json("pull_request.opened.payload.json"))
    status, message, _ = post_github(client, hello.app, "pull_request", dumps(payload))
    assert (status, message) == (202, f"preview pr-2: build #1 at {hello.changes[:12]}")
    return hello.app.branches.get(name="pr-2").jobs.get()


def close_github_pull_request(hello: Hello, client: Client, capture: Any) -> None:
    payload = hello.retarget("pull_request.closed.payload.json", fixture_json("pull_request.closed.payload.json"))
    with capture(execute=True):  # the teardown runs here, then the report it queues
        status, message, _ = post_github(client, hello.app, "pull_request", dumps(payload))
    assert status == 202
    assert message.startswith("tearing down pr-2")
    assert not hello.app.branches.filter(name="pr-2").exists()


def build(job: Job, final: str, capture: Any) -> None:
    """What the runner does: the worker claims the job, it runs, it ends."""
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PROVISIONING)
    with capture(execute=True):
        assert jobs.job_set_running(job.pk)
    with capture(execute=True):
        assert jobs.job_finish(job.pk, final, reason="Command failed with exit code 1" if final == Job.Status.FAILED else "")


def job_page(job: Job) -> str:
    return f"http://localhost:8000/apps/{job.branch.app.app_id}/branches/{job.branch.display_name}/jobs/{job.job_id}/"


def assert_github_headers(call: Recorded) -> None:
    assert call.headers["Authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert call.headers["Accept"] == "application/vnd.github+json"
    assert call.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert call.headers["User-Agent"] == "amplify-console-prstatus"
    assert call.headers["Content-Type"] == "application/json"
    assert "PRIVATE-TOKEN" not in call.headers


def test_github_open_build_success_close(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.CONSOLE_URL = "http://localhost:8000"
    app = hello.app
    reporting_save(
        actor=None, app=app, provider="github", api_url=fake_host.url, repository="octo-org/hello-world", token=GITHUB_TOKEN
    )
    job = open_github_pull_request(hello, client)
    assert fake_host.calls == []  # nothing to say until the build starts
    preview_url = job.branch.url
    assert preview_url.startswith("http://pr-2.")

    build(job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    close_github_pull_request(hello, client, django_capture_on_commit_callbacks)

    repo, sha = "/repos/octo-org/hello-world", hello.changes
    assert fake_host.shapes() == [
        ("POST", f"{repo}/statuses/{sha}"),
        ("POST", f"{repo}/issues/2/comments"),
        ("POST", f"{repo}/statuses/{sha}"),
        ("PATCH", f"{repo}/issues/comments/{GITHUB_COMMENT_ID}"),
        ("PATCH", f"{repo}/issues/comments/{GITHUB_COMMENT_ID}"),
    ]
    for call in fake_host.calls:
        assert_github_headers(call)
    pending, opened, success, updated, closed = (call.body for call in fake_host.calls)
    assert pending == {
        "state": "pending",
        "target_url": job_page(job),
        "description": "Build #1 is running",
        "context": "amplify-console/pr-2",
    }
    assert success == {
        "state": "success",
        "target_url": job_page(job),
        "description": "Build #1 succeeded: preview deployed",
        "context": "amplify-console/pr-2",
    }
    assert set(opened) == set(updated) == set(closed) == {"body"}
    assert f"Build #1 of `{sha[:12]}`: **Building**" in opened["body"]
    assert f"Preview (updated when the build succeeds): {preview_url}" in opened["body"]
    assert f"[build log]({job_page(job)})" in opened["body"]
    assert "**Succeeded**" in updated["body"]
    assert f"Preview: {preview_url}" in updated["body"]
    assert "has been torn down" in closed["body"]
    assert "(pr-2)" in closed["body"]
    report = PullRequest.objects.get(app=app, number=2)
    assert (report.comment_id, report.problem, report.in_sync) == (str(GITHUB_COMMENT_ID), "", True)


def test_gitlab_open_build_success_close(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.CONSOLE_URL = "http://localhost:8000"
    app = hello.app
    reporting_save(
        actor=None,
        app=app,
        provider="gitlab",
        api_url=fake_host.url + "/api/v4",
        repository="codertocat/tools/hello-world",
        token=GITLAB_TOKEN,
    )
    assert post_gitlab(client, app, "Merge Request Hook", gitlab_merge_request(hello, "open"))[0] == 202
    job = app.branches.get(name="pr-4").jobs.get()
    assert fake_host.calls == []

    build(job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        status, message = post_gitlab(client, app, "Merge Request Hook", gitlab_merge_request(hello, "merge"))
    assert (status, message[:19]) == (202, "tearing down pr-4 (")

    project, sha = "/api/v4/projects/codertocat%2Ftools%2Fhello-world", hello.changes
    assert fake_host.shapes() == [
        ("POST", f"{project}/statuses/{sha}"),
        ("POST", f"{project}/merge_requests/4/notes"),
        ("POST", f"{project}/statuses/{sha}"),
        ("PUT", f"{project}/merge_requests/4/notes/{GITLAB_NOTE_ID}"),
        ("PUT", f"{project}/merge_requests/4/notes/{GITLAB_NOTE_ID}"),
    ]
    for call in fake_host.calls:
        assert call.headers["PRIVATE-TOKEN"] == GITLAB_TOKEN
        assert "Authorization" not in call.headers
        assert call.headers["Content-Type"] == "application/json"
    running, opened, success, updated, closed = (call.body for call in fake_host.calls)
    assert running == {
        "state": "running",
        "target_url": job_page(job),
        "description": "Build #1 is running",
        "name": "amplify-console/pr-4",
    }
    assert success["state"] == "success"
    assert (success["name"], success["target_url"]) == ("amplify-console/pr-4", job_page(job))
    assert "**Building**" in opened["body"]
    assert f"Preview: {job.branch.url}" in updated["body"]
    assert "has been torn down" in closed["body"]


def test_a_failed_build_is_reported_as_failure_on_github_and_failed_on_gitlab(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    app = hello.app
    reporting_save(actor=None, app=app, provider="github", api_url=fake_host.url, repository="octo/hello", token=GITHUB_TOKEN)
    build(open_github_pull_request(hello, client), Job.Status.FAILED, django_capture_on_commit_callbacks)
    github_final = fake_host.calls[2].body
    assert (github_final["state"], github_final["description"]) == ("failure", "Build #1 failed")
    assert "**Failed**" in fake_host.calls[3].body["body"]
    assert "The preview was not updated (Command failed with exit code 1)" in fake_host.calls[3].body["body"]

    fake_host.calls.clear()
    reporting_save(actor=None, app=app, provider="gitlab", api_url=fake_host.url, repository="42", token=GITLAB_TOKEN)
    assert post_gitlab(client, app, "Merge Request Hook", gitlab_merge_request(hello, "open"))[0] == 202
    build(app.branches.get(name="pr-4").jobs.get(), Job.Status.FAILED, django_capture_on_commit_callbacks)
    assert [(c.method, c.path, c.body.get("state")) for c in fake_host.calls] == [
        ("POST", f"/projects/42/statuses/{hello.changes}", "running"),
        ("POST", "/projects/42/merge_requests/4/notes", None),
        ("POST", f"/projects/42/statuses/{hello.changes}", "failed"),
        ("PUT", f"/projects/42/merge_requests/4/notes/{GITLAB_NOTE_ID}", None),
    ]


def test_a_comment_deleted_on_the_host_is_posted_again(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    reporting_save(actor=None, app=hello.app, provider="github", api_url=fake_host.url, repository="o/r", token=GITHUB_TOKEN)
    job = open_github_pull_request(hello, client)
    PullRequest.objects.create(app=hello.app, number=2, comment_id="999")  # a comment someone deleted since
    build(job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    assert fake_host.shapes()[:3] == [
        ("POST", f"/repos/o/r/statuses/{hello.changes}"),
        ("PATCH", "/repos/o/r/issues/comments/999"),  # 404 from the fake
        ("POST", "/repos/o/r/issues/2/comments"),
    ]
    assert fake_host.shapes()[-1] == ("PATCH", f"/repos/o/r/issues/comments/{GITHUB_COMMENT_ID}")
    assert PullRequest.objects.get(number=2).comment_id == str(GITHUB_COMMENT_ID)


def test_nothing_is_sent_without_reporting_or_for_branches_that_are_no_preview(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    build(open_github_pull_request(hello, client), Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    assert not PullRequest.objects.exists()
    reporting_save(actor=None, app=hello.app, provider="github", api_url=fake_host.url, repository="o/r", token=GITHUB_TOKEN)
    master = hello.app.branches.get(name="master")
    build(
        jobs.job_start(branch=master, job_type=Job.Type.MANUAL, triggered_by="pytest"),
        Job.Status.SUCCEED,
        django_capture_on_commit_callbacks,
    )
    assert fake_host.calls == []
    assert not PullRequest.objects.exists()
