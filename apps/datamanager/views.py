"""The data manager pages of a branch: models, a page of records, record forms,
delete, seed, export and import. Viewers browse and export; operators write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.branches.models import Branch
from apps.branches.selectors import OutputsInvalid, app_get, branch_get
from apps.datamanager import counts, dynamo, grid, services, values
from apps.datamanager.forms import RecordForm, rules_for
from apps.datamanager.models import DataTask
from apps.datamanager.schema import Field, Model, SchemaInvalid
from apps.datamanager.sources import BranchData, NoSchema, branch_data
from console.aws_errors import AwsError
from console.roles import Role, has_role, require_role, role_required

PAGE_SIZES = (25, 50, 100)
Response = TypeVar("Response", bound=HttpResponseBase)
MAX_TRAIL = 200
MAX_OUTPUTS_UPLOAD = 5 * 1024 * 1024
_TRAIL_SALT = "datamanager.trail"


@dataclass
class Context:
    """What every data page works from: the branch, its data and the chosen model."""

    branch: Branch
    data: BranchData
    model: Model
    table: dynamo.Table

    @property
    def route(self) -> tuple[str, str, str]:
        """(app id, branch as in URLs, model name): the page's URL arguments."""
        return self.branch.app.app_id, self.branch.display_name, self.model.name

    def base(self) -> dict[str, Any]:
        schema = self.data.schema
        return {"app": self.branch.app, "branch": self.branch, "schema": schema, "model": self.model, "table": self.table}


class PageProblem(Exception):
    """A page cannot show data (no schema, no table, AWS refused): the message says why."""


def _branch(app_id: str, branch: str) -> Branch:
    return branch_get(app_get(app_id), branch)


def _data(branch: Branch) -> BranchData:
    try:
        return branch_data(branch)
    except (NoSchema, SchemaInvalid, AwsError) as error:
        raise PageProblem(str(error)) from None


def _context(app_id: str, branch_name: str, model_name: str) -> Context:
    branch = _branch(app_id, branch_name)
    data = _data(branch)
    model = data.schema.model(model_name)
    if model is None:
        raise Http404(f"No model {model_name} in this branch's schema.")
    try:
        table = data.table(model)
    except (dynamo.TableMissing, AwsError) as error:
        raise PageProblem(str(error)) from None
    return Context(branch=branch, data=data, model=model, table=table)


def model_page(*, post_role: Role | None = None) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A page of one model: the view gets the resolved Context instead of the URL's app,
    branch and model, and a page that cannot show data (no schema, no table) explains
    why. `post_role` is checked first, before any AWS call, for views that also write."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def wrapped(request: HttpRequest, app_id: str, branch: str, model: str, **kwargs: Any) -> Response:
            if post_role is not None and request.method == "POST":
                require_role(request, post_role)
            try:
                ctx = _context(app_id, branch, model)
            except PageProblem as problem:
                return cast(Response, _problem(request, app_id, branch, problem))
            return view(request, ctx, **kwargs)

        return wrapped

    return decorator


def _problem(request: HttpRequest, app_id: str, branch_name: str, problem: PageProblem, status: int = 200) -> HttpResponse:
    branch = _branch(app_id, branch_name)
    context = {"app": branch.app, "branch": branch, "problem": str(problem)}
    return render(request, "datamanager/problem.html", context, status=status)


def key_token(model: Model, item: dict[str, Any]) -> str:
    return grid.record_token(model, {k: values.to_text(model.field(k), item.get(k)) for k in model.key_fields})


def key_from_token(ctx: Context, token: str) -> dict[str, Any]:
    """A record key from a signed token; keys never come from raw request input."""
    try:
        data = signing.loads(token, salt=grid.KEY_SALT)
    except signing.BadSignature:
        raise Http404("Unknown record.") from None
    if not isinstance(data, dict) or data.get("m") != ctx.model.name:
        raise Http404("Unknown record.")
    key = {name: values.parse_text(ctx.model.field(name), text, ctx.data.schema) for name, text in data["k"].items()}
    return dynamo.with_composite_key(ctx.table, key) if ctx.table.range_key else key


def table_key(ctx: Context, key: dict[str, Any]) -> dict[str, Any]:
    """The DynamoDB key (hash, range) of a record key given by model fields."""
    full = dynamo.with_composite_key(ctx.table, dict(key))
    return {name: full[name] for name in ctx.table.key_names if name in full}


@require_GET
def data_home(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    tasks = DataTask.objects.filter(branch=branch_obj)[:10]
    context: dict[str, Any] = {"app": branch_obj.app, "branch": branch_obj, "tasks": tasks}
    try:
        context["data"] = _data(branch_obj)
    except PageProblem as problem:
        context["problem"] = str(problem)
    return render(request, "datamanager/home.html", context)


@require_POST
@role_required(Role.OPERATOR)
def outputs_upload(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    upload = request.FILES.get("outputs")
    if upload is None:
        messages.error(request, "Choose an amplify_outputs.json file to upload.")
    elif upload.size is not None and upload.size > MAX_OUTPUTS_UPLOAD:
        messages.error(request, f"The file is {upload.size:,} bytes; amplify_outputs.json files are at most 5 MB.")
    else:
        try:
            services.outputs_upload(actor=request.user, branch=branch_obj, text=upload.read(), file_name=upload.name or "")
        except OutputsInvalid as invalid:
            # Every problem (parse_outputs caps them at MAX_ERRORS), so one round of fixes is enough.
            messages.error(request, "The file was not kept: " + "; ".join(invalid.errors))
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Schema loaded from {upload.name}.")
    return redirect("data_home", app_id=app_id, branch=branch)


def _filter(ctx: Context, request: HttpRequest) -> tuple[dynamo.Filter | None, dict[str, str], str]:
    """(filter, its form values, error) from ?field=&op=&value=."""
    raw = {key: request.GET.get(key, "")[:1000] for key in ("field", "op", "value")}
    if not raw["field"] or raw["value"] == "":
        return None, raw, ""
    try:
        field = ctx.model.field(raw["field"])
    except KeyError:
        return None, raw, f"{raw['field']} is not a field of {ctx.model.name}."
    if not field.is_stored or field.is_array or field.kind == "nonModel":
        return None, raw, f"{field.name} cannot be filtered on (lists and objects are not compared)."
    op = raw["op"] if raw["op"] in dynamo.FILTER_OPERATORS else "equals"
    if op == "equals":
        try:
            value = values.parse_text(field, raw["value"], ctx.data.schema)
        except values.FieldError as error:
            return None, raw, str(error)
    else:
        value = raw["value"]
    return dynamo.Filter(field=field.name, operator=op, value=value), {**raw, "op": op}, ""


def grid_builder(request: HttpRequest, ctx: Context) -> tuple[grid.GridBuilder, grid.Preferences]:
    return grid.builder_for(request.user, ctx.branch, ctx.data.schema, ctx.model)


def _trail(request: HttpRequest) -> list[str]:
    token = request.GET.get("trail", "")
    if not token:
        return []
    try:
        trail = signing.loads(token, salt=_TRAIL_SALT)
    except signing.BadSignature:
        return []
    return [str(c) for c in trail] if isinstance(trail, list) else []


@require_GET
@model_page()
def model_records(request: HttpRequest, ctx: Context) -> HttpResponse:
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
    can_edit = has_role(request.user, Role.OPERATOR)
    context.update(grid.page_context(request.user, ctx.branch, ctx.data.schema, ctx.model, page.items, can_edit=can_edit))
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
        size=size,
        page_sizes=PAGE_SIZES,
        filter=filter_values,
        filter_error=filter_error,
        filter_fields=[f for f in ctx.model.stored_fields if not f.is_array and f.kind != "nonModel"],
        operators=list(dynamo.FILTER_OPERATORS),
        base_query=base_query,
        next_query=next_query,
        previous_query=previous_query,
        # The trail holds the cursors of the pages before this one (the first page's is "").
        page_number=max(len(trail), 1 if after else 0) + 1,
        relationships=ctx.model.relationships,
        tasks=DataTask.objects.filter(branch=ctx.branch, model_name=ctx.model.name)[:5],
        seed_fields=[(f, rules_for(f), _enum_values(ctx, f)) for f in ctx.model.editable_fields],
    )
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "datamanager/records.html#table", context)
    return render(request, "datamanager/records.html", context)


def _enum_values(ctx: Context, field: Field) -> tuple[str, ...]:
    enum = ctx.data.schema.enums.get(field.type) if field.kind == "enum" else None
    return enum.values if enum else ()


@require_http_methods(["GET", "POST"])
@model_page(post_role=Role.OPERATOR)
def record_new(request: HttpRequest, ctx: Context) -> HttpResponse:
    if request.method == "POST":
        return _record_new_post(request, ctx)
    form = RecordForm(schema=ctx.data.schema, model=ctx.model)
    return render(request, "datamanager/record_form.html", {**ctx.base(), **_pickers(ctx), "form": form, "editing": False})


def _pickers(ctx: Context, *, editing: bool = False) -> dict[str, Any]:
    return {"pickers": grid.pickers(ctx.branch, ctx.data.schema, ctx.model, editing=editing)}


def _record_new_post(request: HttpRequest, ctx: Context) -> HttpResponse:
    form = RecordForm(request.POST, schema=ctx.data.schema, model=ctx.model)
    if form.is_valid():
        try:
            item = services.record_create(
                actor=request.user,
                branch=ctx.branch,
                model=ctx.model,
                table=ctx.table,
                values={k: v for k, v in form.cleaned_values.items() if v is not None},
            )
        except (dynamo.RecordConflict, AwsError) as error:
            form.add_error(None, str(error))
        else:
            label = ", ".join(f"{k}={values.to_text(ctx.model.field(k), item.get(k))}" for k in ctx.model.key_fields)
            messages.success(request, f"{ctx.model.name} {label} created.")
            return redirect("data_model", app_id=ctx.branch.app.app_id, branch=ctx.branch.display_name, model=ctx.model.name)
    context = {**ctx.base(), **_pickers(ctx), "form": form, "editing": False}
    return render(request, "datamanager/record_form.html", context, status=400)


@require_http_methods(["GET", "POST"])
@model_page(post_role=Role.OPERATOR)
def record_edit(request: HttpRequest, ctx: Context) -> HttpResponse:
    app_id, branch, model = ctx.route
    token = request.GET.get("key", "") or request.POST.get("key", "")
    key = key_from_token(ctx, token)
    try:
        item = dynamo.get_item(ctx.table, table_key(ctx, key))
    except AwsError as error:
        return _problem(request, app_id, branch, PageProblem(str(error)))
    if item is None:
        messages.error(request, f"That {ctx.model.name} record no longer exists.")
        return redirect("data_model", app_id=app_id, branch=branch, model=model)
    if request.method == "POST":
        return _record_edit_post(request, ctx, item, token)
    form = RecordForm(initial=RecordForm.initial_from(ctx.model, item), schema=ctx.data.schema, model=ctx.model, editing=True)
    return render(request, "datamanager/record_form.html", _edit_context(ctx, form, item, token, request.user))


def _edit_context(ctx: Context, form: RecordForm, item: dict[str, Any], token: str, user: Any) -> dict[str, Any]:
    links = []
    for relation in ctx.model.relationships:
        association = relation.association
        targets = association.target_names if association else ()
        keys = [(name, values.to_text(ctx.model.field(name), item.get(name))) for name in targets if name in item]
        parent = ctx.data.schema.model(relation.type)
        query = ""
        if association and association.connection_type == "BELONGS_TO" and parent and len(keys) == 1 and keys[0][1]:
            query = urlencode({"field": parent.primary_key, "op": "equals", "value": keys[0][1]})
        links.append({"field": relation, "keys": keys, "parent_query": query})
    readonly = [(f, values.to_text(f, item.get(f.name))) for f in ctx.model.stored_fields if f not in ctx.model.editable_fields]
    return {
        **ctx.base(),
        **_pickers(ctx, editing=True),
        "form": form,
        "editing": True,
        "token": token,
        "links": links,
        "readonly": readonly,
        "version": str(item.get("updatedAt") or ""),
        "file_fields": grid.replaceable_file_fields(user, ctx.branch, ctx.model, item),
    }


def _record_edit_post(request: HttpRequest, ctx: Context, current: dict[str, Any], token: str) -> HttpResponse:
    form = RecordForm(request.POST, schema=ctx.data.schema, model=ctx.model, editing=True)
    form.initial = RecordForm.initial_from(ctx.model, current)
    if form.is_valid():
        loaded_updated_at = form.cleaned_data.get("loaded_updated_at") or None
        # The record as the user loaded it: the save only lands if it is still so.
        loaded = {**current, "updatedAt": loaded_updated_at} if loaded_updated_at else current
        try:
            services.record_update(
                actor=request.user,
                branch=ctx.branch,
                model=ctx.model,
                table=ctx.table,
                loaded=loaded,
                values=form.cleaned_values,
            )
        except (dynamo.RecordConflict, AwsError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{ctx.model.name} saved.")
            return redirect("data_model", app_id=ctx.branch.app.app_id, branch=ctx.branch.display_name, model=ctx.model.name)
    return render(request, "datamanager/record_form.html", _edit_context(ctx, form, current, token, request.user), status=400)


@require_POST
@role_required(Role.OPERATOR)
@model_page()
def records_delete(request: HttpRequest, ctx: Context) -> HttpResponse:
    app_id, branch, model = ctx.route
    tokens = request.POST.getlist("keys")
    back = redirect(f"{reverse('data_model', args=[app_id, branch, model])}?{request.POST.get('return_query', '')}")
    if not tokens:
        messages.error(request, "Select the records to delete first. Nothing was deleted.")
        return back
    expected = f"delete {len(tokens)}"
    if request.POST.get("confirm", "").strip().lower() != expected:
        messages.error(request, f"Type “{expected}” to delete the {len(tokens)} selected records. Nothing was deleted.")
        return back
    keys = [table_key(ctx, key_from_token(ctx, token)) for token in tokens]
    result = services.records_delete(actor=request.user, branch=ctx.branch, model=ctx.model, table=ctx.table, keys=keys)
    if result.failed or result.error:
        messages.error(
            request,
            f"Deleted {result.written} of {len(keys)}; not deleted: "
            + ", ".join(str(k) for k in result.failed[:10])
            + (f" ({result.error})" if result.error else ""),
        )
    else:
        messages.success(request, f"Deleted {result.written} {ctx.model.name} record{'s' if result.written != 1 else ''}.")
    return back


@require_http_methods(["GET", "POST"])
@model_page()
def records_export(request: HttpRequest, ctx: Context) -> HttpResponse | StreamingHttpResponse:
    """All records (or those matching the filter) as CSV, streamed page by page; the selected
    ones when posted (a POST, so the form's CSRF token never lands in a URL or an access log)."""
    app_id, branch, model = ctx.route
    from apps.datamanager.csv_io import export_lines

    where, _, filter_error = _filter(ctx, request)
    if filter_error:
        messages.error(request, filter_error)
        return redirect("data_model", app_id=app_id, branch=branch, model=model)
    params = request.POST if request.method == "POST" else request.GET
    tokens = params.getlist("keys")
    records: Iterator[dict[str, Any]]
    if tokens:
        keys = [table_key(ctx, key_from_token(ctx, token)) for token in tokens[:1000]]
        records = (item for key in keys if (item := dynamo.get_item(ctx.table, key)) is not None)
    else:
        records = dynamo.scan_all(ctx.table, where=where)
    lines = export_lines(ctx.model, records, bom=params.get("bom") == "1")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ctx.branch.display_name}-{ctx.model.name}.csv"'
    return response


@require_GET
def task_status(request: HttpRequest, app_id: str, branch: str, pk: int) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    task = get_object_or_404(DataTask, pk=pk, branch=branch_obj)
    return render(request, "datamanager/task.html", {"app": branch_obj.app, "branch": branch_obj, "task": task})


@require_POST
@role_required(Role.OPERATOR)
def task_retry(request: HttpRequest, app_id: str, branch: str, pk: int) -> HttpResponse:
    """Continue a failed import or seed after what it wrote (its worker died, or AWS refused)."""
    branch_obj = _branch(app_id, branch)
    task = get_object_or_404(DataTask.objects.select_related("branch__app"), pk=pk, branch=branch_obj)
    if services.task_retry(actor=request.user, task=task):
        messages.success(
            request,
            f"{task.get_kind_display()} of {task.model_name} queued again; it continues after the "
            f"{task.resume_at:,} records already handled.",
        )
    else:
        messages.error(request, "This task cannot be retried: it is not failed, or its input is no longer kept.")
    return redirect("data_task", app_id, branch_obj.display_name, task.pk)
