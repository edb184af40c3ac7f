"""Traffic of an app's branch URLs, read from the access log: the Monitoring page's
series and the access-log download.

The database does the counting, in one query per chart set: it groups the window's
records by hour (TruncHour in the console's TIME_ZONE, so buckets start on the hours
the user reads) and counts requests, bytes, 4xx and 5xx with filtered aggregates.
Hours without traffic are filled in here with zeros. The week is shown in 6-hour
buckets (00, 06, 12, 18 local time; 28 or 29 points), each the sum of its hour rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.branches.models import App, Branch
from apps.hosting.models import AccessLogEntry

HOUR = timedelta(hours=1)
# Amplify's access logs download at most a week at a time; so does the console.
MAX_DOWNLOAD = timedelta(days=7)
ACCESS_LOG_HEADER = (
    "time",
    "branch",
    "method",
    "host",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "client_ip",
    "user_agent",
)


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    hours: int
    bucket_hours: int


DAY = Window("24h", "Last 24 hours", 24, 1)
WEEK = Window("7d", "Last 7 days", 7 * 24, 6)
WINDOWS = {window.key: window for window in (DAY, WEEK)}

# (field of Bucket, chart title); the order of the page's charts.
METRICS = (
    ("requests", "Requests"),
    ("bytes_sent", "Data transferred"),
    ("client_errors", "4xx errors"),
    ("server_errors", "5xx errors"),
)


@dataclass(frozen=True)
class Bucket:
    start: datetime  # aware, in the current time zone
    # Hours of it up to the current one: 6 for a week's bucket, fewer for the one still
    # filling; a clock change makes one 5 or 7 hours long (2 for an hour's bucket).
    hours: int
    requests: int = 0
    bytes_sent: int = 0
    client_errors: int = 0
    server_errors: int = 0

    def __add__(self, other: Bucket) -> Bucket:
        return replace(
            self,
            requests=self.requests + other.requests,
            bytes_sent=self.bytes_sent + other.bytes_sent,
            client_errors=self.client_errors + other.client_errors,
            server_errors=self.server_errors + other.server_errors,
        )


@dataclass(frozen=True)
class Traffic:
    window: Window
    branch: Branch | None
    start: datetime
    end: datetime
    buckets: list[Bucket]

    def series(self, metric: str) -> list[tuple[datetime, int]]:
        return [(bucket.start, getattr(bucket, metric)) for bucket in self.buckets]

    def total(self, metric: str) -> int:
        return sum(getattr(bucket, metric) for bucket in self.buckets)


def traffic(app: App, *, window: Window, branch: Branch | None = None, now: datetime | None = None) -> Traffic:
    """The window's buckets up to the current hour (which is still filling), zeros included."""
    hours = _hours(window, now or timezone.now())
    start, end = hours[0], hours[-1] + HOUR
    counted = (
        _entries(app, branch, start, end)
        .annotate(hour=TruncHour("time", tzinfo=timezone.get_current_timezone()))
        .values("hour")
        .annotate(
            requests=Count("id"),
            bytes_sent=Sum("bytes_sent"),
            client_errors=Count("id", filter=Q(status__gte=400, status__lt=500)),
            server_errors=Count("id", filter=Q(status__gte=500)),
        )
        .order_by("hour")
    )
    buckets: dict[tuple[date, int], Bucket] = {}
    for hour in hours:
        key = _bucket_key(hour, window.bucket_hours)
        if key in buckets:
            buckets[key] = replace(buckets[key], hours=buckets[key].hours + 1)
        else:
            buckets[key] = Bucket(start=timezone.localtime(hour), hours=1)
    for row in counted:
        key = _bucket_key(row["hour"], window.bucket_hours)
        found = Bucket(
            start=row["hour"],
            hours=0,
            requests=row["requests"],
            bytes_sent=row["bytes_sent"] or 0,
            client_errors=row["client_errors"],
            server_errors=row["server_errors"],
        )
        buckets[key] = buckets[key] + found
    return Traffic(window=window, branch=branch, start=start, end=end, buckets=list(buckets.values()))


def _hours(window: Window, now: datetime) -> list[datetime]:
    """The starts of the window's local clock hours, stepped in UTC (local arithmetic
    would skip or repeat an hour when the clock changes)."""
    last = timezone.localtime(now).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    first = last - (window.hours - 1) * HOUR
    while timezone.localtime(first).hour % window.bucket_hours:
        first -= HOUR  # back to the start of a whole bucket
    count = int((last - first) / HOUR) + 1
    return [first + n * HOUR for n in range(count)]


def _bucket_key(moment: datetime, bucket_hours: int) -> tuple[date, int]:
    """The local wall-clock bucket of an instant. By wall clock, not by instant: the
    database names an hour by its local time, so the hour repeated when clocks go back
    is one (two hours long) bucket on both sides."""
    local = timezone.localtime(moment)
    return local.date(), local.hour // bucket_hours


def _entries(app: App, branch: Branch | None, start: datetime, end: datetime) -> QuerySet[AccessLogEntry]:
    entries = AccessLogEntry.objects.filter(app=app, time__gte=start, time__lt=end)
    return entries.filter(branch=branch) if branch is not None else entries


def access_log_rows(app: App, *, start: datetime, end: datetime, branch: Branch | None = None) -> Iterator[list[object]]:
    """The requests in [start, end), oldest first, as CSV rows. Checked now, read as the
    rows are consumed: in chunks, so a week of a busy site stays in bounded memory."""
    if not start < end <= start + MAX_DOWNLOAD:
        raise ValueError(f"An access-log window must end after it starts and last at most {MAX_DOWNLOAD.days} days.")
    fields = ("time", "branch_name", "method", "host", "path", "status", "bytes_sent", "duration_ms", "client_ip", "user_agent")
    entries = _entries(app, branch, start, end).order_by("time", "id").values_list(*fields)

    def rows() -> Iterator[list[object]]:
        for time, *served, duration_ms, client_ip, user_agent in entries.iterator(chunk_size=2000):
            yield [utc_iso(time), *served, round(duration_ms, 3), client_ip or "", user_agent]

    return rows()


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as access logs write it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
