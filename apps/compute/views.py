"""The branch page's server panel (an htmx fragment), its live output and the output as a file.

Everything the servers printed is hostile: the templates only ever show it autoescaped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.branches import selectors as branches
from apps.branches.models import Branch
from apps.compute import selectors
from apps.compute.models import ComputeLogLine

MAX_LINE_ID = 2**63 - 1


def _branch(app_id: str, branch: str) -> Branch:
    return branches.branch_get(branches.app_get(app_id), branch)


@require_GET
def compute_panel(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    compute = selectors.branch_compute(branch_obj)
    lines = selectors.log_lines(branch_obj, after_id=None) if compute is not None else []
    context = {
        "app": branch_obj.app,
        "branch": branch_obj,
        "compute": compute,
        "lines": lines,
        "after": lines[-1].pk if lines else 0,
    }
    return render(request, "compute/panel.html", context)


@require_GET
def compute_logs(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    """htmx poll: the lines after `after`, and the poller again with the last id it got."""
    branch_obj = _branch(app_id, branch)
    raw = request.GET.get("after", "")
    if raw and not (raw.isdigit() and int(raw) <= MAX_LINE_ID):
        return HttpResponseBadRequest("`after` must be a line id.")
    after_id = int(raw) if raw else None
    lines = selectors.log_lines(branch_obj, after_id=after_id)
    context = {"app": branch_obj.app, "branch": branch_obj, "lines": lines, "after": lines[-1].pk if lines else after_id or 0}
    return render(request, "compute/panel.html#log-update", context)


@require_GET
def compute_log_download(request: HttpRequest, app_id: str, branch: str) -> StreamingHttpResponse:
    branch_obj = _branch(app_id, branch)
    response = StreamingHttpResponse(_as_text(selectors.kept_log_lines(branch_obj)), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{app_id}-{branch_obj.hostname_label}-server.log"'
    return response


def _as_text(lines: Iterable[ComputeLogLine]) -> Iterator[bytes]:
    for line in lines:
        yield f"{line.time.isoformat()} {line.host} {line.stream}: {line.text}\n".encode()
