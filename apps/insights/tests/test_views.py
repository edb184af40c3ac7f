"""The insights pages: what a viewer sees (charts, their tables) and downloads (CSV) is the
same numbers, computed straight from the rows; bad input is refused saying why."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.branches.models import App
from apps.builds.models import Job
from apps.insights.tests import expected
from apps.insights.tests.factories import make_job, make_sandbox
from apps.sandboxes.models import InventorySettings, Sandbox

S = Job.Status
SVG = "{http://www.w3.org/2000/svg}"


def table(html: str, name: str) -> list[list[str]]:
    """The rows (header cell, then values) of the numbers table of chart `name`."""
    found = re.search(rf'<table class="compact chart-numbers" id="numbers-{name}">(.*?)</table>', html, re.S)
    assert found, f"no table of {name}"
    body = found.group(1).split("<tbody>")[1]
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def svg_of(html: str, name: str) -> ET.Element:
    found = re.search(rf'<figure class="chart-panel" id="panel-{name}">\s*(<svg.*?</svg>)', html, re.S)
    assert found, f"no chart {name}"
    return ET.fromstring(found.group(1))  # noqa: S314 - our own output


def download(client: Client, url: str) -> tuple[Any, list[dict[str, str]]]:
    response = client.get(url)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return response, list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def recent(app: App) -> list[Job]:
    """Builds of the last days, relative to now (the pages use the real clock)."""
    main = app.branches.get(name="main")
    today = timezone.localtime().replace(hour=0, minute=30, second=0, microsecond=0)
    rows = [
        (today - timedelta(days=2), S.SUCCEED, 4, 61),
        (today - timedelta(days=2, hours=-1), S.FAILED, 8, 95),
        (today - timedelta(days=2, hours=-2), S.SUCCEED, 2, 185.5),
        (today - timedelta(days=5), S.CANCELLED, 1, 5),
        (today, S.RUNNING, 3, None),
        (today, S.PENDING, None, None),
    ]
    return [make_job(main, created=c, status=s, queued=q, ran=r) for c, s, q, r in rows]


def test_the_build_charts_tables_and_csv_hold_the_same_numbers(app: App, recent: list[Job], viewer_client: Client) -> None:
    url = f"/apps/{app.app_id}/insights/"
    page = viewer_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    now = timezone.now()
    days = expected.days_ending_today(30, now)
    jobs = list(Job.objects.select_related("branch"))
    counts = expected.per_day(jobs, days)
    keys = ["succeeded", "failed", "cancelled", "skipped", "in_progress"]
    rows = table(html, "builds")
    assert len(rows) == 30
    assert [[int(cell) for cell in row[1:]] for row in rows] == [[counts[k][i] for k in keys] for i in range(30)]
    # Every bar's hover tip names its day and count; together they are the rows.
    tips = [t.text or "" for t in svg_of(html, "builds").iter(f"{SVG}title")][1:]
    assert sum(int(tip.split(": ")[1].split()[0]) for tip in tips) == len(jobs) == 6
    _, builds_csv = download(viewer_client, f"{url}?chart=builds&format=csv")
    assert [row["day"] for row in builds_csv] == [d.isoformat() for d in days]
    assert [[int(row[k]) for k in keys] for row in builds_csv] == [[counts[k][i] for k in keys] for i in range(30)]
    response, duration_csv = download(viewer_client, f"{url}?chart=duration&format=csv&days=30")
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{app.app_id}-duration-30d-' in response["Content-Disposition"]
    want = expected.timings(jobs, days, "duration")
    assert [row["median_seconds"] for row in duration_csv] == [str(round(v, 1)) if v is not None else "" for v in want["median"]]
    assert [row["p95_seconds"] for row in duration_csv] == [str(round(v, 1)) if v is not None else "" for v in want["p95"]]
    assert table(html, "duration")[-3][1:] == ["1m 35s", "2m 56s"]  # 61, 95, 185.5 s: median 95, p95 176.5
    _, rate_csv = download(viewer_client, f"{url}?chart=failure_rate&format=csv")
    rates = expected.failure_rates(jobs, days)
    assert [row["failure_rate_percent"] for row in rate_csv] == [str(round(r, 1)) if r is not None else "" for r in rates]
    _, queue_csv = download(viewer_client, f"{url}?chart=queue&format=csv")
    queue = expected.timings(jobs, days, "queue")
    assert [row["median_seconds"] for row in queue_csv] == [str(round(v, 1)) if v is not None else "" for v in queue["median"]]


def test_every_chart_is_an_image_named_by_its_title_with_a_csv_link(app: App, recent: list[Job], viewer_client: Client) -> None:
    html = viewer_client.get(f"/apps/{app.app_id}/insights/?days=7").content.decode()
    for name in ("builds", "duration", "queue", "failure_rate"):
        chart = svg_of(html, name)
        assert chart.get("role") == "img"
        title_id, desc_id = (chart.get("aria-labelledby") or "").split()
        assert chart.find(f"{SVG}title").get("id") == title_id  # type: ignore[union-attr]
        assert chart.find(f"{SVG}desc").get("id") == desc_id  # type: ignore[union-attr]
        assert f'href="/apps/{app.app_id}/insights/?days=7&amp;chart={name}&amp;format=csv"' in html
        assert len(table(html, name)) == 7


def test_the_branch_filter_narrows_the_duration_chart(app: App, recent: list[Job], viewer_client: Client) -> None:
    from apps.branches import services

    services.branch_connect(actor=None, app=app, name="dev")
    dev = app.branches.get(name="dev")
    make_job(dev, created=timezone.now() - timedelta(minutes=10), status=S.SUCCEED, queued=1, ran=999)
    url = f"/apps/{app.app_id}/insights/?days=7&branch=main"
    html = viewer_client.get(url).content.decode()
    assert "Build duration \N{EN DASH} main" in html
    assert "16m 39s" not in "".join(cell for row in table(html, "duration") for cell in row)
    response, rows = download(viewer_client, url + "&chart=duration&format=csv")
    assert f'filename="{app.app_id}-main-duration-7d-' in response["Content-Disposition"]
    assert "999.0" not in {row["median_seconds"] for row in rows}
    everything = viewer_client.get(f"/apps/{app.app_id}/insights/?days=7").content.decode()
    assert table(everything, "duration")[-1][1:] == ["16m 39s", "16m 39s"]
    assert [r[0] for r in table(everything, "branch_durations")] == ["dev", "main"]


def test_an_app_without_builds_says_how_to_start_one(app: App, viewer_client: Client) -> None:
    html = viewer_client.get(f"/apps/{app.app_id}/insights/").content.decode()
    assert "No builds in the last 30 days." in html
    assert "Start build" in html
    assert f'href="/apps/{app.app_id}/branches/main/"' in html
    assert "<svg" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=12", "Choose a range of 7, 30 or 90 days."),
        ("chart=pie&format=csv", "There is no chart &#x27;pie&#x27; here"),
        ("format=csv", "Name the chart whose numbers to download"),
        ("format=xlsx&chart=builds", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_saying_why(app: App, recent: list[Job], viewer_client: Client, query: str, message: str) -> None:
    before = list(Job.objects.values())
    response = viewer_client.get(f"/apps/{app.app_id}/insights/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert list(Job.objects.values()) == before


def test_the_app_navigation_links_to_insights(app: App, viewer_client: Client) -> None:
    html = viewer_client.get(f"/apps/{app.app_id}/insights/").content.decode()
    assert f'<a href="/apps/{app.app_id}/insights/" aria-current="page">Insights</a>' in html
    assert f'href="/apps/{app.app_id}/insights/"' in viewer_client.get(f"/apps/{app.app_id}/").content.decode()


def test_the_sandbox_insights_page_its_tables_and_csv(db: None, viewer_client: Client) -> None:
    now = timezone.now()
    rows = [
        make_sandbox("alice", first_seen=now - timedelta(days=40), last_updated=now - timedelta(days=30)),
        make_sandbox("alice", first_seen=now - timedelta(days=3), last_updated=now - timedelta(hours=5)),
        make_sandbox("bob", first_seen=now - timedelta(days=20), last_updated=now - timedelta(days=9)),
        make_sandbox("bob", first_seen=now - timedelta(days=20), last_updated=now - timedelta(days=19), deleted_at=now),
    ]
    inventory = viewer_client.get("/sandboxes/").content.decode()
    assert 'href="/sandboxes/insights/"' in inventory
    page = viewer_client.get("/sandboxes/insights/?days=7")
    assert page.status_code == 200
    html = page.content.decode()
    assert "updated in the last 7 days" in html
    assert "none for 14 days or more" in html
    policy = InventorySettings.load()
    owners = expected.by_owner(rows, policy, timezone.now())
    assert owners == {"alice": {"stale": 1, "fresh": 1}, "bob": {"idle": 1}}
    assert table(html, "owners") == [["alice", "1", "0", "1"], ["bob", "0", "1", "0"]]
    _, owners_csv = download(viewer_client, "/sandboxes/insights/?chart=owners&format=csv")
    assert owners_csv == [
        {"owner": "alice", "fresh": "1", "idle": "0", "stale": "1"},
        {"owner": "bob", "fresh": "0", "idle": "1", "stale": "0"},
    ]
    days = expected.days_ending_today(7, now)
    want = expected.live_and_stale(list(Sandbox.objects.all()), policy, days, timezone.now())
    assert [[int(c) for c in row[1:]] for row in table(html, "stale")] == [[want["live"][i], want["stale"][i]] for i in range(7)]
    response, stale_csv = download(viewer_client, "/sandboxes/insights/?days=7&chart=stale&format=csv")
    assert 'filename="sandboxes-stale-7d-' in response["Content-Disposition"]
    assert [(int(r["live"]), int(r["stale"])) for r in stale_csv] == list(zip(want["live"], want["stale"], strict=True))
    # Yesterday bob's deleted sandbox was still there, and stale.
    assert stale_csv[-2] == {"day": days[-2].isoformat(), "live": "4", "stale": "2"}
    assert stale_csv[-1] == {"day": days[-1].isoformat(), "live": "3", "stale": "1"}


def test_an_empty_inventory_says_so(db: None, viewer_client: Client) -> None:
    html = viewer_client.get("/sandboxes/insights/").content.decode()
    assert "No sandboxes in the inventory." in html


def test_sandbox_insights_refuse_an_unknown_chart(db: None, viewer_client: Client) -> None:
    response = viewer_client.get("/sandboxes/insights/?chart=builds&format=csv")
    assert response.status_code == 400
    assert "There is no chart &#x27;builds&#x27; here: choose one of owners, stale." in response.content.decode()


@pytest.mark.parametrize("path", ["/apps/{app}/insights/?chart=builds&format=csv", "/sandboxes/insights/?chart=stale&format=csv"])
def test_the_csv_downloads_need_sign_in_and_a_role(app: App, recent: list[Job], path: str, roleless_user: Any) -> None:
    url = path.format(app=app.app_id)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    roleless = Client()
    roleless.force_login(roleless_user)
    assert roleless.get(url).status_code == 403
