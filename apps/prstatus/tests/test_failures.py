"""A git host that cannot be reached, or answers 500, never fails a build: the job ends as it
would have, each try is recorded, and the problem shows on the previews page, without the token."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from apps.builds import jobs
from apps.builds.models import Job
from apps.gitops.tests.test_hook_views import Hello
from apps.prstatus.models import Call, PullRequest
from apps.prstatus.services import reporting_save
from apps.prstatus.tests.conftest import FakeHost
from apps.prstatus.tests.test_flow import GITHUB_TOKEN, build, open_github_pull_request
from console.models import AuditEvent


@pytest.fixture
def three_tries(settings: Any) -> None:
    settings.PR_STATUS_MAX_ATTEMPTS = 3


@pytest.mark.usefixtures("three_tries")
def test_an_unreachable_host_leaves_the_build_green_and_the_problem_visible(
    hello: Hello,
    client: Client,
    closed_port_url: str,
    django_capture_on_commit_callbacks: Any,
    viewer_client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = hello.app
    reporting_save(actor=None, app=app, provider="github", api_url=closed_port_url, repository="o/r", token=GITHUB_TOKEN)
    job = open_github_pull_request(hello, client)
    with caplog.at_level(logging.DEBUG):
        build(job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEED
    # Started: three tries of the status; succeeded: three more (each try stops at its first failure).
    assert list(Call.objects.values_list("action", "response_code")) == [("status", None)] * 6
    assert all("ConnectionRefusedError" in error for error in Call.objects.values_list("error", flat=True))
    report = PullRequest.objects.get(app=app, number=2)
    assert report.problem.startswith("GitHub: ConnectionRefusedError: [Errno 111] Connection refused")
    assert report.problem.endswith("(3 attempts)")
    assert not report.in_sync

    page = viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "Pull request status problems" in page
    assert "GitHub: ConnectionRefusedError: [Errno 111] Connection refused (3 attempts)" in page
    assert GITHUB_TOKEN not in page
    assert "not reported: GitHub: ConnectionRefusedError" in caplog.text
    assert GITHUB_TOKEN not in caplog.text
    assert GITHUB_TOKEN not in str(list(AuditEvent.objects.values()))


@pytest.mark.usefixtures("three_tries")
def test_a_host_answering_500_is_retried_then_shown_and_recovers_on_the_next_build(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any, viewer_client: Client
) -> None:
    app = hello.app
    reporting_save(actor=None, app=app, provider="github", api_url=fake_host.url, repository="o/r", token=GITHUB_TOKEN)
    fake_host.status = 500
    job = open_github_pull_request(hello, client)
    build(job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEED
    assert len(fake_host.calls) == 6
    assert set(Call.objects.values_list("response_code", "error")) == {(500, "HTTP 500: Server Error")}
    page = viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "GitHub: HTTP 500: Server Error (3 attempts)" in page
    assert GITHUB_TOKEN not in page

    # The host is back: the next build says everything again and the problem is gone.
    fake_host.status = None
    fake_host.calls.clear()
    preview = app.branches.get(name="pr-2")
    again = jobs.job_start(branch=preview, job_type=Job.Type.RETRY, triggered_by="pytest", commit_id=hello.changes)
    build(again, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    assert [call.method for call in fake_host.calls] == ["POST", "POST", "POST", "PATCH"]
    assert PullRequest.objects.get(number=2).problem == ""
    assert "Pull request status problems" not in viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()


def test_a_refused_call_is_not_retried(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    reporting_save(actor=None, app=hello.app, provider="github", api_url=fake_host.url, repository="o/r", token=GITHUB_TOKEN)
    fake_host.status = 401
    job = open_github_pull_request(hello, client)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PROVISIONING)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_set_running(job.pk)
    assert len(fake_host.calls) == 1
    assert PullRequest.objects.get(number=2).problem == "GitHub: HTTP 401: Server Error (1 attempt)"


def test_a_token_that_cannot_be_unsealed_is_shown_as_the_problem(
    hello: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    reporting_save(actor=None, app=hello.app, provider="github", api_url=fake_host.url, repository="o/r", token=GITHUB_TOKEN)
    settings.SECRET_KEY = "another-secret-key-" * 3
    build(open_github_pull_request(hello, client), Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    assert fake_host.calls == []
    assert "the saved token cannot be read (SECRET_KEY changed)" in PullRequest.objects.get(number=2).problem
