"""Watch a build in real Chromium as an operator would: start it, read its log as it
grows, see it succeed, then open the branch URL and find the example site there.

The builds run on a real Celery worker process (`live_worker`), so the job page
polls a job that really is running somewhere else, not one that ran eagerly
before the page was even rendered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import Page, expect

from apps.branches.models import App
from apps.builds.models import Job, JobStep

pytestmark = pytest.mark.browser

S = Job.Status
# The first frontend command, so the build runs long enough to watch it grow.
TICKS = 8
TICK_LOOP = f'for i in $(seq 1 {TICKS}); do echo "tick $i"; sleep 1; done'
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Olga Operator",
    "GIT_AUTHOR_EMAIL": "olga@example.com",
    "GIT_COMMITTER_NAME": "Olga Operator",
    "GIT_COMMITTER_EMAIL": "olga@example.com",
}
COMMIT_MESSAGE = "Slow the frontend build down so it can be watched"
RUNNING = re.compile(r"^(Running|Provisioning)$")


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def wait_for_seed_builds(app: App, worker_output: deque[str], timeout: float = 60) -> None:
    """The seed queued one build per branch; both must end (on the worker) before we start ours."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = dict(Job.objects.filter(branch__app=app).values_list("branch__name", "status"))
        if len(statuses) == 2 and all(status in Job.ENDED for status in statuses.values()):
            break
        if time.monotonic() >= deadline:
            tail = "".join(list(worker_output)[-40:])
            raise AssertionError(f"the seed's builds did not end within {timeout} s: {statuses}\nworker:\n{tail}")
        time.sleep(0.25)
    reasons = dict(Job.objects.filter(branch__app=app).values_list("branch__name", "status_reason"))
    assert statuses == {"main": S.SUCCEED, "dev": S.SUCCEED}, (statuses, reasons)


def push_slow_build(repository: str, workdir: Path) -> str:
    """Clone the demo repository, put the tick loop first in the frontend build, push to main."""
    git("clone", "-q", "--branch", "main", repository, str(workdir), cwd=workdir.parent)
    spec_path = workdir / "amplify.yml"
    spec = yaml.safe_load(spec_path.read_text())
    commands = spec["frontend"]["phases"]["build"]["commands"]
    commands.insert(0, TICK_LOOP)
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, width=10_000))
    git("commit", "-q", "-am", COMMIT_MESSAGE, cwd=workdir)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=workdir)
    return git("rev-parse", "HEAD", cwd=workdir)


def snapshot(page: Page) -> tuple[str, str]:
    """The header badge and the log as they are at one instant (one evaluation)."""
    badge, log = page.evaluate(
        """() => [
            document.querySelector('#job-header h1 .badge').textContent.trim(),
            document.getElementById('log').textContent,
        ]"""
    )
    return str(badge), str(log)


def test_operator_watches_a_build_and_opens_the_site(
    page: Page,
    live_server: Any,
    live_worker: subprocess.Popen[str],
    demo: App,
    admin_password: str,
    settings: Any,
    tmp_path: Path,
) -> None:
    worker_output: deque[str] = live_worker.output_tail  # type: ignore[attr-defined]
    base = live_server.url
    port = urlsplit(base).port
    assert port
    settings.HOSTING_DOMAIN = f"localhost:{port}"
    app_id = demo.app_id
    site_url = f"http://main.{app_id}.localhost:{port}/"

    # --- 1. The seed's builds ran on the worker; wait for them to end.
    wait_for_seed_builds(demo, worker_output)

    # --- 2. A commit that makes the next build of main last a while.
    commit = push_slow_build(demo.repository, tmp_path / "checkout")

    # --- 3. Sign in, open the demo app, branch main, start a build.
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="All apps")).to_be_visible()
    page.get_by_role("link", name="Todo app (demo)").click()
    expect(page.get_by_role("heading", name="Todo app (demo)", level=1)).to_be_visible()
    page.get_by_role("table").get_by_role("link", name="main", exact=True).click()
    expect(page.get_by_role("heading", name="main", level=1)).to_be_visible()
    page.get_by_role("button", name="Start build").click()

    # The job page of the new job: #2 of main (the seed's build was #1).
    expect(page).to_have_url(re.compile(r"/branches/main/jobs/\d+/$"))
    match = re.search(r"/jobs/(\d+)/$", page.url)
    assert match, page.url
    job = Job.objects.get(branch__app=demo, branch__name="main", job_id=int(match.group(1)))
    assert (job.job_id, job.job_type, job.triggered_by) == (2, Job.Type.MANUAL, "admin")
    expect(page.get_by_role("heading", name=re.compile(rf"^Job #{job.job_id}\b"), level=1)).to_be_visible()
    badge = page.locator("#job-header h1 .badge")
    log = page.get_by_label("Build log")
    # A mark on this document (gone if the page reloaded), and a recorder of what the
    # page showed each time htmx changed the log: (header badge, highest tick so far).
    page.evaluate(
        """() => {
            window.__sameDocument = 'watching';
            window.__updates = [];
            const log = document.getElementById('log');
            new MutationObserver(() => {
                const ticks = log.textContent.match(/^tick (\\d+)$/gm) || [];
                const badge = document.querySelector('#job-header h1 .badge').textContent.trim();
                window.__updates.push([badge, ticks.length]);
            }).observe(log, {childList: true, subtree: true, characterData: true});
        }"""
    )

    # While it runs, the log already shows the clone...
    expect(log).to_contain_text("## Cloning", timeout=20_000)
    status, text = snapshot(page)
    assert RUNNING.match(status), (status, text)
    # ...then the commit, the backend and the first ticks of the slow frontend command...
    expect(log).to_contain_text("tick 1", timeout=40_000)
    status, text = snapshot(page)
    assert status == "Running", (status, text)
    for line in (
        f"## Commit {commit}: {COMMIT_MESSAGE}",
        "## Build spec: amplify.yml from the repository",
        "## Starting phase: backend build",
        "## Captured amplify_outputs.json",
        "## Starting phase: frontend build",
        f"# Executing command: {TICK_LOOP}",
    ):
        assert line in text, f"{line!r} not in the log:\n{text}"
    seen = max(int(n) for n in re.findall(r"^tick (\d+)$", text, re.MULTILINE))
    assert seen <= TICKS - 2, f"the page only caught up at tick {seen} of {TICKS}:\n{text}"
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    # ...and more lines arrive without a reload, while the badge still says Running.
    expect(log).to_contain_text(f"tick {seen + 2}", timeout=10_000)
    status, text = snapshot(page)
    assert status == "Running", (status, text)
    assert "## Deployed" not in text, text

    # --- The build ends: Succeeded, every step succeeded, the URL is offered.
    expect(badge).to_have_text("Succeeded", timeout=60_000)
    assert page.evaluate("() => window.__sameDocument") == "watching", "the job page reloaded"
    updates = page.evaluate("() => window.__updates")
    ticks_while_running = sorted({ticks for badge_text, ticks in updates if badge_text == "Running" and ticks})
    assert len(ticks_while_running) >= 3, f"the log should grow in place, poll after poll: {updates}"
    steps = page.locator("#job-header .step")
    expect(steps).to_have_text(["Build Succeeded", "Deploy Succeeded", "Verify Succeeded"])
    expect(log).to_contain_text(f"tick {TICKS}")
    expect(log).to_contain_text("## Deployed")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_role("button", name="Redeploy this version")).to_be_visible()
    job.refresh_from_db()
    assert (job.status, job.commit_id) == (S.SUCCEED, commit), job.status_reason
    assert dict(JobStep.objects.filter(job=job).values_list("name", "status")) == {
        "BUILD": S.SUCCEED,
        "DEPLOY": S.SUCCEED,
        "VERIFY": S.SUCCEED,
    }
    open_site = page.get_by_role("link", name=f"Open {site_url}", exact=True)
    expect(open_site).to_be_visible()
    expect(open_site).to_have_attribute("href", site_url)

    # --- 4. The branch URL serves the new deployment: the example site and its outputs.
    open_site.click()
    expect(page).to_have_url(site_url)
    expect(page.get_by_role("heading", name="Todo app", level=1)).to_be_visible()
    expect(page).to_have_title("Todo app")
    # The page itself fetches amplify_outputs.json next to it and shows its version.
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Backend outputs version \S+\.$"))

    response = page.goto(f"{site_url}amplify_outputs.json")
    assert response is not None
    assert response.status == 200, response.status
    assert response.headers["content-type"].startswith("application/json"), response.headers
    outputs = json.loads(response.text())
    assert isinstance(outputs, dict), outputs
    assert outputs.get("version"), outputs
