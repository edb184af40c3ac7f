"""The Functions tab of a branch: its Lambda functions, a function's configuration and
recent log streams, its log events (filter, time range, Next page with nextToken), a live
tail and a download. Everything here is a read: every signed-in role may use it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.branches.models import Branch
from apps.branches.selectors import app_get, branch_get
from apps.functions import selectors
from apps.functions.cloudwatch import BadFilterPattern, LogEvent
from apps.functions.forms import LogsForm
from apps.functions.selectors import StackFunction
from console.aws_errors import AwsError

MAX_TOKEN_LENGTH = 4096
MAX_SEEN = 200  # event ids carried by the tail's poller


def _branch(app_id: str, branch: str) -> Branch:
    return branch_get(app_get(app_id), branch)


def _function(branch: Branch, name: str) -> StackFunction:
    """The function of the URL when the branch's stack has it; 404 for any other name."""
    try:
        found = selectors.stack_function(branch, name)
    except selectors.NoStack:
        found = None
    if found is None:
        raise Http404(f"{branch.name}'s backend has no function {name!r}.")
    return found


def _base(branch: Branch, **more: Any) -> dict[str, Any]:
    return {"app": branch.app, "branch": branch, **more}


@require_GET
def functions_list(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    context = _base(branch_obj, stack_name=branch_obj.backend_stack_name)
    try:
        context["functions"] = selectors.branch_functions(branch_obj)
    except selectors.NoStack as missing:
        context["no_stack"] = str(missing)
    except AwsError as error:
        context["problem"] = str(error)
    return render(request, "functions/list.html", context)


@require_GET
def function_detail(request: HttpRequest, app_id: str, branch: str, name: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    context = _base(branch_obj, name=name)
    try:
        function = selectors.function_detail(branch_obj, name)
    except selectors.NoStack:
        function = None
    except AwsError as error:
        context["problem"] = str(error)
        return render(request, "functions/detail.html", context)
    if function is None:
        raise Http404(f"{branch_obj.name}'s backend has no function {name!r}.")
    context["function"] = function
    token = request.GET.get("streams", "")[:MAX_TOKEN_LENGTH] or None
    try:
        context["streams"] = selectors.recent_streams(function.name, token=token)
    except AwsError as error:
        context["streams_problem"] = str(error)
    return render(request, "functions/detail.html", context)


def _logs_form(request: HttpRequest) -> LogsForm:
    form = LogsForm(request.GET)
    with timezone.override(UTC):  # From and To are UTC, whatever TIME_ZONE says
        form.is_valid()
    return form


@require_GET
def function_logs(request: HttpRequest, app_id: str, branch: str, name: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    function = _function(branch_obj, name)
    form = _logs_form(request)
    context = _base(branch_obj, function=function, form=form, now_ms=int(time.time() * 1000))
    if form.errors:
        return render(request, "functions/logs.html", context)
    start, end = form.window()
    pattern = form.cleaned_data["filter"]
    token = request.GET.get("token", "")[:MAX_TOKEN_LENGTH] or None
    try:
        page = selectors.events_page(function.name, pattern=pattern, start=start, end=end, token=token)
    except BadFilterPattern as refused:
        context["bad_pattern"] = str(refused)
        return render(request, "functions/logs.html", context)
    except AwsError as error:
        context["problem"] = str(error)
        return render(request, "functions/logs.html", context)
    query = _query(form, start=start, end=end)
    context.update(
        page=page,
        continued=token is not None,
        query=query,
        next_query=urlencode({**query, "token": page.next_token}) if page.next_token else "",
        first_query=urlencode(query),
        tail_query=urlencode({k: v for k, v in query.items() if k == "filter"}),
    )
    return render(request, "functions/logs.html", context)


def _query(form: LogsForm, *, start: int | None, end: int | None) -> dict[str, str]:
    """The search as query parameters; a recent span is pinned to its start so that the
    pages after the first belong to the same search."""
    data = form.cleaned_data
    query = {"filter": data.get("filter") or ""}
    if data.get("since"):
        query["start"] = datetime.fromtimestamp((start or 0) / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    elif data.get("start"):
        query["start"] = data["start"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if data.get("end"):
        query["end"] = data["end"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {k: v for k, v in query.items() if v}


@require_GET
def function_logs_tail(request: HttpRequest, app_id: str, branch: str, name: str) -> HttpResponse:
    """htmx poll: the events newer than the last one shown, and the poller again."""
    branch_obj = _branch(app_id, branch)
    function = _function(branch_obj, name)
    raw_after = request.GET.get("after", "")
    if not (raw_after.isdigit() and len(raw_after) <= 15):
        return HttpResponseBadRequest("`after` must be a time in milliseconds.")
    after = int(raw_after)
    seen = frozenset(s for s in request.GET.get("seen", "").split(",")[:MAX_SEEN] if s)
    pattern = request.GET.get("filter", "")[:1024]
    context = _base(branch_obj, function=function, filter=pattern)
    try:
        events = selectors.events_after(function.name, after=after, seen=seen, pattern=pattern)
    except AwsError as error:
        events, context["tail_problem"] = [], str(error)
    if events:
        last = events[-1].timestamp
        at_last = [e.event_id for e in events if e.timestamp == last]
        seen = frozenset(at_last if last != after else [*seen, *at_last])
        after = last
    context.update(
        events=events, tail_query=urlencode({"after": after, "seen": ",".join(sorted(seen)[:MAX_SEEN]), "filter": pattern})
    )
    return render(request, "functions/logs.html#tail-update", context)


@require_GET
def function_logs_download(request: HttpRequest, app_id: str, branch: str, name: str) -> HttpResponse | StreamingHttpResponse:
    branch_obj = _branch(app_id, branch)
    function = _function(branch_obj, name)
    form = _logs_form(request)
    if form.errors:
        return HttpResponseBadRequest(
            "Correct the time range: " + "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
    start, end = form.window()
    pattern = form.cleaned_data["filter"]
    events = selectors.matching_events(function.name, pattern=pattern, start=start, end=end)
    try:
        first = next(events, None)  # a refused pattern answers 400 before anything is sent
    except BadFilterPattern as refused:
        return HttpResponseBadRequest(str(refused), content_type="text/plain; charset=utf-8")
    except AwsError as error:
        return HttpResponse(str(error), status=502, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(_as_text(first, events), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{function.name}.log"'
    return response


def _as_text(first: LogEvent | None, rest: Iterator[LogEvent]) -> Iterator[bytes]:
    if first is None:
        return
    yield _line(first)
    for count, event in enumerate(rest, start=1):
        if count >= selectors.DOWNLOAD_CAP:
            yield (
                f"# Stopped at {selectors.DOWNLOAD_CAP:,} events: more match. "
                "Narrow the time range or the filter to download the rest.\n"
            ).encode()
            return
        yield _line(event)


def _line(event: LogEvent) -> bytes:
    message = event.message.rstrip("\n").replace("\n", "\n\t")
    return f"{event.time.isoformat(timespec='milliseconds')} {event.stream} {message}\n".encode()
