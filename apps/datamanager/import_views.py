"""CSV import pages: upload, map columns to fields with a preview and every refusal
by line, then write (in the request for small files, as a task with progress for
large ones). Operators only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.datamanager import csv_io
from apps.datamanager.models import DataTask
from apps.datamanager.views import Context, model_page
from console.audit import audit_record
from console.queue import send_on_commit
from console.roles import Role, role_required

# Files up to this many rows are written during the request; larger ones by a worker.
INLINE_IMPORT_ROWS = 1000
PREVIEW_ROWS = 10
SHOWN_ERRORS = 50


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
@model_page()
def import_upload(request: HttpRequest, ctx: Context) -> HttpResponse:
    app_id, branch, model = ctx.route
    if request.method == "GET":
        return render(request, "datamanager/import_upload.html", ctx.base())
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file to import.")
        return redirect("data_import", app_id=app_id, branch=branch, model=model)
    try:
        if upload.size is not None and upload.size > csv_io.MAX_CSV_BYTES:
            raise csv_io.CsvInvalid([f"The file is {upload.size:,} bytes; the limit is {csv_io.MAX_CSV_BYTES // 2**20} MB."])
        text = csv_io.decode_csv(upload.read(csv_io.MAX_CSV_BYTES + 1))
        parsed = csv_io.read_csv(text)
    except csv_io.CsvInvalid as invalid:
        messages.error(request, "The file cannot be imported: " + "; ".join(invalid.errors))
        return redirect("data_import", app_id=app_id, branch=branch, model=model)
    task = DataTask.objects.create(
        kind=DataTask.Kind.IMPORT,
        branch=ctx.branch,
        model_name=ctx.model.name,
        status=DataTask.Status.DRAFT,
        total=len(parsed.rows),
        payload={"csv": text, "file_name": (upload.name or "")[:255]},
        created_by=request.user if request.user.is_authenticated else None,
    )
    return redirect("data_import_map", app_id=app_id, branch=branch, model=model, pk=task.pk)


def _draft(ctx: Context, pk: int) -> DataTask:
    return get_object_or_404(
        DataTask, pk=pk, branch=ctx.branch, model_name=ctx.model.name, kind=DataTask.Kind.IMPORT, status=DataTask.Status.DRAFT
    )


def _mapping_from(request: HttpRequest, header: list[str]) -> dict[str, str]:
    return {column: request.POST.get(f"map-{index}", "") for index, column in enumerate(header)}


def _map_context(ctx: Context, task: DataTask, mapping: dict[str, str], mode: str) -> dict[str, Any]:
    parsed = csv_io.read_csv(task.payload["csv"])
    problems = csv_io.mapping_problems(parsed.header, mapping, ctx.model)
    results = [] if problems else csv_io.validate_rows(parsed, mapping, ctx.model, ctx.data.schema)
    refused = [r for r in results if r.item is None]
    return {
        **ctx.base(),
        "task": task,
        "header": list(enumerate(parsed.header)),
        "mapping": mapping,
        "fields": csv_io.importable_fields(ctx.model),
        "preview": parsed.rows[:PREVIEW_ROWS],
        "problems": problems,
        "total": len(parsed.rows),
        "valid": len(results) - len(refused),
        "refused": len(refused),
        "errors": [m for r in refused for m in r.messages][:SHOWN_ERRORS],
        "mode": mode,
        "modes": csv_io.MODES,
        "results": results,
    }


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
@model_page()
def import_map(request: HttpRequest, ctx: Context, pk: int) -> HttpResponse:
    app_id, branch, _ = ctx.route
    task = _draft(ctx, pk)
    header = csv_io.read_csv(task.payload["csv"]).header
    if request.method == "GET":
        context = _map_context(ctx, task, csv_io.suggest_mapping(header, ctx.model), csv_io.SKIP)
        return render(request, "datamanager/import_map.html", context)
    mapping = _mapping_from(request, header)
    mode = request.POST.get("mode", csv_io.SKIP)
    mode = mode if mode in csv_io.MODES else csv_io.SKIP
    context = _map_context(ctx, task, mapping, mode)
    if "preview" in request.POST or context["problems"]:
        return render(request, "datamanager/import_map.html", context, status=400 if context["problems"] else 200)
    if context["total"] > INLINE_IMPORT_ROWS:
        return _queue(request, ctx, task, mapping, mode)
    report = csv_io.import_rows(ctx.table, ctx.model, context["results"], mode=mode)
    status = DataTask.Status.SUCCEEDED if not report.unwritten and not report.error else DataTask.Status.FAILED
    DataTask.objects.filter(pk=task.pk).update(
        status=status,
        done=report.written,
        refused=len(report.refused),
        report=report.as_json(),
        error=report.error,
        finished_at=timezone.now(),
        payload={"file_name": task.payload.get("file_name", "")},
    )
    audit_record(
        actor=request.user,
        action="data.import",
        target_type="data",
        target=f"{app_id}/{ctx.branch.name}/{ctx.model.name}",
        outcome="success" if status == DataTask.Status.SUCCEEDED else "failure",
        detail={
            "model": ctx.model.name,
            "written": report.written,
            "refused": len(report.refused),
            "unwritten": len(report.unwritten),
            "mode": mode,
            "file": task.payload.get("file_name", ""),
        },
    )
    return redirect("data_task", app_id=app_id, branch=branch, pk=task.pk)


def _queue(request: HttpRequest, ctx: Context, task: DataTask, mapping: dict[str, str], mode: str) -> HttpResponse:
    DataTask.objects.filter(pk=task.pk).update(
        status=DataTask.Status.PENDING, payload={**task.payload, "mapping": mapping, "mode": mode}, heartbeat_at=timezone.now()
    )
    send_on_commit("apps.datamanager.tasks.run_import", task.pk)
    messages.info(request, f"Importing {task.total:,} rows in the background; this page shows the progress.")
    return redirect("data_task", app_id=ctx.branch.app.app_id, branch=ctx.branch.display_name, pk=task.pk)
