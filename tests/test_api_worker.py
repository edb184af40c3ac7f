"""The Amplify-compatible API end to end: boto3's `amplify` client against a live server,
jobs built by a real Celery worker. create app (a local bare repository) -> branch ->
webhook -> start job -> poll get_job until SUCCEED -> list jobs -> the step log ->
delete; every response satisfies botocore's output shapes."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.amplify_api import keys
from apps.amplify_api.tests.conftest import amplify_client, assert_valid_output
from apps.branches.models import App
from apps.builds.models import Job
from apps.builds.tests.builds import SITE_SPEC

pytestmark = pytest.mark.worker


def poll_job(client: Any, app_id: str, job_id: str, timeout: float = 180) -> dict[str, Any]:
    """GetJob until the job ends, as a deploy script would."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get_job(appId=app_id, branchName="main", jobId=job_id)
        assert_valid_output(client, "GetJob", response)
        if response["job"]["summary"]["status"] in ("SUCCEED", "FAILED", "CANCELLED"):
            return dict(response["job"])
        assert time.monotonic() < deadline, f"job {job_id} did not end within {timeout} s: {response['job']['summary']}"
        time.sleep(0.5)


def test_the_whole_flow_through_the_api(
    live_server: Any, live_worker: Any, admin_user: Any, make_repo: Callable[..., Path]
) -> None:
    repo = make_repo(("main",), files={"amplify.yml": SITE_SPEC, "README.md": "hello\n"})
    new = keys.key_create(actor=None, username=admin_user.get_username())
    client = amplify_client(f"{live_server.url}/amplify-api", new.key.access_key_id, new.secret_access_key)

    created = client.create_app(name="Docs", repository=str(repo), platform="WEB")
    assert_valid_output(client, "CreateApp", created)
    app_id = created["app"]["appId"]
    branch = client.create_branch(appId=app_id, branchName="main", stage="PRODUCTION")
    assert_valid_output(client, "CreateBranch", branch)
    webhook = client.create_webhook(appId=app_id, branchName="main", description="docs publish")
    assert_valid_output(client, "CreateWebhook", webhook)

    started = client.start_job(appId=app_id, branchName="main", jobType="RELEASE")
    assert_valid_output(client, "StartJob", started)
    assert started["jobSummary"]["status"] == "PENDING"  # queued for the worker, not built in the request
    job = poll_job(client, app_id, started["jobSummary"]["jobId"])
    assert job["summary"]["status"] == "SUCCEED", job
    assert [step["stepName"] for step in job["steps"]] == ["BUILD", "DEPLOY", "VERIFY"]

    # The webhook the API made starts a build too, and ListJobs shows both, newest first.
    request = urllib.request.Request(webhook["webhook"]["webhookUrl"], data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 201, 202)
    jobs = client.list_jobs(appId=app_id, branchName="main")
    assert_valid_output(client, "ListJobs", jobs)
    assert [(j["jobId"], j["jobType"]) for j in jobs["jobSummaries"]] == [("2", "WEB_HOOK"), ("1", "RELEASE")]
    assert poll_job(client, app_id, "2")["summary"]["status"] == "SUCCEED"

    with urllib.request.urlopen(job["steps"][0]["logUrl"], timeout=30) as response:
        log = response.read().decode()
    stored = Job.objects.get(branch__app__app_id=app_id, job_id=1)
    assert f"building main job {stored.padded_id} at {stored.commit_id}" in log

    for operation, call in (
        ("DeleteWebhook", lambda: client.delete_webhook(webhookId=webhook["webhook"]["webhookId"])),
        ("DeleteBranch", lambda: client.delete_branch(appId=app_id, branchName="main")),
        ("DeleteApp", lambda: client.delete_app(appId=app_id)),
    ):
        assert_valid_output(client, operation, call())
    assert not App.objects.filter(app_id=app_id).exists()
    assert client.list_apps()["apps"] == []
