"""Skip markers and path filters on push deliveries (GitHub, GitLab) and on polls: a push the
delivery already shows to be skipped is a SKIPPED job at once, never queued; one it cannot
judge is an automatic job the runner judges after the clone."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from apps.builds.tasks import process_branch_queue
from apps.gitops import gitsync
from apps.gitops.polling import poll_one
from apps.gitops.tests.test_hook_views import (
    OLD_SHA,
    dumps,
    fixture_json,
    gitlab_push,
    head_of,
    post_github,
    post_gitlab,
)
from conftest import git

BUILT = "b" * 40  # the commit of the branch's last successful build


class Site:
    def __init__(self, app: App, repo: Path) -> None:
        self.app, self.repo, self.master = app, repo, head_of(repo, "master")


@pytest.fixture
def site(db: None, make_repo: Callable[..., Path]) -> Site:
    repo = make_repo(("master",))
    app = services.app_create(actor=None, name="Hello-World", repository=str(repo), production_branch="master")
    Branch.objects.filter(app=app, name="master").update(last_seen_commit=OLD_SHA)
    app.refresh_from_db()
    return Site(app, repo)


def built_at(site: Site, commit: str) -> None:
    """A successful build of master at `commit`: what changes count from."""
    job = jobs.job_start(
        branch=site.app.branches.get(name="master"), job_type=Job.Type.MANUAL, triggered_by="t", commit_id=commit
    )
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEED)


def github_push(site: Site, message: str, files: list[str] | None = None, before: str = BUILT) -> bytes:
    payload = copy.deepcopy(fixture_json("push.with-new-branch.payload.json"))
    payload["repository"]["clone_url"] = str(site.repo)
    payload.update({"before": before, "after": site.master, "created": False})
    payload["head_commit"].update({"id": site.master, "message": message})
    commit = payload["commits"][0]
    commit.update({"id": site.master, "message": message, "added": files or [], "modified": [], "removed": []})
    return dumps(payload)


def the_job(site: Site) -> Job:
    return Job.objects.filter(branch__app=site.app).order_by("-pk").first()  # type: ignore[return-value]


def test_a_github_push_with_skip_cd_is_skipped_and_never_queued(site: Site, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as queued:
        status, message, _ = post_github(Client(), site.app, "push", github_push(site, "Docs\n\nreword [skip-cd]"))
    job = the_job(site)
    assert status == 202
    assert message == f"build #1 of master at {site.master[:12]} skipped: Skipped: the head commit's message contains [skip-cd]."
    assert (job.status, job.commit_id, job.automatic) == (Job.Status.SKIPPED, site.master, True)
    assert job.ended_at is not None
    assert queued == []  # no build task


def test_a_gitlab_push_with_skip_ci_is_skipped(site: Site) -> None:
    payload = gitlab_push(site, site.master)  # type: ignore[arg-type]
    payload["commits"][0]["message"] = "Bump the changelog [skip ci]"
    status, message = post_gitlab(Client(), site.app, "Push Hook", payload)
    assert status == 202
    assert message.endswith("skipped: Skipped: the head commit's message contains [skip ci].")
    assert the_job(site).status == Job.Status.SKIPPED


def test_path_filters_skip_a_push_whose_files_are_all_outside(site: Site) -> None:
    services.app_update(actor=None, app=site.app, build_path_filters="apps/web/")
    built_at(site, BUILT)
    body = github_push(site, "Docs", ["docs/guide.md", "README.md"])
    status, message, _ = post_github(Client(), site.app, "push", body)
    job = the_job(site)
    assert status == 202
    assert job.status == Job.Status.SKIPPED
    assert job.status_reason == (
        "Skipped: no changed file matching the app's path filters (apps/web/) "
        "(2 files changed since bbbbbbbbbbbb: docs/guide.md, README.md)."
    )
    assert message.endswith(job.status_reason)


def test_path_filters_build_a_push_with_a_file_inside(site: Site, django_capture_on_commit_callbacks: Any) -> None:
    services.app_update(actor=None, app=site.app, build_path_filters="apps/web/")
    built_at(site, BUILT)
    with django_capture_on_commit_callbacks() as queued:
        post_github(Client(), site.app, "push", github_push(site, "Web", ["docs/guide.md", "apps/web/index.html"]))
    job = the_job(site)
    assert (job.status, job.automatic) == (Job.Status.PENDING, True)
    assert len(queued) == 1


def test_a_push_not_from_the_last_built_commit_is_left_to_the_runner(site: Site) -> None:
    # Commits between the last build and this push's `before` are not in the delivery.
    services.app_update(actor=None, app=site.app, build_path_filters="apps/web/")
    built_at(site, BUILT)
    post_github(Client(), site.app, "push", github_push(site, "Docs", ["docs/guide.md"], before="c" * 40))
    job = the_job(site)
    assert (job.status, job.automatic) == (Job.Status.PENDING, True)


def test_a_poll_finding_a_skip_marker_skips_in_the_runner(site: Site, tmp_path: Path) -> None:
    Branch.objects.filter(app=site.app, name="master").update(last_seen_commit=site.master)
    work = tmp_path / "pusher"
    git("clone", "-q", "-b", "master", str(site.repo), str(work), cwd=tmp_path)
    (work / "CHANGELOG").write_text("v2\n")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "Changelog [skip-cd]", cwd=work)
    git("push", "-q", "origin", "master", cwd=work)
    head = head_of(site.repo, "master")
    assert "built: master" in poll_one(site.app.pk)
    job = the_job(site)
    # A poll knows no message: the runner reads it from the clone.
    assert (job.status, job.automatic, job.commit_message) == (Job.Status.PENDING, True, "")
    process_branch_queue(job.branch_id)
    job.refresh_from_db()
    assert (job.status, job.commit_id) == (Job.Status.SKIPPED, head)
    assert job.status_reason == "Skipped: the head commit's message contains [skip-cd]."


def test_a_pull_request_title_is_no_skip_marker(site: Site) -> None:
    # Markers are read from the head commit's message, which the runner reads for a preview.
    master = site.app.branches.get(name="master")
    services.branch_preview_settings_update(actor=None, branch=master, pr_previews_enabled=True, pr_shared_backend=None)
    gitsync.preview_open(
        site.app,
        number=3,
        head_branch="master",
        head_commit=site.master,
        base_branch="master",
        title="Docs [skip ci]",
        source="github",
    )
    job = the_job(site)
    assert (job.branch.name, job.status, job.automatic) == ("pr-3", Job.Status.PENDING, True)
