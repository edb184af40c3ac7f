"""The SVG charts: axes with round ticks, labels in the console's time zone, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.hosting import charts

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 3, 10, 0, tzinfo=UTC)


def hours(values: list[int], start: datetime = START, step: int = 1) -> list[tuple[datetime, int]]:
    return [(start + timedelta(hours=step * n), value) for n, value in enumerate(values)]


def parsed(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own output


@pytest.mark.parametrize(
    ("maximum", "unit", "ticks"),
    [
        (0, "count", [0, 1]),
        (3, "count", [0, 1, 2, 3]),
        (7, "count", [0, 2, 4, 6, 8]),
        (1234, "count", [0, 500, 1000, 1500]),
        (900, "bytes", [0, 500, 1000]),
        (3.4 * 1024**2, "bytes", [0, 1024**2, 2 * 1024**2, 3 * 1024**2, 4 * 1024**2]),
    ],
)
def test_the_y_axis_has_round_ticks_up_to_the_maximum(maximum: float, unit: str, ticks: list[float]) -> None:
    assert charts.y_ticks(maximum, unit) == ticks


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(1234567, "count", "1,234,567"), (900, "bytes", "900 B"), (1536, "bytes", "1.5 KB"), (2 * 1024**3, "bytes", "2 GB")],
)
def test_values_are_written_for_people(value: float, unit: str, text: str) -> None:
    assert charts.format_value(value, unit) == text


def test_a_bar_chart_has_a_title_axes_a_bar_per_busy_bucket_and_a_summary() -> None:
    chart = charts.render(title="4xx errors", points=hours([0, 2, 0, 5] + [0] * 20), bucket_hours=1, tone="warn")
    svg = parsed(chart)
    assert svg.get("role") == "img"
    assert svg.get("class") == "chart chart-bar tone-warn"
    assert svg.get("aria-label") == "4xx errors, Tue 10 Mar 00:00 to Tue 10 Mar 23:00: 7 in total, at most 5 (Tue 10 Mar 03:00)"

    def texts(css: str) -> list[str | None]:
        return [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == css]

    assert texts("chart-title") == ["4xx errors"]
    assert texts("chart-tick") == ["0", "2", "4", "6", "Tue 10", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00"]
    bars = list(svg.iter(f"{SVG}rect"))
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["Tue 10 Mar 01:00: 2", "Tue 10 Mar 03:00: 5"]  # type: ignore[union-attr]
    assert float(bars[1].get("height", 0)) > float(bars[0].get("height", 0))
    assert chart.rows[:2] == [("Tue 10 Mar 00:00", "0"), ("Tue 10 Mar 01:00", "2")]
    assert chart.total == "7"


def test_a_line_chart_of_bytes_over_a_week_labels_each_midnight() -> None:
    chart = charts.render(title="Data", points=hours([2048] * 28, step=6), bucket_hours=6, unit="bytes", kind="line")
    svg = parsed(chart)
    assert len(list(svg.iter(f"{SVG}circle"))) == 28
    assert len(svg.find(f"{SVG}polyline").get("points", "").split()) == 28  # type: ignore[union-attr]
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks[-7:] == ["Tue 10", "Wed 11", "Thu 12", "Fri 13", "Sat 14", "Sun 15", "Mon 16"]
    assert chart.rows[1] == ("Tue 10 Mar 06:00\N{EN DASH}12:00", "2 KB")
    assert chart.total == "56 KB"


def test_labels_are_in_the_console_time_zone() -> None:
    with timezone.override("America/New_York"):  # UTC-4 on 10 March 2026
        chart = charts.render(title="Requests", points=hours([1]), bucket_hours=1)
    assert chart.rows == [("Mon 09 Mar 20:00", "1")]


def test_text_is_escaped_and_an_empty_chart_still_draws() -> None:
    chart = charts.render(title='<script>alert("x")</script>', points=hours([0] * 24), bucket_hours=1)
    assert "<script>" not in chart.svg
    svg = parsed(chart)
    assert svg.find(f"{SVG}text").text == '<script>alert("x")</script>'  # type: ignore[union-attr]
    assert svg.get("aria-label", "").endswith(": none")
    assert list(svg.iter(f"{SVG}rect")) == []


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="No pie chart"):
        charts.render(title="x", points=[], bucket_hours=1, kind="pie")
