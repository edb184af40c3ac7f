"""An app's build charts: the numbers equal those computed straight from the job rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.insights.build_charts import build_insights
from apps.insights.series import ChartData, DayRange
from apps.insights.tests import expected
from apps.insights.tests.factories import make_job

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
S = Job.Status


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def assert_series(chart: ChartData, want: dict[str, list[float | None]]) -> None:
    assert [s.key for s in chart.series] == list(want)
    for series in chart.series:
        assert series.values == pytest.approx(want[series.key]), series.key


@pytest.fixture
def branches(app: App) -> tuple[Branch, Branch]:
    services.branch_connect(actor=None, app=app, name="dev")
    return app.branches.get(name="main"), app.branches.get(name="dev")


@pytest.fixture
def history(branches: tuple[Branch, Branch]) -> list[Job]:
    """A week of builds on two branches: every result, days with none, some still queued or running."""
    main, dev = branches
    rows = [
        (main, at(13, 23, 59), S.SUCCEED, 1, 30),  # the day before a 7-day range
        (main, at(14, 0, 0), S.SUCCEED, 5, 100),
        (main, at(14, 9), S.FAILED, 20, 50),
        (dev, at(14, 10), S.SUCCEED, 2, 300),
        (main, at(17, 8), S.CANCELLED, 3, 10),
        (main, at(17, 9), S.SUCCEED, 1, 200),
        (main, at(17, 10), S.SUCCEED, 9, 400),
        (main, at(17, 11), S.SUCCEED, 7, 120),
        (dev, at(17, 12), S.FAILED, 30, 60),
        (dev, at(18, 12), S.SUCCEED, 12, 90),
        (dev, at(18, 13), S.SKIPPED, None, None),  # [skip-cd]: counted, never timed
        (main, at(20, 14), S.RUNNING, 4, None),
        (main, at(20, 14, 30), S.PENDING, None, None),
        (dev, at(20, 14, 40), S.CREATED, None, None),
    ]
    return [make_job(b, created=c, status=s, queued=q, ran=r) for b, c, s, q, r in rows]


def test_builds_per_day_by_result_equal_the_rows_and_empty_days_are_zero(app: App, history: list[Job]) -> None:
    insights = build_insights(app, DayRange.last(7, now=NOW))
    days = expected.days_ending_today(7, NOW)
    want = expected.per_day(Job.objects.select_related("branch"), days)
    assert {s.key: s.values for s in insights.per_day.series} == want
    assert insights.per_day.categories == [d.isoformat() for d in days]
    assert insights.per_day.labels[0] == "Sat 14 Mar"
    # Mar 15, 16 and 19 had none: shown, as zeros.
    assert [sum(s.values[i] or 0 for s in insights.per_day.series) for i in range(7)] == [3, 0, 0, 5, 2, 0, 3]
    assert insights.total == 13  # the job of the 13th is outside the range
    assert insights.totals == {"succeeded": 6, "failed": 2, "cancelled": 1, "skipped": 1, "in_progress": 3}


def test_durations_median_and_p95_per_day_all_branches_and_one(app: App, history: list[Job]) -> None:
    days = expected.days_ending_today(7, NOW)
    jobs = list(Job.objects.select_related("branch"))
    everything = build_insights(app, DayRange.last(7, now=NOW))
    assert_series(everything.duration, expected.timings(jobs, days, "duration"))
    main = app.branches.get(name="main")
    only_main = build_insights(app, DayRange.last(7, now=NOW), branch=main)
    want = expected.timings(jobs, days, "duration", branch="main")
    assert_series(only_main.duration, want)
    # Mar 17 on main: 200, 400 and 120 s (the cancelled build is no duration): median 200, p95 380.
    assert want["median"][3] == 200
    assert want["p95"][3] == pytest.approx(380)
    assert only_main.duration.title == "Build duration \N{EN DASH} main"
    # The running and queued builds of today have no duration: no value, not a zero.
    assert only_main.duration.series[0].values[6] is None


def test_queue_time_counts_every_started_build(app: App, history: list[Job]) -> None:
    days = expected.days_ending_today(7, NOW)
    insights = build_insights(app, DayRange.last(7, now=NOW))
    want = expected.timings(Job.objects.select_related("branch"), days, "queue")
    assert_series(insights.queue, want)
    assert want["median"][6] == 4  # today: only the running build has started


def test_failure_rate_is_failed_of_succeeded_or_failed(app: App, history: list[Job]) -> None:
    days = expected.days_ending_today(7, NOW)
    insights = build_insights(app, DayRange.last(7, now=NOW))
    rates = insights.failure_rate.series[0].values
    assert rates == pytest.approx(expected.failure_rates(Job.objects.all(), days))
    assert rates[0] == pytest.approx(100 / 3)
    assert rates[3] == 25
    assert rates[4] == 0
    assert rates[6] is None
    assert insights.overall_failure_rate == pytest.approx(25)


def test_duration_by_branch_over_the_whole_range(app: App, history: list[Job]) -> None:
    chart = build_insights(app, DayRange.last(7, now=NOW)).by_branch
    assert chart.categories == ["dev", "main"]
    assert chart.series[0].values == [90, 120]  # dev: 60, 90, 300; main: 50, 100, 120, 200, 400
    assert chart.series[1].values == pytest.approx([279, 360])


def test_a_single_build_is_its_own_median_and_p95(app: App) -> None:
    make_job(app.branches.get(name="main"), created=at(20, 9), status=S.SUCCEED, queued=3, ran=42)
    insights = build_insights(app, DayRange.last(7, now=NOW))
    assert [s.values[-1] for s in insights.duration.series] == [42, 42]
    assert [s.values[-1] for s in insights.queue.series] == [3, 3]
    assert insights.failure_rate.series[0].values[-1] == 0


def test_no_builds_gives_zeros_and_no_values(app: App) -> None:
    insights = build_insights(app, DayRange.last(30, now=NOW))
    assert insights.total == 0
    assert insights.per_day.is_empty
    assert all(v == 0 for s in insights.per_day.series for v in s.values)
    assert len(insights.per_day.categories) == 30
    assert all(v is None for s in insights.duration.series + insights.queue.series for v in s.values)


def test_days_are_the_consoles_time_zones(app: App, settings: object) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"  # type: ignore[attr-defined]  # UTC+9: NOW is 00:00 on the 21st there
    main = app.branches.get(name="main")
    late = make_job(main, created=at(19, 14, 59), status=S.SUCCEED, queued=1, ran=10)  # 23:59 on the 19th
    early = make_job(main, created=at(19, 15, 0), status=S.FAILED, queued=1, ran=10)  # 00:00 on the 20th
    before = make_job(main, created=at(14, 14, 59), status=S.FAILED, queued=1, ran=10)  # 23:59 on the 14th: out
    days = DayRange.last(7, now=NOW)
    assert days.first.isoformat() == "2026-03-15"
    assert days.start == datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
    insights = build_insights(app, days)
    want = expected.per_day([late, early, before], expected.days_ending_today(7, NOW))
    assert {s.key: s.values for s in insights.per_day.series} == want
    assert want["succeeded"][4] == 1
    assert want["failed"][5] == 1
    assert sum(want["failed"]) == 1
    assert timezone.localdate(NOW).isoformat() == "2026-03-21"


def test_the_two_ways_of_taking_percentiles_are_compared_exactly() -> None:
    """benchmarks/bench_insights.py checks percentile_cont against the fallback with `agree`."""
    from apps.insights.percentiles import Timings, agree

    one = Timings(duration={NOW.date(): (1.0, 2.0)}, queue={}, by_branch={7: (3.0, None)})
    assert agree(one, Timings(duration={NOW.date(): (1.0, 2.0000000001)}, queue={}, by_branch={7: (3.0, None)}))
    assert not agree(one, Timings(duration={NOW.date(): (1.0, 2.1)}, queue={}, by_branch={7: (3.0, None)}))
    assert not agree(one, Timings(duration={}, queue={}, by_branch={7: (3.0, None)}))
    assert not agree(one, Timings(duration={NOW.date(): (1.0, 2.0)}, queue={}, by_branch={7: (3.0, 4.0)}))
