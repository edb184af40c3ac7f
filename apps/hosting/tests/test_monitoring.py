"""Monitoring: traffic series from the access log, the page and its charts, the access-log
download, and the trimming of old records."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from apps.branches import services
from apps.branches.models import App, Branch
from apps.hosting import access_log, monitoring
from apps.hosting.models import AccessLogEntry
from apps.hosting.monitoring import DAY, WEEK
from apps.hosting.tasks import trim_access_logs

NOW = datetime(2026, 3, 10, 14, 25, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, micro, tzinfo=UTC)


def hit(branch: Branch, time: datetime, status: int = 200, *, path: str = "/", size: int = 100, user_agent: str = "test") -> None:
    access_log.record(
        access_log.Hit(
            time=time,
            app_id=branch.app_id,
            branch_id=branch.pk,
            branch_name=branch.name,
            method="GET",
            host=f"{branch.hostname_label}.{branch.app.app_id}.localhost",
            path=path,
            status=status,
            bytes_sent=size,
            duration_ms=1.25,
            client_ip="127.0.0.1",
            user_agent=user_agent,
        )
    )


@pytest.fixture
def main(app: App) -> Branch:
    return app.branches.get(name="main")


@pytest.fixture
def dev(app: App) -> Branch:
    return services.branch_connect(actor=None, app=app, name="dev")


def counts(traffic: monitoring.Traffic, metric: str = "requests") -> dict[str, int]:
    """The non-zero buckets, by local start time."""
    return {f"{start:%d %H:%M}": value for start, value in traffic.series(metric) if value}


# --- The series


def test_a_day_is_24_hour_buckets_with_the_quiet_hours_zero(main: Branch) -> None:
    hit(main, at(10, 10, 5))
    hit(main, at(10, 10, 59, 59), 404, size=50)
    hit(main, at(10, 12, 30), 500, size=7)
    hit(main, at(9, 15) - timedelta(microseconds=1))  # just before the window
    hit(main, at(9, 15))  # its first instant
    hit(main, at(10, 15))  # in the future, past the current hour
    access_log.flush()

    traffic = monitoring.traffic(main.app, window=DAY, now=NOW)

    starts = [start for start, _ in traffic.series("requests")]
    assert len(starts) == 24
    assert (starts[0], starts[-1]) == (at(9, 15), at(10, 14))
    assert all(later - earlier == timedelta(hours=1) for earlier, later in itertools.pairwise(starts))
    assert counts(traffic) == {"09 15:00": 1, "10 10:00": 2, "10 12:00": 1}
    assert counts(traffic, "bytes_sent") == {"09 15:00": 100, "10 10:00": 150, "10 12:00": 7}
    assert traffic.total("requests") == 4
    assert (traffic.start, traffic.end) == (at(9, 15), at(10, 15))


def test_4xx_and_5xx_are_counted_apart(main: Branch) -> None:
    for status in (200, 301, 399, 400, 404, 499, 500, 503):
        hit(main, at(10, 13, 10), status)
    access_log.flush()

    traffic = monitoring.traffic(main.app, window=DAY, now=NOW)

    assert counts(traffic, "client_errors") == {"10 13:00": 3}
    assert counts(traffic, "server_errors") == {"10 13:00": 2}
    assert counts(traffic) == {"10 13:00": 8}


def test_a_week_is_six_hour_buckets_on_the_local_clock(main: Branch) -> None:
    hit(main, at(5, 6))
    hit(main, at(5, 11, 59), 404)
    hit(main, at(5, 12))
    hit(main, at(3, 12))  # the first bucket starts before now minus 7 days, at 12:00
    hit(main, at(3, 11, 59))  # before it
    access_log.flush()

    traffic = monitoring.traffic(main.app, window=WEEK, now=NOW)

    buckets = traffic.buckets
    assert len(buckets) == 29
    assert (buckets[0].start, buckets[-1].start) == (at(3, 12), at(10, 12))
    assert [bucket.hours for bucket in buckets] == [6] * 28 + [3]  # the current one runs to 14:59
    assert counts(traffic) == {"03 12:00": 1, "05 06:00": 2, "05 12:00": 1}
    assert counts(traffic, "client_errors") == {"05 06:00": 1}


def test_one_branch_or_all(main: Branch, dev: Branch) -> None:
    hit(main, at(10, 9))
    hit(dev, at(10, 9), 503)
    hit(dev, at(10, 11))
    access_log.flush()

    assert counts(monitoring.traffic(main.app, window=DAY, now=NOW)) == {"10 09:00": 2, "10 11:00": 1}
    assert counts(monitoring.traffic(main.app, window=DAY, branch=dev, now=NOW)) == {"10 09:00": 1, "10 11:00": 1}
    only_main = monitoring.traffic(main.app, window=DAY, branch=main, now=NOW)
    assert (counts(only_main), only_main.total("server_errors")) == ({"10 09:00": 1}, 0)


def test_another_apps_traffic_is_not_counted(main: Branch, repo: Any) -> None:
    other = services.app_create(actor=None, name="Other", repository=str(repo), production_branch="main")
    hit(other.branches.get(name="main"), at(10, 9))
    access_log.flush()
    assert monitoring.traffic(main.app, window=DAY, now=NOW).total("requests") == 0


def test_the_series_is_one_query(main: Branch, django_assert_num_queries: Any) -> None:
    for day in range(3, 11):
        hit(main, at(day, 13))
    access_log.flush()
    with django_assert_num_queries(1):
        traffic = monitoring.traffic(main.app, window=WEEK, now=NOW)
    assert traffic.total("requests") == 8


def test_hours_are_the_local_clocks_even_at_a_half_hour_offset(main: Branch) -> None:
    hit(main, at(10, 10, 20))  # 15:50 in Kolkata (UTC+5:30): the 15:00 hour, which began 09:30 UTC
    hit(main, at(10, 9, 29))  # 14:59 there
    access_log.flush()
    with timezone.override("Asia/Kolkata"):
        traffic = monitoring.traffic(main.app, window=DAY, now=NOW)
        assert counts(traffic) == {"10 14:00": 1, "10 15:00": 1}
        assert traffic.buckets[-1].start == at(10, 13, 30)  # 19:00 local, the current hour


def test_the_hour_repeated_when_clocks_go_back_is_one_bucket(main: Branch) -> None:
    # Berlin, 25 October 2026: at 03:00 summer time (01:00 UTC) the clocks show 02:00 again.
    hit(main, at(25, 0, 30, month=10))  # 02:30 summer time
    hit(main, at(25, 1, 30, month=10))  # 02:30 winter time
    access_log.flush()
    with timezone.override("Europe/Berlin"):
        traffic = monitoring.traffic(main.app, window=DAY, now=at(25, 12, month=10))
    assert len(traffic.buckets) == 23  # 24 hours, two of them on the same wall clock
    twice = next(bucket for bucket in traffic.buckets if bucket.hours == 2)
    assert (f"{twice.start:%H:%M}", twice.requests) == ("02:00", 2)


# --- The page


def monitoring_url(app: App, **query: str) -> str:
    url = reverse("hosting_monitoring", args=[app.app_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_page_draws_four_charts_with_their_numbers(main: Branch, viewer_client: Client) -> None:
    now = timezone.now()
    hit(main, now - timedelta(minutes=5), size=2048)
    hit(main, now - timedelta(minutes=4), 404)
    hit(main, now - timedelta(minutes=3), 502)
    access_log.flush()

    page = viewer_client.get(monitoring_url(main.app))

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<svg class="chart') == 4
    assert html.count('role="img"') == 4
    for label in ("Requests, ", "Data transferred, ", "4xx errors, ", "5xx errors, "):
        assert f'aria-label="{label}' in html
    assert "3 in total" in html
    charts = page.context["panels"]
    assert [panel.metric for panel in charts] == ["requests", "bytes_sent", "client_errors", "server_errors"]
    assert [panel.chart.total for panel in charts] == ["3", "2.2 KB", "1", "1"]
    assert html.count('<table class="compact chart-numbers">') == 4
    assert [len(panel.chart.rows) for panel in charts] == [24] * 4
    assert f'href="{escape(monitoring_url(main.app, window="24h", branch="", csv="requests"))}"' in html


def test_the_page_filters_by_window_and_branch(main: Branch, dev: Branch, viewer_client: Client) -> None:
    hit(dev, timezone.now() - timedelta(days=3))
    access_log.flush()
    app = main.app

    assert "No requests in the last 24 hours" in viewer_client.get(monitoring_url(app)).content.decode()
    week = viewer_client.get(monitoring_url(app, window="7d"))
    assert week.context["traffic"].total("requests") == 1
    # 7 days of 6-hour buckets, plus the current one still filling unless the week ends on a bucket's edge.
    assert len(week.context["panels"][0].chart.rows) in (28, 29)
    assert viewer_client.get(monitoring_url(app, window="7d", branch="dev")).context["traffic"].total("requests") == 1
    only_main = viewer_client.get(monitoring_url(app, window="7d", branch="main")).content.decode()
    assert "No requests to branch main in the last 7 days" in only_main


def test_an_unknown_branch_or_window_is_refused(main: Branch, viewer_client: Client) -> None:
    assert viewer_client.get(monitoring_url(main.app, branch="gone")).status_code == 400
    assert viewer_client.get(monitoring_url(main.app, window="1y")).status_code == 400


def test_without_traffic_the_page_says_to_open_the_branch_url(main: Branch, viewer_client: Client) -> None:
    html = viewer_client.get(monitoring_url(main.app)).content.decode()
    assert "<svg" not in html
    assert "No branch is deployed yet" in html
    Branch.objects.filter(pk=main.pk).update(live_deployment=_deployment(main))
    html = viewer_client.get(monitoring_url(main.app)).content.decode()
    assert "Open a branch URL" in html
    assert f'href="{main.url}"' in html


def _deployment(branch: Branch) -> Any:
    from apps.builds.models import Job
    from apps.hosting.models import Deployment

    job = Job.objects.create(branch=branch, job_id=1, job_type=Job.Type.MANUAL, status=Job.Status.SUCCEED)
    return Deployment.objects.create(branch=branch, job=job)


def test_an_htmx_request_gets_only_the_charts(main: Branch, viewer_client: Client) -> None:
    hit(main, timezone.now() - timedelta(minutes=1))
    access_log.flush()
    fragment = viewer_client.get(monitoring_url(main.app, window="7d"), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.count("<svg") == 4
    assert "<h1>" not in fragment
    assert "Access logs" not in fragment


def test_a_chart_downloads_as_csv(main: Branch, viewer_client: Client) -> None:
    hit(main, timezone.now(), 404)
    access_log.flush()
    response = viewer_client.get(monitoring_url(main.app, csv="client_errors"))
    rows = csv_rows(response)
    assert rows[0] == ["start", "hours", "client_errors"]
    assert len(rows) == 25
    assert [row[2] for row in rows[1:]] == ["0"] * 23 + ["1"]
    assert datetime.fromisoformat(rows[-1][0]) == timezone.now().replace(minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("name", ["hosting_monitoring", "hosting_access_logs"])
def test_anyone_signed_out_is_sent_to_sign_in(name: str, app: App, outsider_client: Client) -> None:
    response = outsider_client.get(reverse(name, args=[app.app_id]))
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_may_read_and_download(role: str, main: Branch, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(f"{role}_client")
    assert client.get(monitoring_url(main.app)).status_code == 200
    url = reverse("hosting_access_logs", args=[main.app.app_id])
    assert client.get(url).status_code == 200
    download = client.get(url, {"start": "2026-03-10T12:00:00Z", "end": "2026-03-10T13:00:00Z"})
    assert (download.status_code, download["Content-Type"]) == (200, "text/csv; charset=utf-8")


def test_the_sidebar_links_to_monitoring(main: Branch, viewer_client: Client) -> None:
    html = viewer_client.get(reverse("app_overview", args=[main.app.app_id])).content.decode()
    assert f'href="{monitoring_url(main.app)}"' in html


# --- The access-log download


def download(client: Client, app: App, **query: str) -> Any:
    return client.get(reverse("hosting_access_logs", args=[app.app_id]), query)


def csv_rows(response: Any) -> list[list[str]]:
    assert response.streaming  # never built whole in memory
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_holds_exactly_the_requests_of_the_window(main: Branch, dev: Branch, viewer_client: Client, repo: Any) -> None:
    start, end = at(10, 12), at(10, 13)
    hit(main, start - timedelta(microseconds=1), path="/before")
    hit(main, end - timedelta(milliseconds=1), path="/last")
    hit(dev, start, 404, path="/first")
    hit(main, at(10, 12, 30), path="/middle")
    hit(main, end, path="/at-end")
    other = services.app_create(actor=None, name="Other", repository=str(repo), production_branch="main")
    hit(other.branches.get(name="main"), at(10, 12, 30), path="/other-app")
    access_log.flush()

    rows = csv_rows(download(viewer_client, main.app, start="2026-03-10T12:00:00Z", end="2026-03-10T13:00:00Z"))

    assert rows[0] == ["time", "branch", "method", "host", "path", "status", "bytes", "duration_ms", "client_ip", "user_agent"]
    assert [row[4] for row in rows[1:]] == ["/first", "/middle", "/last"]
    assert rows[1] == [
        "2026-03-10T12:00:00.000Z",
        "dev",
        "GET",
        f"dev.{main.app.app_id}.localhost",
        "/first",
        "404",
        "100",
        "1.25",
        "127.0.0.1",
        "test",
    ]
    assert rows[3][0] == "2026-03-10T12:59:59.999Z"
    only_main = csv_rows(
        download(viewer_client, main.app, start="2026-03-10T12:00:00Z", end="2026-03-10T13:00:00Z", branch="main")
    )
    assert [row[4] for row in only_main[1:]] == ["/middle", "/last"]


def test_the_window_is_read_in_the_console_time_zone(main: Branch, viewer_client: Client, settings: Any) -> None:
    hit(main, at(10, 11, 30), path="/in")
    access_log.flush()
    with timezone.override("Europe/Paris"):  # UTC+1 in March: 12:00 there is 11:00 UTC
        rows = csv_rows(download(viewer_client, main.app, start="2026-03-10T12:00", end="2026-03-10T13:00"))
    assert [row[4] for row in rows[1:]] == ["/in"]


def test_cells_that_a_spreadsheet_would_run_are_made_inert(main: Branch, viewer_client: Client) -> None:
    hit(main, at(10, 12, 1), user_agent='=HYPERLINK("http://evil.example","x")', path="/@x")
    access_log.flush()
    rows = csv_rows(download(viewer_client, main.app, start="2026-03-10T12:00:00Z", end="2026-03-10T13:00:00Z"))
    assert rows[1][9] == '\'=HYPERLINK("http://evil.example","x")'


def test_more_than_seven_days_is_refused_with_a_message(main: Branch, viewer_client: Client) -> None:
    hit(main, at(5, 12))
    access_log.flush()
    refused = download(viewer_client, main.app, start="2026-03-01T00:00:00Z", end="2026-03-08T00:00:01Z")
    assert refused.status_code == 400
    assert "at most 7 days at a time" in refused.content.decode()
    assert "text/html" in refused["Content-Type"]
    week = download(viewer_client, main.app, start="2026-03-01T00:00:00Z", end="2026-03-08T00:00:00Z")
    assert [row[0] for row in csv_rows(week)[1:]] == ["2026-03-05T12:00:00.000Z"]
    with pytest.raises(ValueError, match="at most 7 days"):
        monitoring.access_log_rows(main.app, start=at(1, 0), end=at(9, 0))


def test_an_end_before_the_start_or_no_dates_are_refused(main: Branch, viewer_client: Client) -> None:
    backwards = download(viewer_client, main.app, start="2026-03-10T12:00:00Z", end="2026-03-10T12:00:00Z")
    assert (backwards.status_code, "Choose an end after the start." in backwards.content.decode()) == (400, True)
    assert download(viewer_client, main.app, start="yesterday", end="").status_code == 400


def test_the_form_offers_the_last_hour(main: Branch, viewer_client: Client) -> None:
    page = viewer_client.get(reverse("hosting_access_logs", args=[main.app.app_id]))
    initial = page.context["log_form"].initial
    assert initial["end"] - initial["start"] == timedelta(hours=1)
    assert timezone.now() < initial["end"] <= timezone.now() + timedelta(minutes=1)
    assert 'type="datetime-local"' in page.content.decode()


# --- Retention


def test_trim_access_logs_deletes_only_records_past_the_retention(main: Branch, settings: Any) -> None:
    settings.HOSTING_ACCESS_LOG_DAYS = 30
    now = timezone.now()
    hit(main, now - timedelta(days=30, minutes=1), path="/old")
    hit(main, now - timedelta(days=29, hours=23), path="/kept")
    hit(main, now, path="/new")
    access_log.flush()

    assert trim_access_logs() == 1
    assert sorted(AccessLogEntry.objects.values_list("path", flat=True)) == ["/kept", "/new"]
