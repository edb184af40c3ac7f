"""The grid's endpoints: a cell's whole value (the side panel), a cell edit, a person's
column layout, the parent picker's search, a hasMany's child count and a file put into a
record. Viewers read; operators edit; anyone signed in keeps their own layout."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST

from apps.datamanager import dynamo, grid, services, values
from apps.datamanager.forms import CellForm
from apps.datamanager.schema import Field
from apps.datamanager.views import Context, grid_builder, key_from_token, model_page, table_key
from apps.storage.selectors import bucket_get, key_problem, size_problem, upload_content_type
from console.aws_errors import AwsError
from console.roles import Role, has_role, role_required

PARENT_PAGE = 10
MAX_POSTED_NAMES = 500
# A hasMany's children are counted with a Scan when no index is keyed by their field; it stops
# after reading this many records and shows "N+".
COUNT_SCAN_LIMIT = 5000
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def _stored_field(ctx: Context, name: str) -> Field:
    try:
        found = ctx.model.field(name)
    except KeyError:
        raise Http404(f"{ctx.model.name} has no field {name[:100]!r}.") from None
    if not found.is_stored:
        raise Http404(f"{found.name} is a relationship, not a stored value.")
    return found


def _records_url(ctx: Context, query: str = "") -> str:
    url = reverse("data_model", args=ctx.route)
    return f"{url}?{query}" if query else url


def _get(ctx: Context, token: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(table key, the record or None) of a signed record token."""
    key = table_key(ctx, key_from_token(ctx, token))
    return key, dynamo.get_item(ctx.table, key)


def _structured(field: Field) -> bool:
    return field.is_array or field.kind == "nonModel" or field.type == "AWSJSON"


def _pretty(field: Field, text: str) -> str:
    if _structured(field):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text


@require_GET
@model_page()
def cell_panel(request: HttpRequest, ctx: Context) -> HttpResponse:
    """The side panel: one field of one record, whole (`raw=1`: the text alone, for the editor)."""
    field = _stored_field(ctx, request.GET.get("field", ""))
    token = request.GET.get("key", "")
    try:
        _, item = _get(ctx, token)
    except AwsError as error:
        return HttpResponse(escape(str(error)), status=502)
    if item is None:
        return HttpResponse(f"That {escape(ctx.model.name)} record no longer exists.", status=404)
    text = values.to_text(field, item.get(field.name))
    if request.GET.get("raw") == "1":
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    builder, prefs = grid_builder(request, ctx)
    marked = field.name in prefs.file_fields
    file = builder.files.find(text, marked=marked) if grid.holds_text(field) and text else None
    editable = field in ctx.model.editable_fields and field.name not in ctx.model.key_fields
    row = builder.row(item)
    context = {
        **ctx.base(),
        "field": field,
        "pretty": _pretty(field, text),
        "structured": _structured(field),
        "empty": not text,
        "type_text": next((c.title for c in builder.columns if c.name == field.name), field.type),
        "file": file,
        "file_url": next((c.file_url for c in row.cells if c.column.name == field.name and c.file), ""),
        "can_upload": has_role(request.user, Role.OPERATOR)
        and editable
        and grid.holds_text(field)
        and (file is not None or marked),
        "token": token,
        "version": str(item.get("updatedAt") or ""),
        "edit_url": row.edit_url,
        "max_bytes": settings.STORAGE_UPLOAD_PART_BYTES,
    }
    return render(request, "datamanager/cell_panel.html", context)


def _refused(request: HttpRequest, ctx: Context, message: str, status: int) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "datamanager/cell_error.html", {"message": message}, status=status)
    messages.error(request, message)
    return redirect(_records_url(ctx, request.POST.get("return_query", "")))


@require_POST
@role_required(Role.OPERATOR)
@model_page()
def cell_update(request: HttpRequest, ctx: Context) -> HttpResponse:
    """One cell: the record form's checks for the field, then one conditional UpdateItem on the
    updatedAt the page was rendered with. 409 names both values when the record changed."""
    field = _stored_field(ctx, request.POST.get("field", ""))
    if field not in ctx.model.editable_fields or field.name in ctx.model.key_fields:
        return _refused(request, ctx, f"{field.name} is not edited here (keys and values the service sets).", 400)
    form = CellForm(request.POST, schema=ctx.data.schema, field=field)
    if not form.is_valid():
        return _refused(request, ctx, f"{field.name}: {form.error_text()} Nothing was saved.", 400)
    key = table_key(ctx, key_from_token(ctx, request.POST.get("key", "")))
    try:
        item = services.record_field_update(
            actor=request.user,
            branch=ctx.branch,
            model=ctx.model,
            table=ctx.table,
            key=key,
            field=field.name,
            value=form.cleaned_value,
            loaded_updated_at=form.cleaned_data.get("loaded_updated_at") or None,
        )
    except dynamo.RecordConflict:
        return _refused(request, ctx, _conflict(ctx, key, field, request.POST.get("value", "")), 409)
    except AwsError as error:
        return _refused(request, ctx, f"Not saved: {error}", 502)
    if request.htmx:  # type: ignore[attr-defined]
        builder, _ = grid_builder(request, ctx)
        context = {**ctx.base(), "row": builder.row(item), "can_edit": True}
        return render(request, "datamanager/records.html#row", context)
    messages.success(request, f"{ctx.model.name} {field.name} saved.")
    return redirect(_records_url(ctx, request.POST.get("return_query", "")))


def _conflict(ctx: Context, key: dict[str, Any], field: Field, yours: str) -> str:
    current = dynamo.get_item(ctx.table, key)
    if current is None:
        return f"Not saved: this {ctx.model.name} record was deleted since the page was loaded."
    theirs = values.to_text(field, current.get(field.name))
    return (
        f"Not saved: someone changed this {ctx.model.name} record since the page was loaded. "
        f"Your {field.name}: “{yours[:300]}”; now stored: “{theirs[:300]}”. Reload to edit the current record."
    )


@require_POST
@model_page()
def grid_preferences(request: HttpRequest, ctx: Context) -> HttpResponse:
    """Keep the signed-in person's layout of this grid (any role: it changes no data and no one
    else's view). Unknown column names are dropped, widths clamped."""
    names = grid.column_names(ctx.model)
    if request.POST.get("part") == "widths":
        posted = [k for k in request.POST if k.startswith("width-")][:MAX_POSTED_NAMES]
        widths = {k[len("width-") :]: request.POST.get(k, "") for k in posted}
        prefs = grid.clean_preferences(ctx.model, hidden=[], widths=widths, file_fields=[])
        part = "widths"
    else:
        shown = set(request.POST.getlist("show")[:MAX_POSTED_NAMES])
        files = request.POST.getlist("file")[:MAX_POSTED_NAMES]
        prefs = grid.clean_preferences(ctx.model, hidden=[n for n in names if n not in shown], widths={}, file_fields=files)
        part = "columns"
    services.grid_preferences_save(user=request.user, branch=ctx.branch, model=ctx.model, preferences=prefs, part=part)
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(status=204)
    messages.success(request, f"Your columns of {ctx.model.name} are saved.")
    return redirect(_records_url(ctx, request.POST.get("return_query", "")))


def display_field(model: Any) -> Field:
    """What names a record in the picker: its first required text field, else its first text
    field, else its key."""
    texts = [f for f in model.stored_fields if grid.holds_text(f) and f.name not in model.key_fields]
    required = [f for f in texts if f.is_required]
    return (required or texts or [model.field(model.primary_key)])[0]


@require_GET
@model_page()
def parent_search(request: HttpRequest, ctx: Context) -> HttpResponse:
    """Existing parent records for a belongsTo key field, a page at a time; `q` keeps those whose
    display field contains it (DynamoDB's `contains`: case-sensitive)."""
    field_name = request.GET.get("field", "")
    parent = grid.parents_by_key(ctx.data.schema, ctx.model).get(field_name)
    if parent is None:
        raise Http404(f"{field_name[:100]} is not the key of a parent record.")
    shown = display_field(parent)
    query = request.GET.get("q", "").strip()[:200]
    where = dynamo.Filter(field=shown.name, operator="contains", value=query) if query else None
    try:
        table = ctx.data.table(parent)
        page = dynamo.scan_page(table, size=PARENT_PAGE, cursor=request.GET.get("after", ""), where=where)
    except dynamo.BadCursor:
        page = dynamo.scan_page(table, size=PARENT_PAGE, where=where)
    except (dynamo.TableMissing, AwsError) as error:
        return HttpResponse(f'<p class="error" role="alert">{escape(str(error))}</p>')
    key_field = parent.field(parent.primary_key)
    options = [
        (values.to_text(key_field, item.get(key_field.name)), values.to_text(shown, item.get(shown.name))) for item in page.items
    ]
    more = ""
    if page.next_cursor:
        more = f"{request.path}?{urlencode({'field': field_name, 'q': query, 'after': page.next_cursor})}"
    context = {"options": options, "field_name": field_name, "parent": parent, "shown": shown, "query": query, "more": more}
    return render(request, "datamanager/parent_options.html", context)


@require_GET
@model_page()
def child_count(request: HttpRequest, ctx: Context) -> HttpResponse:
    """How many records of a hasMany's model point at this record (the grid fetches it per cell)."""
    relation = next((f for f in grid.has_many(ctx.model) if f.name == request.GET.get("field", "")), None)
    child = ctx.data.schema.model(relation.type) if relation else None
    child_field = grid.child_key_field(ctx.data.schema, relation) if relation else ""
    if relation is None or child is None or not child_field:
        raise Http404("No such hasMany field.")
    key = key_from_token(ctx, request.GET.get("key", ""))
    own = values.to_text(ctx.model.field(ctx.model.primary_key), key.get(ctx.model.primary_key))
    try:
        value = values.parse_text(child.field(child_field), own, ctx.data.schema)
        counted = dynamo.count_matching(ctx.data.table(child), child_field, value, scan_limit=COUNT_SCAN_LIMIT)
    except (values.FieldError, dynamo.TableMissing, AwsError):
        return HttpResponse(f"{escape(relation.name)}: not counted")
    plus = "" if counted.complete else "+"
    return HttpResponse(f"{escape(relation.name)}: {counted.count}{plus}")


def _safe_file_name(name: str) -> str:
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE_NAME.sub("", base).strip().strip(".")
    return cleaned[-200:] or "file"


@dataclass(frozen=True)
class _Upload:
    bucket: str
    object_key: str


def _upload_plan(ctx: Context, request: HttpRequest, field: Field, item: dict[str, Any] | None) -> _Upload | str:
    """Where the posted file goes (bucket, key under the field's folder), or why it may not."""
    upload = request.FILES.get("file")
    _, prefs = grid_builder(request, ctx)
    files = grid.files_of(ctx.branch)
    current = values.to_text(field, item.get(field.name)) if item else ""
    target = files.upload_target(current)
    limit = settings.STORAGE_UPLOAD_PART_BYTES
    if item is None:
        return f"That {ctx.model.name} record no longer exists."
    if not grid.holds_text(field) or field not in ctx.model.editable_fields or field.name in ctx.model.key_fields:
        return f"{field.name} cannot hold a file's path."
    if field.name not in prefs.file_fields and files.find(current, marked=False) is None:
        return f"{field.name} holds no file path; mark it as a file field in Columns first."
    if upload is None or upload.size is None:
        return "Choose a file to upload."
    if target is None:
        return "This branch has no storage bucket to put the file in."
    if upload.size > limit:
        return f"Files of at most {limit // (1024 * 1024)} MB go into records here; use the file browser for larger ones."
    object_key = f"{target[1]}{ctx.model.name}/{uuid.uuid4().hex[:12]}/{_safe_file_name(upload.name or '')}"
    return size_problem(upload.size) or key_problem(object_key) or _Upload(bucket=target[0], object_key=object_key)


@require_POST
@role_required(Role.OPERATOR)
@model_page()
def record_file(request: HttpRequest, ctx: Context) -> HttpResponse:
    """Put an uploaded file in the branch's bucket under the field's folder and set the field to
    its key. The field must hold a storage path already or be marked as a file field."""
    token = request.POST.get("key", "")
    back = (
        f"{reverse('data_record_edit', args=ctx.route)}?{urlencode({'key': token})}"
        if request.POST.get("back") == "edit"
        else _records_url(ctx)
    )
    field = _stored_field(ctx, request.POST.get("field", ""))
    try:
        key, item = _get(ctx, token)
    except AwsError as error:
        messages.error(request, f"Nothing was uploaded: {error}")
        return redirect(back)
    plan = _upload_plan(ctx, request, field, item)
    upload = request.FILES.get("file")
    if isinstance(plan, str) or upload is None or upload.size is None:
        messages.error(request, f"{plan} Nothing was uploaded.")
        return redirect(back)
    bucket = bucket_get(ctx.branch, plan.bucket)
    try:
        services.record_file_attach(
            actor=request.user,
            branch=ctx.branch,
            model=ctx.model,
            table=ctx.table,
            key=key,
            field=field.name,
            loaded_updated_at=request.POST.get("loaded_updated_at", "")[:64] or None,
            bucket=bucket,
            object_key=plan.object_key,
            body=upload,
            length=upload.size,
            content_type=upload_content_type(upload.content_type or "", plan.object_key),
        )
    except dynamo.RecordConflict:
        messages.error(
            request,
            f"The file is in {bucket.name} as {plan.object_key}, but the record changed since the page was loaded, "
            f"so {field.name} was not changed. Reload and upload again.",
        )
    except AwsError as error:
        messages.error(request, f"Not saved: {error}")
    else:
        messages.success(request, f"{field.name} now points at {plan.object_key} in {bucket.name}.")
    return redirect(back)
