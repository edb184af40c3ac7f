"""Monitoring: an app's hosted traffic as charts, and its access logs as CSV. Reads
only, so every role may use them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.branches import selectors
from apps.branches.models import App
from apps.hosting import charts, monitoring
from apps.hosting.monitoring_forms import AccessLogForm, TrafficFilterForm
from console.csv_stream import csv_response

# metric -> (unit, kind, tone) of its chart.
CHART_STYLE = {
    "requests": ("count", "line", ""),
    "bytes_sent": ("bytes", "line", ""),
    "client_errors": ("count", "bar", "warn"),
    "server_errors": ("count", "bar", "bad"),
}


@dataclass(frozen=True)
class Panel:
    metric: str
    chart: charts.Chart
    csv_url: str


@require_GET
def monitoring_page(request: HttpRequest, app_id: str) -> HttpResponse | StreamingHttpResponse:
    """The charts for the chosen window and branch; `?csv=<metric>` downloads one chart's numbers.
    On an htmx request (the filters changed), only the charts are rendered."""
    app = selectors.app_get(app_id)
    filters = TrafficFilterForm(request.GET, app=app)
    context = {
        "app": app,
        "filters": filters,
        "log_form": _default_log_form(app),
        "log_days": settings.HOSTING_ACCESS_LOG_DAYS,
        "time_zone": timezone.get_current_timezone_name(),
    }
    if not filters.is_valid():
        return render(request, "hosting/monitoring.html", context, status=400)
    window, branch = filters.cleaned_data["window"], filters.cleaned_data["branch"]
    traffic = monitoring.traffic(app, window=window, branch=branch)
    metric = request.GET.get("csv", "")
    if metric in CHART_STYLE:
        return _series_csv(app, traffic, metric)
    context |= {
        "traffic": traffic,
        "has_traffic": traffic.total("requests") > 0,
        "panels": _panels(request, traffic),
        "deployed": app.branches.filter(live_deployment__isnull=False).select_related("app"),
    }
    template = "hosting/monitoring.html#traffic" if request.htmx else "hosting/monitoring.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _panels(request: HttpRequest, traffic: monitoring.Traffic) -> list[Panel]:
    panels = []
    for metric, title in monitoring.METRICS:
        unit, kind, tone = CHART_STYLE[metric]
        chart = charts.render(
            title=title,
            points=traffic.series(metric),
            bucket_hours=traffic.window.bucket_hours,
            unit=unit,
            kind=kind,
            tone=tone,
        )
        query = {"window": traffic.window.key, "branch": traffic.branch.display_name if traffic.branch else "", "csv": metric}
        panels.append(Panel(metric=metric, chart=chart, csv_url=f"{request.path}?{urlencode(query)}"))
    return panels


def _series_csv(app: App, traffic: monitoring.Traffic, metric: str) -> StreamingHttpResponse:
    rows = ([bucket.start.isoformat(), bucket.hours, getattr(bucket, metric)] for bucket in traffic.buckets)
    scope = traffic.branch.display_name if traffic.branch else "all"
    return csv_response(["start", "hours", metric], rows, f"{app.app_id}-{scope}-{metric}-{traffic.window.key}.csv")


def _default_log_form(app: App) -> AccessLogForm:
    return AccessLogForm(app=app, initial=AccessLogForm.last_hour())


@require_GET
def access_logs(request: HttpRequest, app_id: str) -> HttpResponse | StreamingHttpResponse:
    """The requests of [start, end) as CSV, streamed; without a window, the form (last hour)."""
    app = selectors.app_get(app_id)
    if not _asks_for_logs(request.GET):
        return _access_logs_page(request, app, _default_log_form(app))
    form = AccessLogForm(request.GET, app=app)
    if not form.is_valid():
        return _access_logs_page(request, app, form, status=400)
    start, end, branch = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["branch"]
    rows = monitoring.access_log_rows(app, start=start, end=end, branch=branch)
    scope = f"-{branch.display_name}" if branch else ""
    # In UTC, like the times in the file.
    filename = f"{app.app_id}{scope}-access-logs-{start.astimezone(UTC):%Y%m%dT%H%MZ}-{end.astimezone(UTC):%Y%m%dT%H%MZ}.csv"
    return csv_response(monitoring.ACCESS_LOG_HEADER, rows, filename)


def _access_logs_page(request: HttpRequest, app: App, form: AccessLogForm, status: int = 200) -> HttpResponse:
    context = {"app": app, "log_form": form, "log_days": settings.HOSTING_ACCESS_LOG_DAYS}
    return render(request, "hosting/access_logs.html", context, status=status)


def _asks_for_logs(query: QueryDict) -> bool:
    return any(name in query for name in ("start", "end"))
