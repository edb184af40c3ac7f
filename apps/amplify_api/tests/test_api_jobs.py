"""Jobs through the API: StartJob queues the same jobs the pages show (built eagerly
here), GetJob lists their steps with log URLs that serve the log, ListJobs pages,
StopJob cancels, RETRY re-runs, and the limits and roles hold."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.test import Client
from django.urls import reverse

from apps.amplify_api import render
from apps.amplify_api.tests.conftest import assert_valid_output, error_code
from apps.branches.models import Branch
from apps.builds.models import Job
from apps.builds.tests.builds import SITE_SPEC


@pytest.fixture
def app_id(admin_api: Any, make_repo: Callable[..., Path]) -> str:
    repo = make_repo(("main",), files={"amplify.yml": SITE_SPEC, "README.md": "x\n"})
    app_id = str(admin_api.create_app(name="Site", repository=str(repo))["app"]["appId"])
    admin_api.create_branch(appId=app_id, branchName="main", stage="PRODUCTION")
    return app_id


def waiting_job(app_id: str, job_type: str = Job.Type.RELEASE, status: str = Job.Status.PENDING) -> Job:
    """A job row as the queue would hold it, without running it."""
    branch = Branch.objects.get(app__app_id=app_id, name="main")
    job_id = branch.next_job_id
    Branch.objects.filter(pk=branch.pk).update(next_job_id=job_id + 1)
    return Job.objects.create(branch=branch, job_id=job_id, job_type=job_type, status=status, triggered_by="test")


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_start_job_builds_and_get_job_serves_each_step_log(
    operator_api: Any, app_id: str, admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = operator_api.start_job(appId=app_id, branchName="main", jobType="RELEASE", jobReason="nightly")
    assert_valid_output(operator_api, "StartJob", started)
    summary = started["jobSummary"]
    assert summary["jobId"] == "1"
    assert summary["jobType"] == "RELEASE"
    job = Job.objects.get(branch__app__app_id=app_id, job_id=1)
    assert job.triggered_by == "otto (API: nightly)"

    got = operator_api.get_job(appId=app_id, branchName="main", jobId="1")
    assert_valid_output(operator_api, "GetJob", got)
    assert got["job"]["summary"]["status"] == "SUCCEED"  # built eagerly in the test settings
    assert got["job"]["summary"]["commitId"] == job.commit_id
    assert len(job.commit_id) == 40
    steps = got["job"]["steps"]
    assert [s["stepName"] for s in steps] == ["BUILD", "DEPLOY", "VERIFY"]
    assert {s["status"] for s in steps} == {"SUCCEED"}
    status, text = fetch(steps[0]["logUrl"])
    assert status == 200
    assert f"building main job {job.padded_id} at {job.commit_id}" in text
    # Each step's URL serves its own part of the log, and the parts make the whole.
    assert text.startswith("## Cloning")
    assert "## Deployed" not in text
    deploy = fetch(steps[1]["logUrl"])[1]
    assert "## Deployed 3 files" in deploy
    assert "building main" not in deploy
    whole = "".join(job.log_chunks.order_by("seq").values_list("text", flat=True))
    assert text + deploy + fetch(steps[2]["logUrl"])[1] == whole
    # The same job is on the console's pages.
    page = admin_client.get(reverse("job_detail", args=[app_id, "main", 1]))
    assert page.status_code == 200
    assert f"building main job {job.padded_id} at {job.commit_id}" in page.content.decode()

    # A log URL is a credential for an hour, no more; a forged one serves nothing.
    assert fetch(steps[0]["logUrl"].replace("/logs/", "/logs/x"))[0] == 404
    monkeypatch.setattr(render, "LOG_URL_LIFETIME", timedelta(seconds=-1))
    assert fetch(steps[0]["logUrl"])[0] == 404


def test_list_jobs_pages_newest_first(operator_api: Any, app_id: str) -> None:
    for _ in range(3):
        waiting_job(app_id, status=Job.Status.SUCCEED)
    first = operator_api.list_jobs(appId=app_id, branchName="main", maxResults=2)
    assert_valid_output(operator_api, "ListJobs", first)
    second = operator_api.list_jobs(appId=app_id, branchName="main", maxResults=2, nextToken=first["nextToken"])
    assert [j["jobId"] for j in first["jobSummaries"]] == ["3", "2"]
    assert [j["jobId"] for j in second["jobSummaries"]] == ["1"]
    assert "nextToken" not in second


def test_stop_job_cancels_a_waiting_job_and_refuses_an_ended_one(operator_api: Any, app_id: str) -> None:
    job = waiting_job(app_id)
    stopped = operator_api.stop_job(appId=app_id, branchName="main", jobId=str(job.job_id))
    assert_valid_output(operator_api, "StopJob", stopped)
    job.refresh_from_db()
    assert stopped["jobSummary"]["status"] == "CANCELLED" == job.status
    with pytest.raises(ClientError) as ended:
        operator_api.stop_job(appId=app_id, branchName="main", jobId=str(job.job_id))
    assert error_code(ended) == ("BadRequestException", 400)
    assert "already ended" in str(ended.value)
    with pytest.raises(ClientError) as missing:
        operator_api.stop_job(appId=app_id, branchName="main", jobId="99")
    assert error_code(missing) == ("NotFoundException", 404)


def test_retry_runs_a_failed_job_again_and_manual_is_refused(operator_api: Any, app_id: str) -> None:
    failed = waiting_job(app_id, status=Job.Status.FAILED)
    retried = operator_api.start_job(appId=app_id, branchName="main", jobType="RETRY", jobId=str(failed.job_id))
    assert retried["jobSummary"]["jobType"] == "RETRY"
    new = Job.objects.get(branch=failed.branch, job_id=int(retried["jobSummary"]["jobId"]))
    assert new.source_job == failed
    assert new.status == Job.Status.SUCCEED
    before = Job.objects.count()
    for kwargs, message in (({"jobType": "RETRY"}, "jobId is required"), ({"jobType": "MANUAL"}, "use RELEASE")):
        with pytest.raises(ClientError) as refused:
            operator_api.start_job(appId=app_id, branchName="main", **kwargs)
        assert error_code(refused) == ("BadRequestException", 400)
        assert message in str(refused.value)
    assert Job.objects.count() == before


def test_too_many_waiting_jobs_is_a_limit_exceeded_error(operator_api: Any, app_id: str) -> None:
    for _ in range(5):
        waiting_job(app_id)
    with pytest.raises(ClientError) as limited:
        operator_api.start_job(appId=app_id, branchName="main", jobType="RELEASE")
    assert error_code(limited) == ("LimitExceededException", 429)
    assert Job.objects.filter(branch__app__app_id=app_id).count() == 5


def test_viewers_cannot_start_or_stop_jobs(viewer_api: Any, app_id: str) -> None:
    job = waiting_job(app_id)
    for call in (
        lambda: viewer_api.start_job(appId=app_id, branchName="main", jobType="RELEASE"),
        lambda: viewer_api.stop_job(appId=app_id, branchName="main", jobId=str(job.job_id)),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_code(refused) == ("UnauthorizedException", 401)
        assert "operator role" in str(refused.value)
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING
    assert Job.objects.filter(branch=job.branch).count() == 1
    assert viewer_api.list_jobs(appId=app_id, branchName="main")["jobSummaries"][0]["jobId"] == str(job.job_id)
