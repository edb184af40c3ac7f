"""The job page: header, failing command, live log polling, download, actions by role."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.test import Client

from apps.builds import jobs
from apps.builds.models import Job, LogChunk
from apps.builds.tests.builds import SITE_SPEC, build, make_app


def test_a_failed_job_shows_the_failing_command_and_exit_code_first(admin_client: Client, make_repo: Callable[..., Path]) -> None:
    spec = SITE_SPEC.replace("        - mkdir -p dist/docs", "        - exit 4\n        - mkdir -p dist/docs")
    job = build(make_app(make_repo, spec))
    page = admin_client.get(f"/apps/{job.branch.app.app_id}/branches/main/jobs/{job.job_id}/").content.decode()
    assert page.index("Failing command: <code>exit 4</code> (exit code 4)") < page.index('id="log"')
    assert "Retry</button>" in page
    assert "# Executing command: exit 4" in page


def test_the_log_poll_returns_only_new_text_and_stops_when_the_job_ends(
    viewer_client: Client, make_repo: Callable[..., Path]
) -> None:
    app = make_app(make_repo)
    job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="t")
    LogChunk.objects.create(job=job, seq=1, text="first line\n")
    url = f"/apps/{app.app_id}/branches/main/jobs/{job.job_id}/"
    page = viewer_client.get(url).content.decode()
    assert "first line" in page
    assert f'hx-get="{url}log/?after=1"' in page
    LogChunk.objects.create(job=job, seq=2, text="second line\n")
    update = viewer_client.get(url + "log/?after=1", headers={"HX-Request": "true"}).content.decode()
    assert "second line" in update
    assert "first line" not in update
    assert f'hx-get="{url}log/?after=2"' in update
    assert 'id="job-header" hx-swap-oob="true"' in update
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEED)
    final = viewer_client.get(url + "log/?after=2").content.decode()
    assert "hx-get" not in final.split('id="job-header"')[0]  # no poller once the job has ended


def test_the_log_downloads_as_a_text_file(viewer_client: Client, make_repo: Callable[..., Path]) -> None:
    job = build(make_app(make_repo))
    response = viewer_client.get(f"/apps/{job.branch.app.app_id}/branches/main/jobs/{job.job_id}/log.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert "## Starting phase: frontend build" in body


def test_viewers_see_jobs_but_no_actions(viewer_client: Client, make_repo: Callable[..., Path]) -> None:
    job = build(make_app(make_repo))
    branch_page = viewer_client.get(f"/apps/{job.branch.app.app_id}/branches/main/").content.decode()
    assert f"#{job.job_id}</a>" in branch_page
    assert "Start build" not in branch_page
    job_page = viewer_client.get(f"/apps/{job.branch.app.app_id}/branches/main/jobs/{job.job_id}/").content.decode()
    assert "Redeploy this version" not in job_page


def test_operators_start_builds_and_see_them_queued(operator_client: Client, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    response = operator_client.post(f"/apps/{app.app_id}/branches/main/build/", follow=True)
    job = Job.objects.get()
    assert response.redirect_chain[-1][0] == f"/apps/{app.app_id}/branches/main/jobs/{job.job_id}/"
    assert "Build #1 of main queued." in response.content.decode()
    assert (job.job_type, job.triggered_by) == ("MANUAL", "otto")


def test_retry_of_a_successful_job_is_refused_with_a_message(admin_client: Client, make_repo: Callable[..., Path]) -> None:
    job = build(make_app(make_repo))
    response = admin_client.post(f"/apps/{job.branch.app.app_id}/branches/main/jobs/{job.job_id}/retry/", follow=True)
    assert "Only failed or cancelled jobs can be retried." in response.content.decode()
    assert Job.objects.count() == 1


def test_overview_shows_each_branchs_last_job(viewer_client: Client, make_repo: Callable[..., Path]) -> None:
    job = build(make_app(make_repo))
    page = viewer_client.get(f"/apps/{job.branch.app.app_id}/").content.decode()
    assert f'/branches/main/jobs/{job.job_id}/">#{job.job_id}</a>' in page
    assert "Succeeded" in page


def test_unknown_job_is_404(viewer_client: Client, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    assert viewer_client.get(f"/apps/{app.app_id}/branches/main/jobs/99/").status_code == 404
