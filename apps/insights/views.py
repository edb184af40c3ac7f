"""The insights pages: an app's builds, and the sandbox inventory, as charts with their
numbers. Reads only, so every role may see them; `?chart=<name>&format=csv` downloads one
chart's numbers, from the same data the page draws."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from apps.branches import selectors as branch_selectors
from apps.insights import svg
from apps.insights.build_charts import build_insights
from apps.insights.forms import DEFAULT_DAYS, RANGES, BuildRangeForm, RangeForm
from apps.insights.sandbox_charts import sandbox_insights
from apps.insights.series import ChartData, DayRange
from console.csv_stream import csv_response

BUILD_CHARTS = ("builds", "duration", "queue", "failure_rate", "branch_durations")
SANDBOX_CHARTS = ("owners", "stale")
# How each chart is drawn; a chart not named here is a table only.
DRAWINGS = {
    "builds": svg.stacked_columns,
    "duration": svg.lines,
    "queue": svg.lines,
    "failure_rate": svg.lines,
    "owners": svg.stacked_rows,
    "stale": svg.lines,
}


@dataclass(frozen=True)
class Panel:
    data: ChartData
    svg: SafeString | None
    csv_url: str


@require_GET
def app_insights(request: HttpRequest, app_id: str) -> HttpResponse | StreamingHttpResponse:
    app = branch_selectors.app_get(app_id)
    form = BuildRangeForm(_with_default_range(request), app=app, charts=BUILD_CHARTS)
    context: dict[str, object] = {"app": app, "form": form, "ranges": RANGES, "time_zone": timezone.get_current_timezone_name()}
    if not form.is_valid():
        return render(request, "insights/app.html", context, status=400)
    days = DayRange.last(form.cleaned_data["days"])
    branch = form.cleaned_data["branch"]
    insights = build_insights(app, days, branch)
    if form.cleaned_data["format"] == "csv":
        scope = f"-{branch.display_name}" if branch and form.cleaned_data["chart"] == "duration" else ""
        return _csv(insights.charts()[form.cleaned_data["chart"]], f"{app.app_id}{scope}", days)
    query = {"days": days.days, "branch": branch.display_name if branch else ""}
    panels = {name: _panel(request, chart, query) for name, chart in insights.charts().items()}
    context |= {"insights": insights, "panels": panels, "branches": app.branches.order_by("name")}
    return render(request, "insights/app.html", context)


@require_GET
def sandbox_insights_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = RangeForm(_with_default_range(request), charts=SANDBOX_CHARTS)
    context: dict[str, object] = {"form": form, "time_zone": timezone.get_current_timezone_name()}
    if not form.is_valid():
        return render(request, "insights/sandboxes.html", context, status=400)
    days = DayRange.last(form.cleaned_data["days"])
    insights = sandbox_insights(days)
    if form.cleaned_data["format"] == "csv":
        return _csv(insights.charts()[form.cleaned_data["chart"]], "sandboxes", days)
    panels = {name: _panel(request, chart, {"days": days.days}) for name, chart in insights.charts().items()}
    context |= {"insights": insights, "panels": panels, "policy": insights.policy}
    return render(request, "insights/sandboxes.html", context)


def _with_default_range(request: HttpRequest) -> QueryDict:
    """The query with the default range filled in, so the form shows the range the charts show."""
    query = request.GET.copy()
    if not query.get("days"):
        query["days"] = str(DEFAULT_DAYS)
    return query


def _panel(request: HttpRequest, chart: ChartData, query: dict[str, object]) -> Panel:
    draw = DRAWINGS.get(chart.name)
    params = {k: v for k, v in query.items() if v != ""} | {"chart": chart.name, "format": "csv"}
    return Panel(data=chart, svg=draw(chart) if draw else None, csv_url=f"{request.path}?{urlencode(params)}")


def _csv(chart: ChartData, scope: str, days: DayRange) -> StreamingHttpResponse:
    return csv_response(chart.csv_header(), chart.csv_rows(), f"{scope}-{chart.name}-{days.days}d-{days.first:%Y%m%d}.csv")
