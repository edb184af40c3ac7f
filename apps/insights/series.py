"""The numbers behind one chart, in one shape: a category per bar or point (a day, an
owner) and one or more named series of values. The chart, its table and its CSV are all
drawn from the same `ChartData`, so they cannot disagree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

UNITS = ("count", "seconds", "percent")


@dataclass(frozen=True)
class Series:
    key: str  # the CSV column and the CSS hook (`series-<key>`)
    label: str
    values: list[float | None]  # None: nothing to measure (no builds that day), not zero
    tone: str = "accent"  # ok, bad, warn, info, muted, accent: a colour of the stylesheet


@dataclass(frozen=True)
class ChartData:
    name: str  # `?chart=<name>` of its CSV
    title: str
    unit: str
    category_label: str  # the table's first column: "Day", "Owner"
    categories: list[str]  # what the CSV's first column holds: ISO dates, owner names
    labels: list[str]  # how the page names them: "Tue 3 Dec"
    series: list[Series]

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"No chart of {self.unit}.")
        if any(len(s.values) != len(self.categories) for s in self.series) or len(self.labels) != len(self.categories):
            raise ValueError("Every series needs one value per category.")

    @property
    def is_empty(self) -> bool:
        return all(value is None or value == 0 for s in self.series for value in s.values)

    def csv_header(self) -> list[str]:
        suffix = {"count": "", "seconds": "_seconds", "percent": "_percent"}[self.unit]
        return [self.category_label.lower(), *(f"{s.key}{suffix}" for s in self.series)]

    def csv_rows(self) -> list[list[object]]:
        """Counts as integers, seconds and percentages to one decimal; "" where there is no value."""
        return [
            [category, *(csv_value(s.values[index], self.unit) for s in self.series)]
            for index, category in enumerate(self.categories)
        ]

    def table_rows(self) -> list[tuple[str, list[str]]]:
        return [
            (label, [format_value(s.values[index], self.unit) for s in self.series]) for index, label in enumerate(self.labels)
        ]


def csv_value(value: float | None, unit: str) -> object:
    if value is None:
        return ""
    return int(value) if unit == "count" else round(value, 1)


def format_value(value: float | None, unit: str) -> str:
    """What the table and the hover tips show: "1,204", "4m 05s", "12.5%"; "—" for no value."""
    if value is None:
        return "\N{EM DASH}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:.1f}%"
    return format_seconds(value)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"


@dataclass(frozen=True)
class DayRange:
    """The last `days` days in the console's time zone, today included: [start, end)."""

    days: int
    first: date
    start: datetime  # midnight beginning the first day, aware
    end: datetime  # midnight after today, aware

    @classmethod
    def last(cls, days: int, now: datetime | None = None) -> DayRange:
        today = timezone.localdate(now or timezone.now())
        first = today - timedelta(days=days - 1)
        return cls(days=days, first=first, start=local_midnight(first), end=local_midnight(today + timedelta(days=1)))

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def day_ends(self) -> list[datetime]:
        """The midnight after each day (its end)."""
        return [local_midnight(day + timedelta(days=1)) for day in self.dates]


def local_midnight(day: date) -> datetime:
    """The start of `day` in the current time zone (an aware datetime, right across DST changes)."""
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def day_label(day: date) -> str:
    return day.strftime("%a %-d %b")


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as Postgres' percentile_cont: the
    median of [1, 2, 3, 10] is 2.5; of one value, that value."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
