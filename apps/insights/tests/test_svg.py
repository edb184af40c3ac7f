"""The chart helpers: well-formed SVG named for assistive technology, a tip per bar and
point, gaps for missing values, round axes, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from apps.insights import svg
from apps.insights.series import ChartData, Series, format_value, percentile

NS = {"s": "http://www.w3.org/2000/svg"}


def chart(values: dict[str, list[float | None]], unit: str = "count", name: str = "c", title: str = "Builds") -> ChartData:
    labels = [f"Mon {n + 1} Dec" for n in range(len(next(iter(values.values()))))]
    series = [Series(key, key.title(), v, "ok" if n == 0 else "bad") for n, (key, v) in enumerate(values.items())]
    return ChartData(name, title, unit, "Day", [f"2026-12-{n + 1:02d}" for n in range(len(labels))], labels, series)


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own output


def test_stacked_columns_have_a_tip_per_nonzero_segment_and_a_legend() -> None:
    data = chart({"succeeded": [2, 0, 5], "failed": [1, 0, 0]})
    root = parsed(svg.stacked_columns(data))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-c-title chart-c-desc"
    assert root.find("s:title", NS).text == "Builds"  # type: ignore[union-attr]
    desc = root.find("s:desc", NS).text or ""  # type: ignore[union-attr]
    assert desc.startswith("Builds, Mon 1 Dec to Mon 3 Dec: succeeded: 7 in total; failed: 1 in total.")
    tips = [t.text for t in root.findall("s:rect/s:title", NS)]
    assert tips == ["Mon 1 Dec: 2 succeeded", "Mon 1 Dec: 1 failed", "Mon 3 Dec: 5 succeeded"]
    legend = [t.text for t in root.findall("s:text[@class='chart-legend']", NS)]
    assert legend == ["Succeeded", "Failed"]
    bars = root.findall("s:rect[@class='chart-bar tone-ok']", NS)
    # Stacked: the failed segment sits on top of the succeeded one of the same day.
    failed = root.find("s:rect[@class='chart-bar tone-bad']", NS)
    assert failed is not None
    assert float(failed.get("y", 0)) + float(failed.get("height", 0)) == pytest.approx(float(bars[0].get("y", 0)))


def test_lines_break_where_there_is_no_value() -> None:
    data = chart({"median": [60, 90, None, 30, 45], "p95": [100, None, None, None, 80]}, unit="seconds")
    root = parsed(svg.lines(data))
    lines = root.findall("s:polyline", NS)
    assert [len((p.get("points") or "").split()) for p in lines] == [2, 2]  # median's two runs; p95 has no run
    assert len(root.findall("s:circle", NS)) == 6
    assert [t.text for t in root.findall("s:circle/s:title", NS)][:2] == ["Mon 1 Dec: 1m median", "Mon 2 Dec: 1m 30s median"]


def test_stacked_rows_grow_with_the_owners_and_shorten_long_names() -> None:
    owners = ["a" * 40, "bob"]
    data = ChartData("owners", "By owner", "count", "Owner", owners, owners, [Series("stale", "Stale", [3, 1], "bad")])
    root = parsed(svg.stacked_rows(data))
    assert root.get("viewBox") == f"0 0 {svg.WIDTH} {svg.TOP + 2 * svg.ROW_BAND + svg.BOTTOM}"
    names = [t.text for t in root.findall("s:text", NS) if t.get("text-anchor") == "end"]
    assert names == ["a" * (svg.NAME_CHARS - 1) + "\N{HORIZONTAL ELLIPSIS}", "bob"]
    assert [t.text for t in root.findall("s:rect/s:title", NS)] == [f"{'a' * 40}: 3 stale", "bob: 1 stale"]


def test_text_is_escaped() -> None:
    data = chart({"x": [1]}, title='<script>alert("x")</script>')
    markup = str(svg.stacked_columns(data))
    assert "<script>" not in markup
    parsed(markup)


def test_an_empty_chart_still_has_an_axis() -> None:
    root = parsed(svg.lines(chart({"median": [None, None]}, unit="seconds")))
    assert [t.text for t in root.findall("s:text[@text-anchor='end']", NS)] == ["0s", "1s"]
    assert root.findall("s:circle", NS) == []


@pytest.mark.parametrize(
    ("maximum", "unit", "ticks"),
    [
        (0, "count", [0, 1]),
        (7, "count", [0, 2, 4, 6, 8]),
        (130, "count", [0, 50, 100, 150]),
        (250, "seconds", [0, 60, 120, 180, 240, 300]),
        (100, "percent", [0, 20, 40, 60, 80, 100]),
    ],
)
def test_round_ticks(maximum: float, unit: str, ticks: list[float]) -> None:
    assert svg.y_ticks(maximum, unit) == ticks


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1204, "count", "1,204"),
        (42, "seconds", "42s"),
        (4.25, "seconds", "4.2s"),
        (245, "seconds", "4m 05s"),
        (3725, "seconds", "1h 02m"),
        (3600, "seconds", "1h"),
        (240, "seconds", "4m"),
        (12.345, "percent", "12.3%"),
        (None, "seconds", "\N{EM DASH}"),
    ],
)
def test_values_read_well(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([1, 2, 3, 10], 0.5) == 2.5
    assert percentile([7], 0.95) == 7
    assert percentile([], 0.5) is None
    assert percentile([10, 20], 0.95) == pytest.approx(19.5)


def test_a_series_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="one value per category"):
        ChartData("c", "C", "count", "Day", ["a", "b"], ["a", "b"], [Series("x", "X", [1])])
    with pytest.raises(ValueError, match="No chart of bytes"):
        ChartData("c", "C", "bytes", "Day", [], [], [])
