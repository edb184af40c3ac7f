"""Charts as server-rendered SVG: no script, no library, nothing from a CDN.

The SVG carries only geometry and class names (`chart-*`); colours and type come from
the console's stylesheet and its variables, so a chart looks like the rest of the page.
It is one image to assistive technology (`role="img"` with a summary in `aria-label`);
the numbers behind it go in a table next to it (`Chart.rows`), which the page renders.
Times are shown in the current time zone (the console's TIME_ZONE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# In SVG units: the chart scales to its box, and a narrower drawing keeps its text readable.
WIDTH, HEIGHT = 520, 210
LEFT, RIGHT, TOP, BOTTOM = 60, 14, 34, 40
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BYTE_UNITS = ("B", "KB", "MB", "GB", "TB")  # of 1024, as Django's filesizeformat


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString
    rows: list[tuple[str, str]]  # (bucket, value) as the table shows them
    total: str


def render(
    *,
    title: str,
    points: Sequence[tuple[datetime, int]],
    bucket_hours: int,
    unit: str = "count",
    kind: str = "bar",
    tone: str = "",
) -> Chart:
    """A bar or line chart of `points` (bucket start, value), one per bucket of
    `bucket_hours`. `unit` is "count" or "bytes"; `tone` ("warn", "bad") picks a colour."""
    if kind not in ("bar", "line") or unit not in ("count", "bytes"):
        raise ValueError(f"No {kind} chart of {unit}.")
    values = [value for _, value in points]
    ticks = y_ticks(max(values, default=0), unit)
    labels = [bucket_label(start, bucket_hours) for start, _ in points]
    plot = _Plot(top=ticks[-1], slot=PLOT_WIDTH / max(len(points), 1))
    tips = [f"{label}: {format_value(value, unit)}" for label, value in zip(labels, values, strict=True)]
    parts = [_text("chart-title", 0, 16, title, "start")]
    parts += _y_axis(plot, ticks, unit)
    parts += _x_axis(plot, [start for start, _ in points], bucket_hours)
    parts += _bars(plot, values, tips) if kind == "bar" else _line_marks(plot, values, tips)
    total = format_value(sum(values), unit)
    summary = _summary(title, labels, values, unit, total)
    classes = " ".join(filter(None, ("chart", f"chart-{kind}", f"tone-{tone}" if tone else "")))
    svg = (
        f'<svg class="{classes}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(summary)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )
    rows = [(label, format_value(value, unit)) for label, value in zip(labels, values, strict=True)]
    # Safe: the helpers escape every text they write; the rest is numbers and fixed markup.
    return Chart(title=title, svg=mark_safe(svg), rows=rows, total=total)  # noqa: S308


@dataclass(frozen=True)
class _Plot:
    top: float  # the value at the top of the plot area
    slot: float  # the width of one bucket

    def y(self, value: float) -> float:
        return BASE - value / self.top * PLOT_HEIGHT


BASE = TOP + PLOT_HEIGHT  # the x axis


def _text(css: str, x: float, y: float, text: str, anchor: str) -> str:
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _line(css: str, x1: float, x2: float, y1: float, y2: float) -> str:
    return f'<line class="{css}" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'


def _y_axis(plot: _Plot, ticks: list[float], unit: str) -> list[str]:
    parts = []
    for tick in ticks:
        parts.append(_line("chart-grid", LEFT, WIDTH - RIGHT, plot.y(tick), plot.y(tick)))
        parts.append(_text("chart-tick", LEFT - 6, plot.y(tick) + 4, format_value(tick, unit), "end"))
    return [*parts, _line("chart-axis", LEFT, LEFT, TOP, BASE), _line("chart-axis", LEFT, WIDTH - RIGHT, BASE, BASE)]


def _x_axis(plot: _Plot, starts: list[datetime], bucket_hours: int) -> list[str]:
    """A tick and a label at the left edge of the buckets `x_tick` names: where they begin."""
    parts = []
    for index, start in enumerate(starts):
        if label := x_tick(start, bucket_hours):
            x = LEFT + index * plot.slot
            parts += [_line("chart-axis", x, x, BASE, BASE + 4), _text("chart-tick", x, BASE + 17, label, "middle")]
    return parts


def _bars(plot: _Plot, values: list[int], tips: list[str]) -> list[str]:
    return [
        f'<rect class="chart-bar" x="{LEFT + (index + 0.15) * plot.slot:.1f}" y="{plot.y(value):.1f}" '
        f'width="{plot.slot * 0.7:.1f}" height="{BASE - plot.y(value):.1f}"><title>{escape(tip)}</title></rect>'
        for index, (value, tip) in enumerate(zip(values, tips, strict=True))
        if value
    ]


def _line_marks(plot: _Plot, values: list[int], tips: list[str]) -> list[str]:
    """The line through the buckets' middles, the area under it, and a dot (with its tip) on each."""
    if not values:
        return []
    xy = [(LEFT + (index + 0.5) * plot.slot, plot.y(value)) for index, value in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    area = f"M{xy[0][0]:.1f},{BASE} L{line.replace(' ', ' L')} L{xy[-1][0]:.1f},{BASE} Z"
    dots = [
        f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{escape(tip)}</title></circle>'
        for (x, y), tip in zip(xy, tips, strict=True)
    ]
    return [f'<path class="chart-area" d="{area}"/>', f'<polyline class="chart-line" points="{line}"/>', *dots]


def _summary(title: str, labels: list[str], values: list[int], unit: str, total: str) -> str:
    if not values:
        return f"{title}: no data"
    peak = max(values)
    span = f"{labels[0]} to {labels[-1]}"
    if not peak:
        return f"{title}, {span}: none"
    return f"{title}, {span}: {total} in total, at most {format_value(peak, unit)} ({labels[values.index(peak)]})"


def y_ticks(maximum: float, unit: str) -> list[float]:
    """0 and two to five round steps up to at least `maximum` (1, 2 or 5 times a power
    of ten; for bytes, of the largest 1024-unit below the maximum), never less than 1;
    an empty chart still gets an axis of 0 to 1."""
    scale = _byte_scale(maximum) if unit == "bytes" else 1
    step = max(_nice(maximum / scale / 4) * scale, 1)  # never a fraction of a request or a byte
    count = max(math.ceil(maximum / step - 1e-9), 1)
    return [round(step * n, 9) for n in range(count + 1)]


def _nice(raw: float) -> float:
    if raw <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))


def _byte_scale(value: float) -> int:
    power = 0
    while power < len(BYTE_UNITS) - 1 and value >= 1024 ** (power + 1):
        power += 1
    return int(1024**power)


def format_value(value: float, unit: str) -> str:
    if unit == "count":
        return f"{value:,.0f}"
    scale = _byte_scale(value)
    if scale == 1:
        return f"{value:,.0f} B"
    number = f"{value / scale:,.1f}".removesuffix(".0")
    return f"{number} {BYTE_UNITS[round(math.log(scale, 1024))]}"


def bucket_label(start: datetime, bucket_hours: int) -> str:
    """What a table row names: "Tue 14 Jan 13:00"; a longer bucket adds its end, "Tue 14 Jan 12:00-18:00"
    (with an en dash)."""
    local = timezone.localtime(start)
    label = local.strftime("%a %d %b %H:%M")
    if bucket_hours == 1:
        return label
    return f"{label}\N{EN DASH}{(local.hour + bucket_hours) % 24:02d}:{local.minute:02d}"


def x_tick(start: datetime, bucket_hours: int) -> str:
    """The axis label of a bucket, or "" for none: every 3 hours over a day (the day's
    name at midnight), each midnight over a week."""
    local = timezone.localtime(start)
    if local.hour == 0:
        return local.strftime("%a %d")
    if bucket_hours == 1 and local.hour % 3 == 0:
        return local.strftime("%H:%M")
    return ""
