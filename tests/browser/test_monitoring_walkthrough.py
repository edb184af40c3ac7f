"""A viewer watches a branch's traffic in real Chromium: real HTTP requests to the
branch URL go through the live server's hosting middleware into the access log; the
Monitoring page charts them, switches to the week, and the access-log download holds
exactly those requests.

The branch's site is published the way builds publish it (`services.publish`, into the
hosting bucket on the moto server), so the requests are served as visitors' would be.
"""

from __future__ import annotations

import csv
import http.client
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.branches import services as branch_services
from apps.branches.models import Branch
from apps.builds.models import Job
from apps.hosting import access_log
from apps.hosting import services as hosting_services
from apps.hosting.models import AccessLogEntry
from console.aws import clear_client_cache
from console.emulator import Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its users
SITE = {"index.html": "<h1>Shop</h1>", "about/index.html": "<p>about us</p>"}
# What a visitor asks for, and what the site answers.
VISITS = [("/", 200)] * 5 + [("/about/", 200)] * 2 + [("/about", 301)] + [("/missing.js", 404)] * 3


@pytest.fixture
def deployed(live_server: Any, emulator: Emulator, settings: Any, tmp_path: Path, make_repo: Any) -> Iterator[Branch]:
    """An app whose branch main serves a two-page site from the hosting bucket; dev serves nothing yet."""
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    repository = str(make_repo(("main", "dev")))
    app = branch_services.app_create(actor=None, name="Shop", repository=repository, production_branch="main")
    branch_services.branch_connect(actor=None, app=app, name="dev")  # connected, nothing deployed: its URL answers 404
    main = app.branches.get(name="main")
    job = Job.objects.create(branch=main, job_id=1, job_type=Job.Type.MANUAL, status=Job.Status.SUCCEED)
    files = []
    for name, text in SITE.items():
        source = tmp_path / "dist" / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text)
        files.append(hosting_services.SourceFile(name, source, source.stat().st_size, "text/html; charset=utf-8"))
    hosting_services.publish(main, job.pk, files)
    access_log.flush()  # nothing from before the test
    try:
        yield Branch.objects.get(pk=main.pk)
    finally:
        clear_client_cache()


def visit(port: int, host: str, path: str) -> int:
    """One GET through the live server, by the branch URL's Host (no DNS for *.localhost needed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host, "User-Agent": "walkthrough/1.0"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_viewer_sees_the_branch_traffic_and_downloads_its_access_log(
    page: Page, live_server: Any, deployed: Branch, viewer_user: Any, tmp_path: Path
) -> None:
    base = live_server.url
    port = urlsplit(base).port
    assert port
    app_id = deployed.app.app_id
    host = f"{deployed.hostname_label}.{app_id}.localhost:{port}"

    # --- 1. Visitors: every answer is what the site serves, and each is logged.
    started = timezone.now()
    assert [(path, visit(port, host, path)) for path, _ in VISITS] == VISITS
    assert visit(port, f"dev.{app_id}.localhost:{port}", "/") == 404
    # One request two days ago: in the week's charts, outside the day's and the download.
    AccessLogEntry.objects.create(
        time=started - timedelta(days=2), app=deployed.app, branch=deployed, branch_name="main", method="GET",
        host=host, path="/old", status=500,
    )  # fmt: skip
    assert access_log.flush() == len(VISITS) + 1

    # --- 2. A viewer opens Monitoring from the app's sidebar: the day, all branches.
    sign_in(page, base, viewer_user.username, PASSWORD)
    page.get_by_role("link", name="Shop", exact=True).click()
    page.get_by_role("navigation", name="App Shop").get_by_role("link", name="Monitoring").click()
    expect(page.get_by_role("heading", name="Monitoring", level=1)).to_be_visible()
    requests = page.get_by_role("img", name="Requests, ")
    expect(requests).to_have_attribute("aria-label", _contains(": 12 in total, at most "))
    expect(page.get_by_role("img", name="4xx errors, ")).to_have_attribute("aria-label", _contains(": 4 in total, at most "))
    expect(page.get_by_role("img", name="5xx errors, ")).to_have_attribute("aria-label", _contains(": none"))
    # The numbers behind the chart, for whoever cannot see it.
    figure = page.locator("#chart-requests")
    figure.get_by_text("Numbers").click()
    table = figure.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(1 + 24 + 1)
    expect(table.locator("tfoot")).to_have_text("Total12")
    assert _table_sum(table) == 12
    expect(page.locator("#chart-client_errors tfoot")).to_have_text("Total4", use_inner_text=False)
    shot = tmp_path / "monitoring.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot of the Monitoring page: {shot}", file=sys.stderr)

    # --- 3. The week: the old 5xx joins. Then branch main only: dev's 404 leaves.
    # The filters redraw the charts in place and put the choice in the address.
    filters = page.locator("form.filters")
    filters.get_by_label("Window").select_option("7d")
    expect(page).to_have_url(_contains("window=7d"))
    expect(page.get_by_role("img", name="Requests, ")).to_have_attribute("aria-label", _contains(": 13 in total"))
    expect(page.get_by_role("img", name="5xx errors, ")).to_have_attribute("aria-label", _contains(": 1 in total"))
    filters.get_by_label("Branch").select_option("main")
    expect(page).to_have_url(_contains("window=7d&branch=main"))
    expect(page.get_by_role("img", name="Requests, ")).to_have_attribute("aria-label", _contains(": 12 in total"))
    expect(page.get_by_role("img", name="4xx errors, ")).to_have_attribute("aria-label", _contains(": 3 in total"))
    page.screenshot(path=str(tmp_path / "monitoring-week.png"), full_page=True)

    # --- 4. The access log of branch main for the last hour (the form's default): exactly the visits.
    page.locator("#log-branch").select_option("main")
    with page.expect_download() as started_download:
        page.get_by_role("button", name="Download CSV").click()
    download = started_download.value
    assert download.suggested_filename.startswith(f"{app_id}-main-access-logs-")
    with open(download.path(), newline="") as file:
        rows = list(csv.DictReader(file))
    assert Counter((row["path"], int(row["status"])) for row in rows) == Counter(VISITS)
    assert [row["time"] for row in rows] == sorted(row["time"] for row in rows)
    first = datetime.fromisoformat(rows[0]["time"])
    assert first.tzinfo == UTC
    assert started - timedelta(seconds=1) <= first <= timezone.now()
    assert {(row["branch"], row["method"], row["host"], row["user_agent"]) for row in rows} == {
        ("main", "GET", host, "walkthrough/1.0")
    }
    assert all(int(row["bytes"]) > 0 for row in rows if row["status"] == "200")

    # --- 5. A window longer than Amplify's seven days is refused, saying why.
    page.goto(f"{base}/apps/{app_id}/hosting/monitoring/")
    page.get_by_label("From").fill("2026-01-01T00:00")
    page.get_by_label("Until").fill("2026-01-09T00:00")
    page.get_by_role("button", name="Download CSV").click()
    expect(page.get_by_role("alert")).to_contain_text("That window is 8 days long: access logs download at most 7 days")


def _table_sum(table: Any) -> int:
    return sum(int(cell.replace(",", "")) for cell in table.locator("tbody td").all_text_contents())


def _contains(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))
