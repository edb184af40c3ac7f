"""An app's builds over the last N days, as charts: builds per day by result, build duration
(median and p95) over time for one branch or all, queue time (created -> running), and
the failure rate.

Days are the console's time zone's (TIME_ZONE), a job counted on the day it was created.
Counts are grouped by the database (TruncDate, conditional Count). Percentiles need the
values: one query fetches, per job that started, only its day, branch, status and two
intervals (duration, queue time), computed by the database; Python sorts them per day.
(Measured against Postgres' percentile_cont in benchmarks/bench_insights.py.)"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.selectors import app_jobs
from apps.insights.series import ChartData, DayRange, Series, day_label, percentile

S = Job.Status
# (series key, label, which statuses, tone): how a day's builds are split, bottom up.
RESULTS = (
    ("succeeded", "Succeeded", (S.SUCCEED,), "ok"),
    ("failed", "Failed", (S.FAILED,), "bad"),
    ("cancelled", "Cancelled", (S.CANCELLED,), "muted"),
    ("in_progress", "Queued or running", (*Job.WAITING, *Job.ACTIVE), "info"),
)
# A duration is a build's run from start to end; cancelled ones were cut short, so only these.
TIMED = (S.SUCCEED, S.FAILED)
MEDIAN, P95 = 0.5, 0.95


@dataclass(frozen=True)
class BranchDuration:
    branch: str
    builds: int
    median: float | None
    p95: float | None


@dataclass(frozen=True)
class BuildInsights:
    days: DayRange
    branch: Branch | None  # the duration chart's branch; None: all of them
    per_day: ChartData
    duration: ChartData
    queue: ChartData
    failure_rate: ChartData
    by_branch: ChartData  # median and p95 per branch over the whole range (a table, no chart)
    total: int
    totals: dict[str, int]  # per RESULTS key

    @property
    def overall_failure_rate(self) -> float | None:
        ended = self.totals["succeeded"] + self.totals["failed"]
        return 100 * self.totals["failed"] / ended if ended else None

    def charts(self) -> dict[str, ChartData]:
        return {c.name: c for c in (self.per_day, self.duration, self.queue, self.failure_rate, self.by_branch)}


def build_insights(app: App, days: DayRange, branch: Branch | None = None) -> BuildInsights:
    jobs = app_jobs(app).filter(created_at__gte=days.start, created_at__lt=days.end)
    counts = _counts_per_day(jobs)
    timings = _timings(jobs)
    dates, labels = [d.isoformat() for d in days.dates], [day_label(d) for d in days.dates]

    def chart(name: str, title: str, unit: str, series: list[Series]) -> ChartData:
        return ChartData(name, title, unit, "Day", dates, labels, series)

    per_day = chart(
        "builds",
        "Builds per day",
        "count",
        [Series(key, label, [counts[d][key] for d in days.dates], tone) for key, label, _, tone in RESULTS],
    )
    chosen = [t for t in timings if branch is None or t.branch_id == branch.pk]
    durations = _by_day((t.day, t.duration) for t in chosen if t.duration is not None)
    waits = _by_day((t.day, t.wait) for t in timings if t.wait is not None)
    where = f" \N{EN DASH} {branch.name}" if branch else ""
    return BuildInsights(
        days=days,
        branch=branch,
        per_day=per_day,
        duration=chart("duration", f"Build duration{where}", "seconds", _percentile_series(days.dates, durations)),
        queue=chart("queue", "Queue time (created to running)", "seconds", _percentile_series(days.dates, waits)),
        failure_rate=chart("failure_rate", "Failure rate", "percent", [_failure_rates(days.dates, counts)]),
        by_branch=_by_branch(app, timings),
        total=sum(sum(c.values()) for c in counts.values()),
        totals={key: sum(counts[d][key] for d in days.dates) for key, *_ in RESULTS},
    )


def _counts_per_day(jobs: QuerySet[Job]) -> defaultdict[date, dict[str, int]]:
    """day -> {result: jobs}, one GROUP BY; days without jobs read as zeros."""
    grouped = (
        jobs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**{key: Count("pk", filter=Q(status__in=statuses)) for key, _, statuses, _ in RESULTS})
    )
    rows = cast(Iterable[dict[str, Any]], grouped)  # the result keys are built, not literal
    zeros = {key: 0 for key, *_ in RESULTS}
    counts: defaultdict[date, dict[str, int]] = defaultdict(lambda: dict(zeros))
    for row in rows:
        counts[row["day"]] = {key: row[key] for key in zeros}
    return counts


@dataclass(frozen=True)
class _Timing:
    day: date
    branch_id: int
    duration: float | None  # seconds from start to end (succeeded or failed builds)
    wait: float  # seconds from created to started


def _timings(jobs: QuerySet[Job]) -> list[_Timing]:
    rows = (
        jobs.filter(started_at__isnull=False)
        .annotate(
            day=TruncDate("created_at"),
            run=ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField()),
            queued=ExpressionWrapper(F("started_at") - F("created_at"), output_field=DurationField()),
        )
        .values_list("day", "branch_id", "status", "run", "queued")
    )
    return [
        _Timing(day, branch_id, _seconds(run) if status in TIMED else None, max(_seconds(queued) or 0.0, 0.0))
        for day, branch_id, status, run, queued in rows
    ]


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _by_day(pairs: Iterable[tuple[date, float]]) -> dict[date, list[float]]:
    grouped: dict[date, list[float]] = defaultdict(list)
    for day, seconds in pairs:
        grouped[day].append(seconds)
    return grouped


def _percentile_series(dates: list[date], values: dict[date, list[float]]) -> list[Series]:
    return [
        Series("median", "Median", [percentile(values.get(d, []), MEDIAN) for d in dates], "accent"),
        Series("p95", "95th percentile", [percentile(values.get(d, []), P95) for d in dates], "warn"),
    ]


def _failure_rates(dates: list[date], counts: defaultdict[date, dict[str, int]]) -> Series:
    """Failed of the builds that ended succeeded or failed, per day (cancelled ones are neither)."""
    rates: list[float | None] = []
    for d in dates:
        ended = counts[d]["succeeded"] + counts[d]["failed"]
        rates.append(100 * counts[d]["failed"] / ended if ended else None)
    return Series("failure_rate", "Failed builds", rates, "bad")


def _by_branch(app: App, timings: list[_Timing]) -> ChartData:
    names = dict(app.branches.order_by("name").values_list("pk", "name"))
    durations: dict[int, list[float]] = {pk: [] for pk in names}
    for timing in timings:
        if timing.duration is not None and timing.branch_id in durations:
            durations[timing.branch_id].append(timing.duration)
    rows = [BranchDuration(names[pk], len(v), percentile(v, MEDIAN), percentile(v, P95)) for pk, v in durations.items()]
    return ChartData(
        "branch_durations",
        "Build duration by branch",
        "seconds",
        "Branch",
        [r.branch for r in rows],
        [r.branch for r in rows],
        [
            Series("median", "Median", [r.median for r in rows], "accent"),
            Series("p95", "95th percentile", [r.p95 for r in rows], "warn"),
        ],
    )
