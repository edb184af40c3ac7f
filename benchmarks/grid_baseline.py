"""The records page as it was before the grid (main at b80d5d4): its view, under a URL of
its own next to the console's, rendering the old template (benchmarks/templates/bench/).
For bench_data_grid.py only: the baseline it compares the grid page with, in the same run."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import include, path, reverse
from django.views.decorators.http import require_GET

from apps.datamanager import counts, dynamo, values
from apps.datamanager.forms import describe_type, rules_for
from apps.datamanager.models import DataTask
from apps.datamanager.views import (
    _TRAIL_SALT,
    MAX_TRAIL,
    PAGE_SIZES,
    Context,
    PageProblem,
    _enum_values,
    _filter,
    _problem,
    _trail,
    key_token,
    model_page,
)
from console.aws_errors import AwsError
from console.roles import Role, has_role

CELL_LIMIT = 80


def _cell(field_text: str) -> tuple[str, bool]:
    return (field_text if len(field_text) <= CELL_LIMIT else field_text[:CELL_LIMIT] + "…"), len(field_text) > CELL_LIMIT


@require_GET
@model_page()
def model_records_before_grid(request: HttpRequest, ctx: Context) -> HttpResponse:
    app_id, branch, model = ctx.route
    size = int(request.GET["size"]) if request.GET.get("size", "").isdigit() and int(request.GET["size"]) in PAGE_SIZES else 25
    where, filter_values, filter_error = _filter(ctx, request)
    after, trail = request.GET.get("after", ""), _trail(request)
    context = ctx.base()
    try:
        page = dynamo.scan_page(ctx.table, size=size, cursor=after, where=where)
        if request.GET.get("count") == "exact":
            if has_role(request.user, Role.OPERATOR):
                context["exact"] = counts.exact_count(table=ctx.table, where=where)
            else:
                context["exact_refused"] = True
    except dynamo.BadCursor as error:
        messages.error(request, str(error))
        return redirect(reverse("data_model", args=[app_id, branch, model]))
    except AwsError as error:
        return _problem(request, app_id, branch, PageProblem(str(error)))
    columns = [f for f in ctx.model.stored_fields]
    rows = []
    for item in page.items:
        cells = [(f, *_cell(values.to_text(f, item.get(f.name))), values.to_text(f, item.get(f.name))) for f in columns]
        rows.append({"token": key_token(ctx.model, item), "cells": cells})
    query = {k: v for k, v in filter_values.items() if v} | ({"size": str(size)} if size != 25 else {})
    base_query = urlencode(query)
    next_query = (
        urlencode({**query, "after": page.next_cursor, "trail": signing.dumps([*trail, after][-MAX_TRAIL:], salt=_TRAIL_SALT)})
        if page.next_cursor
        else ""
    )
    previous_query = ""
    if after:
        previous_trail = trail[:-1]
        previous = {**query, **({"after": trail[-1]} if trail and trail[-1] else {})}
        if previous_trail:
            previous["trail"] = signing.dumps(previous_trail, salt=_TRAIL_SALT)
        previous_query = urlencode(previous)
    context.update(
        columns=columns,
        column_types={f.name: describe_type(f, ctx.data.schema) for f in columns},
        rows=rows,
        size=size,
        page_sizes=PAGE_SIZES,
        filter=filter_values,
        filter_error=filter_error,
        filter_fields=[f for f in columns if not f.is_array and f.kind != "nonModel"],
        operators=list(dynamo.FILTER_OPERATORS),
        base_query=base_query,
        next_query=next_query,
        previous_query=previous_query,
        page_number=max(len(trail), 1 if after else 0) + 1,
        relationships=ctx.model.relationships,
        tasks=DataTask.objects.filter(branch=ctx.branch, model_name=ctx.model.name)[:5],
        seed_fields=[(f, rules_for(f), _enum_values(ctx, f)) for f in ctx.model.editable_fields],
    )
    return render(request, "bench/records_before_grid.html", context)


urlpatterns = [
    path("bench/apps/<str:app_id>/branches/<str:branch>/models/<str:model>/", model_records_before_grid, name="bench_records"),
    path("", include("console.urls")),
]
