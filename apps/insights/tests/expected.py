"""The insights' numbers computed the plain way, straight from the rows, for the tests to
compare with: no ORM aggregate, no code of apps.insights."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.utils import timezone

from apps.builds.models import Job
from apps.sandboxes.models import InventorySettings, Sandbox

RESULT = {
    "SUCCEED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "SKIPPED": "skipped",
    **dict.fromkeys(["CREATED", "PENDING", "PROVISIONING", "RUNNING", "CANCELLING"], "in_progress"),
}


def days_ending_today(count: int, now: datetime) -> list[date]:
    today = timezone.localdate(now)
    return [today - timedelta(days=count - 1 - n) for n in range(count)]


def per_day(jobs: Iterable[Job], days: list[date]) -> dict[str, list[int]]:
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    for job in jobs:
        counts[timezone.localdate(job.created_at)][RESULT[job.status]] += 1
    return {key: [counts[d][key] for d in days] for key in ("succeeded", "failed", "cancelled", "skipped", "in_progress")}


def p95(values: list[float]) -> float:
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=100, method="inclusive")[94]


def timings(jobs: Iterable[Job], days: list[date], kind: str, branch: str | None = None) -> dict[str, list[float | None]]:
    """Median and p95 per day of durations (start to end of succeeded or failed builds) or of
    queue times (created to started)."""
    values: dict[date, list[float]] = defaultdict(list)
    for job in jobs:
        if branch is not None and job.branch.name != branch:
            continue
        if kind == "duration" and job.status in ("SUCCEED", "FAILED") and job.started_at and job.ended_at:
            values[timezone.localdate(job.created_at)].append((job.ended_at - job.started_at).total_seconds())
        if kind == "queue" and job.started_at:
            values[timezone.localdate(job.created_at)].append((job.started_at - job.created_at).total_seconds())
    return {
        "median": [statistics.median(values[d]) if values[d] else None for d in days],
        "p95": [p95(values[d]) if values[d] else None for d in days],
    }


def failure_rates(jobs: Iterable[Job], days: list[date]) -> list[float | None]:
    counts = per_day(jobs, days)
    rates: list[float | None] = []
    for failed, succeeded in zip(counts["failed"], counts["succeeded"], strict=True):
        rates.append(100 * failed / (failed + succeeded) if failed + succeeded else None)
    return rates


def by_owner(sandboxes: Iterable[Sandbox], policy: InventorySettings, now: datetime) -> dict[str, dict[str, int]]:
    """owner -> bucket -> live sandboxes; fresh under half the stale period, stale from it on."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for sandbox in sandboxes:
        if sandbox.status == Sandbox.Status.DELETED:
            continue
        if sandbox.last_updated is None:
            bucket = "unknown"
        else:
            idle = now - sandbox.last_updated
            if idle >= timedelta(days=policy.stale_after_days):
                bucket = "stale"
            elif idle >= timedelta(days=max(1, policy.stale_after_days // 2)):
                bucket = "idle"
            else:
                bucket = "fresh"
        found[sandbox.identifier][bucket] += 1
    return {owner: dict(buckets) for owner, buckets in found.items()}


def live_and_stale(sandboxes: list[Sandbox], policy: InventorySettings, days: list[date], now: datetime) -> dict[str, list[int]]:
    live, stale = [], []
    for day in days:
        after = day + timedelta(days=1)
        end = timezone.make_aware(datetime(after.year, after.month, after.day))
        moment = min(end, now)
        alive = [
            s
            for s in sandboxes
            if s.first_seen <= moment
            and ((s.deleted_at is None and s.status != Sandbox.Status.DELETED) or (s.deleted_at and s.deleted_at > moment))
        ]
        live.append(len(alive))
        limit = moment - timedelta(days=policy.stale_after_days)
        stale.append(sum(1 for s in alive if s.last_updated is not None and s.last_updated <= limit))
    return {"live": live, "stale": stale}
