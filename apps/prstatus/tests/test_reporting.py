"""The worker's side: one report at a time (a lease), newer news supersedes older, messages
lost with a broker are queued again, a preview torn down mid-build ends its status as
cancelled; and the providers' request shapes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.builds import jobs
from apps.builds.models import Job
from apps.gitops.tests.test_hook_views import Hello
from apps.prstatus import providers
from apps.prstatus.models import Call, PullRequest
from apps.prstatus.reporting import overdue_reports, report_attempt
from apps.prstatus.services import reporting_save
from apps.prstatus.tasks import prune_calls, requeue_overdue_reports
from apps.prstatus.tests.conftest import FakeHost
from apps.prstatus.tests.test_flow import GITHUB_TOKEN, close_github_pull_request, open_github_pull_request


@pytest.fixture
def reported(hello: Hello, fake_host: FakeHost) -> Hello:
    reporting_save(actor=None, app=hello.app, provider="github", api_url=fake_host.url, repository="o/r", token=GITHUB_TOKEN)
    return hello


def start(job: Job, capture: Any, *, execute: bool = True) -> None:
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PROVISIONING)
    with capture(execute=execute):
        assert jobs.job_set_running(job.pk)


def test_a_report_held_by_another_worker_is_looked_at_again_after_its_lease(
    reported: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    start(open_github_pull_request(reported, client), django_capture_on_commit_callbacks, execute=False)
    report = PullRequest.objects.get(number=2)
    PullRequest.objects.filter(pk=report.pk).update(lease_until=timezone.now() + timedelta(seconds=60))
    assert report_attempt(report.pk) == pytest.approx(70.0)  # 4 x the 10 s timeout + 30 s
    assert fake_host.calls == []
    PullRequest.objects.filter(pk=report.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert report_attempt(report.pk) is None
    assert len(fake_host.calls) == 2
    assert PullRequest.objects.get(pk=report.pk).lease_until is None
    assert report_attempt(report.pk) is None  # in sync: nothing more is sent
    assert len(fake_host.calls) == 2


def test_only_the_newest_news_is_sent_when_the_older_never_went_out(
    reported: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    job = open_github_pull_request(reported, client)
    start(job, django_capture_on_commit_callbacks, execute=False)  # its message was lost
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.job_finish(job.pk, Job.Status.SUCCEED)
    assert [call.body.get("state") for call in fake_host.calls] == ["success", None]
    assert "**Succeeded**" in fake_host.calls[1].body["body"]


def test_a_lost_message_is_queued_again_by_the_sweeper(
    reported: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    start(open_github_pull_request(reported, client), django_capture_on_commit_callbacks, execute=False)
    assert overdue_reports() == []  # not yet overdue
    report = PullRequest.objects.get(number=2)
    PullRequest.objects.filter(pk=report.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    assert requeue_overdue_reports() == [report.pk]
    assert len(fake_host.calls) == 2
    assert overdue_reports() == []


def test_a_report_that_failed_for_good_is_not_swept_again(
    reported: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    fake_host.status = 403
    start(open_github_pull_request(reported, client), django_capture_on_commit_callbacks)
    PullRequest.objects.update(updated_at=timezone.now() - timedelta(minutes=10))
    assert overdue_reports() == []


def test_a_preview_torn_down_mid_build_ends_its_status_as_cancelled(
    reported: Hello, client: Client, fake_host: FakeHost, django_capture_on_commit_callbacks: Any
) -> None:
    job = open_github_pull_request(reported, client)
    start(job, django_capture_on_commit_callbacks)
    # Cancelled as the pull request closed (a cancelled build is no event of its own).
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)
    close_github_pull_request(reported, client, django_capture_on_commit_callbacks)
    status, comment = fake_host.calls[-2:]
    assert (status.method, status.body["state"]) == ("POST", "error")
    assert status.body["description"] == "The preview was torn down before its build ended"
    assert comment.method == "PATCH"
    assert "has been torn down" in comment.body["body"]


def test_the_providers_requests() -> None:
    github = providers.status_request(
        "github", "octo/shop", number=3, sha="a" * 40, state="cancelled", description="d", target_url="https://c/j"
    )
    assert (github.method, github.path, github.body["state"], github.body["context"]) == (
        "POST",
        f"/repos/octo/shop/statuses/{'a' * 40}",
        "error",
        "amplify-console/pr-3",
    )
    gitlab = providers.status_request("gitlab", "g/s/p", number=3, sha="b" * 40, state="succeeded", description="", target_url="")
    assert (gitlab.path, gitlab.body["state"], gitlab.body["name"]) == (
        f"/projects/g%2Fs%2Fp/statuses/{'b' * 40}",
        "success",
        "amplify-console/pr-3",
    )
    assert (
        providers.comment_update("gitlab", "7", number=3, comment_id="9", body="x").path == "/projects/7/merge_requests/3/notes/9"
    )
    assert providers.created_id(b'{"id": 4100000000}') == "4100000000"
    assert providers.created_id(b'{"id": "x"}') is None
    assert providers.created_id(b"not json") is None
    assert providers.answer_message(b'{"message": "Bad credentials"}') == "Bad credentials"


def test_calls_older_than_the_kept_days_are_pruned_and_newer_ones_kept(hello: Hello, settings: Any) -> None:
    settings.PR_STATUS_CALL_DAYS = 30
    now = timezone.now()
    for days in (45, 31, 29, 0):
        call = Call.objects.create(app=hello.app, number=1, action=Call.Action.STATUS, method="POST", path=f"/{days}")
        Call.objects.filter(pk=call.pk).update(at=now - timedelta(days=days))
    assert prune_calls() == 2
    assert sorted(Call.objects.values_list("path", flat=True)) == ["/0", "/29"]
    assert prune_calls() == 0
