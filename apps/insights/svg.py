"""Charts as inline SVG built on the server: stacked columns (one per day), stacked rows (one
per owner) and lines of one or two series. No script, no library, nothing from a CDN.

The SVG holds geometry and class names only (`chart-*`, `tone-*`); colours and type come
from the console's stylesheet. To assistive technology a chart is one image named by its
`<title>` and described by a `<desc>` summary (`role="img"`, `aria-labelledby`); every bar
and point carries a `<title>` tip for hover. The numbers themselves are in the table the
page renders next to it, from the same ChartData."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.insights.series import ChartData, Series, format_value

WIDTH, HEIGHT = 540, 250
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 54, 30
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BASE = TOP + PLOT_HEIGHT  # the x axis of column and line charts
MAX_X_LABELS = 8
# Stacked rows: room for an owner's name on the left, one band per owner.
ROW_LEFT, ROW_BAND = 130, 24
NAME_CHARS = 16
# Round steps of a seconds axis: a minute, five, an hour read better than 47 s.
SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def stacked_columns(chart: ChartData) -> SafeString:
    """One column per category, its series stacked bottom up in their order."""
    totals = _totals(chart)
    ticks = y_ticks(max(totals, default=0), chart.unit)
    scale = _Scale(top=ticks[-1], length=PLOT_HEIGHT)
    slot = PLOT_WIDTH / max(len(chart.categories), 1)
    parts = [*_heading(chart), *_y_grid(ticks, scale, chart.unit), *_x_labels(chart.labels, slot)]
    for index, label in enumerate(chart.labels):
        bottom = 0.0
        for series in chart.series:
            value = series.values[index] or 0
            if not value:
                continue
            y_top, y_bottom = BASE - scale.of(bottom + value), BASE - scale.of(bottom)
            tip = f"{label}: {format_value(value, chart.unit)} {series.label.lower()}"
            parts.append(
                f'<rect class="chart-bar tone-{series.tone}" x="{LEFT + index * slot + slot * 0.14:.1f}" '
                f'y="{y_top:.1f}" width="{max(slot * 0.72, 1):.1f}" height="{y_bottom - y_top:.1f}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            bottom += value
    return _svg(chart, "chart-columns", HEIGHT, parts)


def stacked_rows(chart: ChartData) -> SafeString:
    """One horizontal band per category (owners read better as rows), series stacked left to right."""
    totals = _totals(chart)
    ticks = y_ticks(max(totals, default=0), chart.unit)
    width = WIDTH - ROW_LEFT - RIGHT
    scale = _Scale(top=ticks[-1], length=width)
    height = TOP + ROW_BAND * max(len(chart.categories), 1) + BOTTOM
    base = height - BOTTOM
    parts = list(_heading(chart))
    for tick in ticks:
        x = ROW_LEFT + scale.of(tick)
        parts.append(_line("chart-grid", x, x, TOP, base))
        parts.append(_text("chart-tick", x, base + 17, tick_label(tick, chart.unit), "middle"))
    parts.append(_line("chart-axis", ROW_LEFT, ROW_LEFT, TOP, base))
    for index, label in enumerate(chart.labels):
        y = TOP + index * ROW_BAND
        shown = label if len(label) <= NAME_CHARS else label[: NAME_CHARS - 1] + "\N{HORIZONTAL ELLIPSIS}"
        parts.append(_text("chart-tick", ROW_LEFT - 8, y + ROW_BAND * 0.68, shown, "end"))
        left = 0.0
        for series in chart.series:
            value = series.values[index] or 0
            if not value:
                continue
            tip = f"{label}: {format_value(value, chart.unit)} {series.label.lower()}"
            parts.append(
                f'<rect class="chart-bar tone-{series.tone}" x="{ROW_LEFT + scale.of(left):.1f}" y="{y + 3:.1f}" '
                f'width="{scale.of(value):.1f}" height="{ROW_BAND - 6}"><title>{escape(tip)}</title></rect>'
            )
            left += value
    return _svg(chart, "chart-rows", height, parts)


def lines(chart: ChartData) -> SafeString:
    """A line per series through the categories' middles, broken where a value is None, and
    a dot with its tip on each value."""
    values = [v for s in chart.series for v in s.values if v is not None]
    ticks = y_ticks(max(values, default=0), chart.unit)
    scale = _Scale(top=ticks[-1], length=PLOT_HEIGHT)
    slot = PLOT_WIDTH / max(len(chart.categories), 1)
    parts = [*_heading(chart), *_y_grid(ticks, scale, chart.unit), *_x_labels(chart.labels, slot)]
    for series in chart.series:
        parts += _series_line(chart, series, scale, slot)
    return _svg(chart, "chart-lines", HEIGHT, parts)


def _series_line(chart: ChartData, series: Series, scale: _Scale, slot: float) -> list[str]:
    runs: list[list[tuple[float, float]]] = [[]]
    dots = []
    for index, value in enumerate(series.values):
        if value is None:
            runs.append([])
            continue
        x, y = LEFT + (index + 0.5) * slot, BASE - scale.of(value)
        runs[-1].append((x, y))
        tip = f"{chart.labels[index]}: {format_value(value, chart.unit)} {series.label.lower()}"
        dots.append(
            f'<circle class="chart-dot tone-{series.tone}" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(tip)}</title></circle>'
        )
    polylines = [
        f'<polyline class="chart-line tone-{series.tone}" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in run)}"/>'
        for run in runs
        if len(run) > 1
    ]
    return polylines + dots


@dataclass(frozen=True)
class _Scale:
    top: float  # the value at the far end of the axis
    length: float  # the axis' length in SVG units

    def of(self, value: float) -> float:
        return value / self.top * self.length


def _totals(chart: ChartData) -> list[float]:
    return [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.categories))]


def _svg(chart: ChartData, kind: str, height: float, parts: list[str]) -> SafeString:
    ident = f"chart-{chart.name}"
    svg = (
        f'<svg class="chart {kind}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(chart.title)}</title><desc id="{ident}-desc">{escape(summary(chart))}</desc>'
        f"{''.join(parts)}</svg>"
    )
    # Safe: every text written above goes through escape(); the rest is numbers and fixed markup.
    return mark_safe(svg)  # noqa: S308


def _heading(chart: ChartData) -> list[str]:
    """The title, and a legend of the series under it (a swatch and a name each)."""
    parts = [_text("chart-title", 2, 17, chart.title, "start")]
    x = 2.0  # under the title: five series' names need the whole width
    for series in chart.series:
        parts.append(f'<rect class="chart-swatch tone-{series.tone}" x="{x:.1f}" y="28" width="11" height="11" rx="2"/>')
        parts.append(_text("chart-legend", x + 16, 38, series.label, "start"))
        x += 16 + 7.2 * len(series.label) + 18
    return parts


def _y_grid(ticks: list[float], scale: _Scale, unit: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = BASE - scale.of(tick)
        parts.append(_line("chart-grid", LEFT, WIDTH - RIGHT, y, y))
        parts.append(_text("chart-tick", LEFT - 6, y + 4, tick_label(tick, unit), "end"))
    return [*parts, _line("chart-axis", LEFT, LEFT, TOP, BASE), _line("chart-axis", LEFT, WIDTH - RIGHT, BASE, BASE)]


def _x_labels(labels: list[str], slot: float) -> list[str]:
    """At most MAX_X_LABELS labels, evenly spaced, the last category always named."""
    if not labels:
        return []
    step = math.ceil(len(labels) / MAX_X_LABELS)
    parts = []
    for index in range(len(labels) - 1, -1, -step):
        x = LEFT + (index + 0.5) * slot
        short = " ".join(labels[index].split()[1:])  # "3 Dec": the weekday is in the table and tips
        parts += [_line("chart-axis", x, x, BASE, BASE + 4), _text("chart-tick", x, BASE + 17, short, "middle")]
    return parts


def _text(css: str, x: float, y: float, text: str, anchor: str) -> str:
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _line(css: str, x1: float, x2: float, y1: float, y2: float) -> str:
    return f'<line class="{css}" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'


def tick_label(value: float, unit: str) -> str:
    return f"{value:.0f}%" if unit == "percent" else format_value(value, unit)


def summary(chart: ChartData) -> str:
    """One sentence for screen readers: the span, and each series' total or range."""
    if not chart.categories:
        return f"{chart.title}: no data."
    span = f"{chart.labels[0]} to {chart.labels[-1]}" if len(chart.labels) > 1 else chart.labels[0]
    facts = []
    for series in chart.series:
        present = [v for v in series.values if v is not None]
        if not present:
            facts.append(f"{series.label.lower()}: none")
        elif chart.unit == "count":
            facts.append(f"{series.label.lower()}: {format_value(sum(present), 'count')} in total")
        else:
            low, high = format_value(min(present), chart.unit), format_value(max(present), chart.unit)
            facts.append(f"{series.label.lower()}: {low} to {high}")
    return f"{chart.title}, {span}: {'; '.join(facts)}. The numbers are in the table after the chart."


def y_ticks(maximum: float, unit: str) -> list[float]:
    """0 and up to five round steps reaching at least `maximum`; an empty chart still gets 0 to 1
    (percentages stop at 100)."""
    if unit == "seconds":
        step: float = next((s for s in SECOND_STEPS if s * 5 >= maximum), SECOND_STEPS[-1])
    else:
        step = max(_nice(maximum / 5), 1)
    count = max(math.ceil(maximum / step - 1e-9), 1)
    ticks = [round(step * n, 9) for n in range(count + 1)]
    return [t for t in ticks if t <= 100] if unit == "percent" and ticks[-1] > 100 else ticks


def _nice(raw: float) -> float:
    if raw <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
