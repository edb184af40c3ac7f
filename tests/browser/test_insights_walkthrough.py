"""A team lead reads an app's builds and the sandbox inventory at a glance in real Chromium:
the Insights page's tables and the bars' hover tips show the numbers counted straight from
the database here; the range and branch filters redraw it; a chart's CSV holds the same
numbers; full-page screenshots of both pages are kept as test artifacts
(var/test-artifacts/insights*.png)."""

from __future__ import annotations

import csv
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.branches import services
from apps.branches.models import App
from apps.builds.models import Job
from apps.insights.tests import expected
from apps.insights.tests.factories import make_job, make_sandbox
from apps.sandboxes.models import InventorySettings, Sandbox
from console.aws import clear_client_cache
from console.emulator import Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its users
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
RESULTS = ("succeeded", "failed", "cancelled", "skipped", "in_progress")
# (status, weight): mostly successes, some failures, a few cancelled or skipped.
ENDED = [(Job.Status.SUCCEED, 14), (Job.Status.FAILED, 4), (Job.Status.CANCELLED, 1), (Job.Status.SKIPPED, 1)]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def seeded(transactional_db: None, make_repo: Any, emulator: Emulator, settings: Any) -> Iterator[App]:
    """An app with 30 days of builds on three branches (a few quiet days, some still running)
    and an inventory of sandboxes of four owners, ages spread over two months. The branches'
    stack reads (queued when they are connected) go to the emulator, never to AWS."""
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    repo = make_repo(("main", "dev", "feature/login"))
    app = services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    for name in ("dev", "feature/login"):
        services.branch_connect(actor=None, app=app, name=name)
    branches = list(app.branches.order_by("name"))
    rng = random.Random(22)
    now = timezone.now()
    for days_ago in range(35):
        day = timezone.localtime(now - timedelta(days=days_ago)).replace(hour=8, minute=0, second=0, microsecond=0)
        count = 0 if days_ago in (3, 4, 10) else rng.randint(1, 7)
        for n in range(count):
            created = min(day + timedelta(minutes=rng.randint(0, 600)), now - timedelta(minutes=30))
            status = rng.choices([s for s, _ in ENDED], weights=[w for _, w in ENDED])[0]
            branch = branches[(n + days_ago) % len(branches)]
            base = {"main": 240, "dev": 150, "feature/login": 90}[branch.name]
            if status == Job.Status.SKIPPED:  # never ran: no queue time, no duration
                make_job(branch, created=created, status=status)
                continue
            make_job(branch, created=created, status=status, queued=rng.uniform(1, 40), ran=rng.uniform(base * 0.6, base * 1.8))
    make_job(branches[1], created=now - timedelta(minutes=5), status=Job.Status.RUNNING, queued=12)
    make_job(branches[1], created=now - timedelta(minutes=1), status=Job.Status.PENDING)
    owners = {"alice": (2, 5, 9), "bob": (1, 20, 40), "carol": (30, 60), "dave": (8,)}
    for owner, ages in owners.items():
        for age in ages:
            make_sandbox(owner, first_seen=now - timedelta(days=age + 20), last_updated=now - timedelta(days=age))
    make_sandbox(
        "erin", first_seen=now - timedelta(days=70), last_updated=now - timedelta(days=50), deleted_at=now - timedelta(days=6)
    )
    try:
        yield app
    finally:
        clear_client_cache()


def test_a_team_lead_reads_the_builds_and_sandboxes_at_a_glance(
    page: Page, live_server: Any, seeded: App, viewer_user: Any
) -> None:
    base = live_server.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ("insights.png", "insights-sandboxes.png"):  # so the files checked below are this run's
        (ARTIFACTS / old).unlink(missing_ok=True)

    # --- 1. A viewer opens Insights from the app's navigation: the last 30 days.
    sign_in(page, base, viewer_user.username, PASSWORD)
    page.get_by_role("link", name="Shop", exact=True).click()
    page.get_by_role("navigation", name="App Shop").get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
    now = timezone.now()
    days = expected.days_ending_today(30, now)
    jobs = list(Job.objects.select_related("branch"))
    counts = expected.per_day(jobs, days)

    shot = ARTIFACTS / "insights.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(PNG)
    print(f"\nscreenshot of the Insights page: {shot}", file=sys.stderr)

    # The numbers table: one row per day (days without builds as zeros), one column per result.
    builds = page.locator("#panel-builds")
    builds.locator("summary").click()
    rows = builds.locator("tbody tr")
    expect(rows).to_have_count(30)
    shown = [[int(c) for c in row.locator("td").all_inner_texts()] for row in rows.all()]
    assert shown == [[counts[k][i] for k in RESULTS] for i in range(30)]
    assert [0] * len(RESULTS) in shown  # the quiet days are there, as zeros

    # The bars' hover tips: "<day label>: <n> <result>", for every day and result with builds.
    labels = builds.locator("tbody th").all_inner_texts()
    tips = builds.locator("svg rect.chart-bar > title").all_text_contents()
    from_tips: Counter[tuple[str, str]] = Counter()
    for tip in tips:
        label, rest = tip.split(": ")
        number, result = rest.split(" ", 1)
        from_tips[(label, result)] += int(number)
    names = {
        "succeeded": "succeeded",
        "failed": "failed",
        "cancelled": "cancelled",
        "skipped": "skipped",
        "in_progress": "queued or running",
    }
    want = {(labels[i], names[k]): counts[k][i] for k in RESULTS for i in range(30) if counts[k][i]}
    assert dict(from_tips) == want
    in_range = [j for j in jobs if timezone.localdate(j.created_at) in days]
    total = page.get_by_role("region", name=re.compile("Totals")).locator(".stat-n").first
    expect(total).to_have_text(str(len(in_range)))

    # The failure rate and the durations, as their tables show them, from the same rows.
    rates = expected.failure_rates(jobs, days)
    rate_cells = page.locator("#numbers-failure_rate tbody td").all_text_contents()
    assert rate_cells == [f"{r:.1f}%" if r is not None else "\N{EM DASH}" for r in rates]
    medians = expected.timings(jobs, days, "duration")["median"]
    duration_rows = page.locator("#numbers-duration tbody tr").all()
    assert [r.locator("td").first.text_content() == "\N{EM DASH}" for r in duration_rows] == [m is None for m in medians]

    # --- 2. The last 7 days, branch main's durations: the address keeps the choice.
    page.get_by_label("Time range").select_option("7")
    page.get_by_label("Branch (duration chart)").select_option("main")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"days=7&branch=main"))
    expect(page.locator("#numbers-builds tbody tr")).to_have_count(7)
    expect(page.locator("#chart-duration-title")).to_have_text("Build duration \N{EN DASH} main")
    week = expected.days_ending_today(7, now)
    main_medians = expected.timings(jobs, week, "duration", branch="main")["median"]
    dots = page.locator("#panel-duration svg circle.tone-accent > title").all_text_contents()
    assert len(dots) == sum(1 for m in main_medians if m is not None)

    # --- 3. The builds chart's CSV: the same counts.
    with page.expect_download() as started:
        page.locator("#panel-builds").get_by_role("link", name="CSV").click()
    download = started.value
    assert download.suggested_filename.startswith(f"{seeded.app_id}-builds-7d-")
    with open(download.path(), newline="") as file:
        rows_csv = list(csv.DictReader(file))
    week_counts = expected.per_day(jobs, week)
    assert [[int(r[k]) for k in RESULTS] for r in rows_csv] == [[week_counts[k][i] for k in RESULTS] for i in range(7)]

    # --- 4. The sandbox inventory's insights, linked from the inventory.
    page.get_by_role("link", name="Sandboxes", exact=True).first.click()
    page.get_by_role("link", name="Sandbox insights").click()
    expect(page.get_by_role("heading", name="Sandbox insights", level=1)).to_be_visible()
    policy = InventorySettings.load()
    owners = expected.by_owner(Sandbox.objects.all(), policy, timezone.now())
    owner_rows = page.locator("#numbers-owners tbody tr").all()
    shown_owners = {
        (row.locator("th").text_content() or ""): dict(
            zip(("fresh", "idle", "stale"), map(int, row.locator("td").all_text_contents()), strict=True)
        )
        for row in owner_rows
    }
    assert shown_owners == {o: {k: b.get(k, 0) for k in ("fresh", "idle", "stale")} for o, b in owners.items()}
    stale_tips = page.locator("#panel-owners svg rect.tone-bad > title").all_text_contents()
    assert sorted(stale_tips) == sorted(f"{o}: {b['stale']} stale" for o, b in owners.items() if b.get("stale"))
    history = expected.live_and_stale(list(Sandbox.objects.all()), policy, days, timezone.now())
    stale_cells = page.locator("#numbers-stale tbody tr td:nth-of-type(2)").all_text_contents()
    assert [int(c) for c in stale_cells] == history["stale"]
    shot = ARTIFACTS / "insights-sandboxes.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(PNG)
    print(f"screenshot of the Sandbox insights page: {shot}", file=sys.stderr)
