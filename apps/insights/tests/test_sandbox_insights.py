"""The sandbox charts: owners by age bucket and live/stale per day equal the rows, counted
the plain way; the buckets are the inventory's own rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.insights.sandbox_charts import sandbox_insights
from apps.insights.series import DayRange
from apps.insights.tests import expected
from apps.insights.tests.factories import make_sandbox
from apps.sandboxes import selectors
from apps.sandboxes.models import InventorySettings, Sandbox

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def inventory(db: None) -> list[Sandbox]:
    """Stale after 14 days (the default): fresh under 7, idle 7 to 13, stale from 14."""
    rows = [
        ("alice", ago(60), ago(1), None),  # fresh
        ("alice", ago(60), ago(20), None),  # stale since 6 days ago
        ("alice", ago(40), ago(14), None),  # stale since exactly now
        ("bob", ago(30), ago(7), None),  # idle since exactly now
        ("bob", ago(30), ago(13.9), None),  # idle
        ("bob", ago(50), ago(45), ago(3)),  # deleted 3 days ago: stale until then
        ("carol", ago(2), ago(2), None),  # fresh, first seen 2 days ago
        ("carol", ago(10), None, None),  # never updated
    ]
    return [make_sandbox(o, first_seen=f, last_updated=u, deleted_at=d) for o, f, u, d in rows]


def test_live_sandboxes_by_owner_and_age_bucket(inventory: list[Sandbox]) -> None:
    policy = InventorySettings.load()
    chart = sandbox_insights(DayRange.last(30, now=NOW), now=NOW).by_owner
    assert chart.categories == ["alice", "bob", "carol"]  # most sandboxes first
    got = {owner: {s.key: int(s.values[i] or 0) for s in chart.series if s.values[i]} for i, owner in enumerate(chart.categories)}
    assert got == expected.by_owner(inventory, policy, NOW)
    assert got == {"alice": {"fresh": 1, "stale": 2}, "bob": {"idle": 2}, "carol": {"fresh": 1, "unknown": 1}}
    # The Python rule of the model says the same for each row.
    assert sorted(s.age_bucket(policy, NOW) for s in inventory if not s.is_gone) == sorted(
        ["fresh", "stale", "stale", "idle", "idle", "fresh", "unknown"]
    )


def test_a_changed_setting_moves_the_buckets(inventory: list[Sandbox]) -> None:
    InventorySettings.objects.filter(pk=InventorySettings.load().pk).update(stale_after_days=30)
    policy = InventorySettings.load()
    chart = sandbox_insights(DayRange.last(7, now=NOW), now=NOW).by_owner
    got = {o: {s.key: s.values[i] for s in chart.series if s.values[i]} for i, o in enumerate(chart.categories)}
    assert (
        got
        == expected.by_owner(inventory, policy, NOW)
        == {
            "alice": {"fresh": 2, "idle": 1},
            "bob": {"fresh": 2},
            "carol": {"fresh": 1, "unknown": 1},
        }
    )


def test_live_and_stale_per_day_from_the_history(inventory: list[Sandbox]) -> None:
    policy = InventorySettings.load()
    days = DayRange.last(30, now=NOW)
    chart = sandbox_insights(days, now=NOW).over_time
    want = expected.live_and_stale(inventory, policy, days.dates, NOW)
    assert {s.key: s.values for s in chart.series} == want
    # Today's numbers are the inventory page's.
    summary = selectors.inventory_summary(policy, NOW)
    assert (want["live"][-1], want["stale"][-1]) == (summary.total, summary.stale) == (7, 2)
    # At the end of the 16th bob's deleted sandbox was still there, and stale (and carol's
    # second one not seen yet); by the end of the 17th it was gone.
    assert want["live"][-5] == 7
    assert want["stale"][-5] == 2
    assert want["live"][-4] == 6
    assert want["stale"][-4] == 1


def test_no_sandboxes_no_rows(db: None) -> None:
    insights = sandbox_insights(DayRange.last(7, now=NOW), now=NOW)
    assert insights.by_owner.categories == []
    assert insights.over_time.is_empty


def test_the_inventory_filter_and_the_chart_agree_on_stale(inventory: list[Sandbox]) -> None:
    policy = InventorySettings.load()
    filters = selectors.InventoryFilters(stale=True)
    listed = set(selectors.filtered_sandboxes(filters, policy, NOW).values_list("pk", flat=True))
    assert listed == {s.pk for s in inventory if s.is_stale(policy.stale_after_days, NOW)}
    assert len(listed) == 2
