"""Skipped builds, decided by the runner after the clone: skip markers and path filters on
incoming webhook builds (and polls, which start the same automatic jobs); a build started by
hand always runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches import services
from apps.branches.models import App
from apps.branches.selectors import folder_filter, parse_path_filters
from apps.builds.models import Job, Webhook
from apps.builds.skipping import PathRule, marker_reason, paths_reason, skip_marker
from apps.builds.tasks import process_branch_queue
from apps.builds.tests.builds import SITE_SPEC, build, log_of
from apps.builds.webhooks import webhook_create
from conftest import git

MONOREPO_SPEC = """version: 1
applications:
  - appRoot: apps/web
    frontend:
      phases:
        build:
          commands:
            - mkdir -p dist && printf '<h1>web</h1>' > dist/index.html
      artifacts:
        baseDirectory: dist
        files: ['**/*']
"""


class Repo:
    """A bare repository and a clone to push commits to it from."""

    def __init__(self, bare: Path, work: Path) -> None:
        self.bare, self.work = bare, work
        git("clone", "-q", "-b", "main", str(bare), str(work), cwd=bare.parent)

    def push(self, files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            (self.work / name).parent.mkdir(parents=True, exist_ok=True)
            (self.work / name).write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "-qm", message, cwd=self.work)
        git("push", "-q", "origin", "HEAD:main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


@pytest.fixture
def site(db: None, make_repo: Callable[..., Path], tmp_path: Path) -> tuple[App, Repo, Webhook]:
    files = {"amplify.yml": SITE_SPEC, "apps/web/index.txt": "web\n", "docs/guide.md": "guide\n"}
    bare = make_repo(("main",), files=files)
    app = services.app_create(actor=None, name="Site", repository=str(bare), production_branch="main")
    webhook = webhook_create(actor=None, branch=app.branches.get(name="main"), name="CMS")
    return app, Repo(bare, tmp_path / "pusher"), webhook


def call_webhook(webhook: Webhook) -> Job:
    """POST the webhook, then run the branch's queue here (the worker's task)."""
    query = f"id={webhook.webhook_id}&token={webhook.token}&operation=startbuild"
    assert Client().post(f"/webhooks?{query}", data="{}", content_type="application/json").status_code == 202
    job = Job.objects.filter(branch=webhook.branch).order_by("-job_id").first()
    assert job is not None
    assert job.automatic
    process_branch_queue(webhook.branch_id)
    job.refresh_from_db()
    return job


def test_a_skip_marker_in_the_head_commit_skips_a_webhook_build(site: tuple[App, Repo, Webhook]) -> None:
    app, repo, webhook = site
    assert build(app).status == Job.Status.SUCCEED
    sha = repo.push({"docs/guide.md": "typo fixed\n"}, "Fix a typo [skip-cd]")
    job = call_webhook(webhook)
    assert (job.status, job.commit_id, job.commit_message) == (Job.Status.SKIPPED, sha, "Fix a typo [skip-cd]")
    assert job.status_reason == "Skipped: the head commit's message contains [skip-cd]."
    assert set(job.steps.values_list("status", flat=True)) == {Job.Status.SKIPPED}
    assert "## Skipped: the head commit's message contains [skip-cd]." in log_of(job)
    assert "Executing command" not in log_of(job)
    # The site stays what the last real build deployed.
    live = app.branches.get(name="main").live_deployment
    assert live is not None
    assert live.job.job_id == 1


def test_a_build_started_by_hand_runs_despite_a_skip_marker(site: tuple[App, Repo, Webhook]) -> None:
    app, repo, _ = site
    repo.push({"docs/guide.md": "v2\n"}, "Docs only [skip ci]")
    job = build(app, job_type=Job.Type.RELEASE)
    assert (job.status, job.automatic) == (Job.Status.SUCCEED, False)


def test_path_filters_skip_a_webhook_build_with_no_changed_file_under_them(site: tuple[App, Repo, Webhook]) -> None:
    app, repo, webhook = site
    services.app_update(actor=None, app=app, build_path_filters="apps/web/\n!**/*.md")
    built = build(app)
    repo.push({"docs/guide.md": "v2\n", "docs/more.md": "more\n"}, "More docs")
    repo.push({"apps/web/NOTES.md": "notes\n"}, "Notes")  # inside, but excluded
    job = call_webhook(webhook)
    assert job.status == Job.Status.SKIPPED
    assert job.status_reason == (
        "Skipped: no changed file matching the app's path filters (apps/web/, !**/*.md) "
        f"(3 files changed since {built.commit_id[:12]}: apps/web/NOTES.md, docs/guide.md, docs/more.md)."
    )


def test_path_filters_build_a_webhook_build_with_a_changed_file_under_them(site: tuple[App, Repo, Webhook]) -> None:
    app, repo, webhook = site
    services.app_update(actor=None, app=app, build_path_filters="apps/web/")
    build(app)
    repo.push({"docs/guide.md": "v2\n"}, "Docs")
    repo.push({"apps/web/index.txt": "v2\n"}, "Web")
    job = call_webhook(webhook)
    assert job.status == Job.Status.SUCCEED
    assert job.status_reason == ""


def test_changes_count_from_the_last_successful_build_not_the_last_skipped_one(site: tuple[App, Repo, Webhook]) -> None:
    app, repo, webhook = site
    services.app_update(actor=None, app=app, build_path_filters="apps/web/")
    build(app)
    repo.push({"apps/web/index.txt": "v2\n"}, "Web change, held back [skip-cd]")
    assert call_webhook(webhook).status == Job.Status.SKIPPED
    repo.push({"docs/guide.md": "v2\n"}, "Docs only")
    # Docs alone would be skipped, but the web change skipped before is still not deployed.
    assert call_webhook(webhook).status == Job.Status.SUCCEED


def test_the_first_build_runs_whatever_the_filters(site: tuple[App, Repo, Webhook]) -> None:
    app, _, webhook = site
    services.app_update(actor=None, app=app, build_path_filters="nothing/here/")
    job = call_webhook(webhook)
    assert job.status == Job.Status.SUCCEED
    assert "no earlier successful build to compare with" in log_of(job)


def test_amplify_diff_deploy_defaults_the_filter_to_the_monorepo_app_root(
    db: None, make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    files = {"amplify.yml": MONOREPO_SPEC, "apps/web/index.txt": "web\n", "apps/api/main.py": "api\n"}
    app = services.app_create(
        actor=None, name="Mono", repository=str(make_repo(("main",), files=files)), production_branch="main"
    )
    services.env_var_set(actor=None, app=app, name="AMPLIFY_DIFF_DEPLOY", value="true")
    webhook = webhook_create(actor=None, branch=app.branches.get(name="main"), name="CI")
    repo = Repo(Path(app.repository), tmp_path / "pusher")
    assert build(app).status == Job.Status.SUCCEED
    repo.push({"apps/api/main.py": "api v2\n"}, "API only")
    job = call_webhook(webhook)
    assert job.status == Job.Status.SKIPPED
    assert job.status_reason.startswith("Skipped: no changed file under apps/web/ (AMPLIFY_DIFF_DEPLOY) (1 file changed since ")
    repo.push({"apps/web/index.txt": "web v2\n"}, "Web")
    assert call_webhook(webhook).status == Job.Status.SUCCEED


def test_a_job_page_and_the_jobs_list_show_why_it_was_skipped(site: tuple[App, Repo, Webhook], admin_client: Any) -> None:
    app, repo, webhook = site
    build(app)
    repo.push({"docs/guide.md": "v2\n"}, "Docs [skip-cd]")
    job = call_webhook(webhook)
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/jobs/{job.job_id}/").content.decode()
    assert "Skipped</span>" in page
    assert "the head commit&#x27;s message contains [skip-cd]" in page
    jobs_list = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "the head commit&#x27;s message contains [skip-cd]" in jobs_list


# --- the rules, without git ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "marker"),
    [
        ("Fix a typo [skip-cd]", "[skip-cd]"),
        ("Docs\n\nlonger text [SKIP CI]", "[skip ci]"),
        ("[ci skip] readme", "[ci skip]"),
        ("Explain skip-cd without brackets", None),
        ("[skip cd] is not a marker", None),
    ],
)
def test_skip_markers(message: str, marker: str | None) -> None:
    assert skip_marker(message) == marker
    assert bool(marker_reason(message)) is (marker is not None)


def test_a_reason_escapes_hostile_paths_and_lists_only_a_few() -> None:
    rule = PathRule(folder_filter("apps/web"), "under apps/web/")
    hostile = ["docs/\u202eevil.md", "docs/line\nbreak.md", "x" * 300, "a.md", "b.md", "c.md", "d.md"]
    reason = paths_reason(rule, hostile, "f" * 40)
    assert "\n" not in reason
    assert "\u202e" not in reason
    assert "docs/\\u202eevil.md" in reason
    assert "docs/line\\nbreak.md" in reason
    assert "x" * 300 not in reason
    assert "…" in reason
    assert reason.endswith(", and 2 more).")
    assert reason.startswith("Skipped: no changed file under apps/web/ (7 files changed since ffffffffffff: ")


def test_no_changed_file_is_no_reason_to_skip() -> None:
    # A webhook rebuilding the commit already built (a CMS publish) has nothing to judge.
    assert paths_reason(PathRule(parse_path_filters("apps/web/"), "x"), [], "f" * 40) == ""
