"""An app's builds over the last N days, as charts: builds per day by result, build duration
(median and p95) over time for one branch or all, queue time (created -> running), and
the failure rate.

Days are the console's time zone's (TIME_ZONE), a job counted on the day it was created.
Counts are grouped by the database (TruncDate, conditional Count); the percentiles come
from apps.insights.percentiles (percentile_cont on Postgres)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.selectors import app_jobs
from apps.insights.percentiles import Pair, timings
from apps.insights.series import ChartData, DayRange, Series, day_label

S = Job.Status
# (series key, label, which statuses, tone): how a day's builds are split, bottom up.
RESULTS = (
    ("succeeded", "Succeeded", (S.SUCCEED,), "ok"),
    ("failed", "Failed", (S.FAILED,), "bad"),
    ("cancelled", "Cancelled", (S.CANCELLED,), "muted"),
    ("skipped", "Skipped", (S.SKIPPED,), "skip"),
    ("in_progress", "Queued or running", (*Job.WAITING, *Job.ACTIVE), "info"),
)


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
    measured = timings(jobs, branch.pk if branch else None)
    dates, labels = [d.isoformat() for d in days.dates], [day_label(d) for d in days.dates]

    def chart(name: str, title: str, unit: str, series: list[Series]) -> ChartData:
        return ChartData(name, title, unit, "Day", dates, labels, series)

    per_day = chart(
        "builds",
        "Builds per day",
        "count",
        [Series(key, label, [counts[d][key] for d in days.dates], tone) for key, label, _, tone in RESULTS],
    )
    where = f" \N{EN DASH} {branch.name}" if branch else ""
    return BuildInsights(
        days=days,
        branch=branch,
        per_day=per_day,
        duration=chart("duration", f"Build duration{where}", "seconds", _percentile_series(days.dates, measured.duration)),
        queue=chart("queue", "Queue time (created to running)", "seconds", _percentile_series(days.dates, measured.queue)),
        failure_rate=chart("failure_rate", "Failure rate", "percent", [_failure_rates(days.dates, counts)]),
        by_branch=_by_branch(app, measured.by_branch),
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


def _percentile_series(dates: list[date], pairs: dict[date, Pair]) -> list[Series]:
    none: Pair = (None, None)
    return [
        Series("median", "Median", [pairs.get(d, none)[0] for d in dates], "accent"),
        Series("p95", "95th percentile", [pairs.get(d, none)[1] for d in dates], "warn"),
    ]


def _failure_rates(dates: list[date], counts: defaultdict[date, dict[str, int]]) -> Series:
    """Failed of the builds that ended succeeded or failed, per day (cancelled and skipped ones are neither)."""
    rates: list[float | None] = []
    for d in dates:
        ended = counts[d]["succeeded"] + counts[d]["failed"]
        rates.append(100 * counts[d]["failed"] / ended if ended else None)
    return Series("failure_rate", "Failed builds", rates, "bad")


def _by_branch(app: App, pairs: dict[int, Pair]) -> ChartData:
    names = dict(app.branches.order_by("name").values_list("pk", "name"))
    rows = [(name, pairs.get(pk, (None, None))) for pk, name in names.items()]
    return ChartData(
        "branch_durations",
        "Build duration by branch",
        "seconds",
        "Branch",
        [name for name, _ in rows],
        [name for name, _ in rows],
        [
            Series("median", "Median", [median for _, (median, _) in rows], "accent"),
            Series("p95", "95th percentile", [p95 for _, (_, p95) in rows], "warn"),
        ],
    )
