"""The sandbox inventory as charts (account-wide): live sandboxes by owner, stacked by age
bucket (fresh / idle / stale, the inventory's own rule and setting), and live and stale
sandboxes per day from the inventory's history.

History: a sandbox was live at the end of day D if it was first seen by then and not
deleted by then; it was stale then by the staleness rule applied at that moment. Only a
sandbox's last update is kept, not every update, so one updated after D counts as not
stale on D (its update before D is unknown): the past's stale counts are a lower bound.
Today is measured now, so today's numbers are the inventory page's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db.models import Count
from django.utils import timezone

from apps.insights.series import ChartData, DayRange, Series, day_label
from apps.sandboxes.models import InventorySettings
from apps.sandboxes.selectors import (
    AGE_BUCKETS,
    age_bucket_filters,
    every_sandbox,
    existed_filter,
    live_sandboxes,
    stale_filter,
)

BUCKET_TONES = {"fresh": "ok", "idle": "warn", "stale": "bad", "unknown": "muted"}


@dataclass(frozen=True)
class SandboxInsights:
    days: DayRange
    policy: InventorySettings
    by_owner: ChartData
    over_time: ChartData

    def charts(self) -> dict[str, ChartData]:
        return {self.by_owner.name: self.by_owner, self.over_time.name: self.over_time}


def sandbox_insights(days: DayRange, now: datetime | None = None) -> SandboxInsights:
    now = now or timezone.now()
    policy = InventorySettings.load()
    return SandboxInsights(days=days, policy=policy, by_owner=_by_owner(policy, now), over_time=_over_time(days, policy, now))


def _by_owner(policy: InventorySettings, now: datetime) -> ChartData:
    """One GROUP BY owner with a conditional count per bucket; most sandboxes first."""
    filters = age_bucket_filters(policy, now)
    grouped = (
        live_sandboxes()
        .values("identifier")
        .annotate(total=Count("pk"), **{key: Count("pk", filter=q) for key, q in filters.items()})
        .order_by("-total", "identifier")
    )
    rows = cast(list[dict[str, Any]], list(grouped))  # the bucket keys are built, not literal
    buckets = list(AGE_BUCKETS)
    if any(row["unknown"] for row in rows):  # only when some sandbox was never updated
        buckets.append(("unknown", "Never updated"))
    owners = [row["identifier"] for row in rows]
    return ChartData(
        "owners",
        "Live sandboxes by owner",
        "count",
        "Owner",
        owners,
        owners,
        [Series(key, label, [row[key] for row in rows], BUCKET_TONES[key]) for key, label in buckets],
    )


def _over_time(days: DayRange, policy: InventorySettings, now: datetime) -> ChartData:
    """Live and stale per day in one query: a conditional count per day and kind."""
    moments = [min(end, now) for end in days.day_ends()]
    aggregates = {}
    for index, moment in enumerate(moments):
        alive = existed_filter(moment)
        aggregates[f"live_{index}"] = Count("pk", filter=alive)
        aggregates[f"stale_{index}"] = Count("pk", filter=alive & stale_filter(policy, moment))
    # Every row, the deleted ones too: they were live before their deletion.
    counts = every_sandbox().aggregate(**aggregates)
    return ChartData(
        "stale",
        "Live and stale sandboxes per day",
        "count",
        "Day",
        [d.isoformat() for d in days.dates],
        [day_label(d) for d in days.dates],
        [
            Series("live", "Live", [counts[f"live_{i}"] for i in range(len(moments))], "accent"),
            Series("stale", "Stale", [counts[f"stale_{i}"] for i in range(len(moments))], "bad"),
        ],
    )
