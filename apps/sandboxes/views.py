"""The sandbox inventory pages: rendered from the database at once; AWS is read
only by the detail page, a refresh, and the deletion task."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.sandboxes import cloudformation, selectors
from apps.sandboxes.deletion import request_deletion
from apps.sandboxes.forms import InventorySettingsForm
from apps.sandboxes.inventory import refresh_one, secret_prefix
from apps.sandboxes.models import InventorySettings, RegionScan, Sandbox, SandboxDeletion
from apps.sandboxes.retention import retention_candidates
from apps.secrets.selectors import sandbox_secret_names_at
from console.audit import audit_record
from console.aws_errors import AwsError
from console.csv_stream import csv_response
from console.queue import send
from console.roles import Role, role_required

RETENTION_PREVIEW_LIMIT = 10


def _inventory_context(request: HttpRequest, policy: InventorySettings) -> dict[str, object]:
    filters = selectors.InventoryFilters.from_query(request.GET)
    now = timezone.now()
    page = Paginator(selectors.filtered_sandboxes(filters, policy, now), filters.per_page).get_page(request.GET.get("page"))
    apps = selectors.apps_by_namespace()
    rows = [
        (sandbox, selectors.app_of(sandbox, apps), sandbox.idle_days(now), sandbox.is_stale(policy.stale_after_days, now))
        for sandbox in page.object_list
    ]
    return {
        "filters": filters,
        "page": page,
        "rows": rows,
        "policy": policy,
        "sort_links": _sort_links(filters),
    }


def _sort_links(filters: selectors.InventoryFilters) -> dict[str, tuple[str, str, str]]:
    """Per sortable column: (query string, arrow, aria-sort); a second click reverses."""
    links = {}
    for key in (k for k in selectors.SORTS if not k.startswith("-")):
        if filters.sort == key:
            links[key] = (filters.query_string(sort=f"-{key}"), " ▲", "ascending")
        elif filters.sort == f"-{key}":
            links[key] = (filters.query_string(sort=key), " ▼", "descending")
        else:
            links[key] = (filters.query_string(sort=key), "", "")
    return links


@require_GET
def inventory(request: HttpRequest) -> HttpResponse:
    policy = InventorySettings.load()
    context = _inventory_context(request, policy)
    # The filters and the pager swap the table alone; the refresh poll picks its part of the whole page.
    if request.htmx.target == "inventory-table":  # type: ignore[attr-defined]
        return render(request, "sandboxes/inventory.html#table", context)
    scans = list(RegionScan.objects.all())
    context.update(
        summary=selectors.inventory_summary(policy),
        choices=selectors.filter_choices(),
        statuses=Sandbox.Status.choices,
        scans=scans,
        refreshing=any(s.started_at and (not s.finished_at or s.finished_at < s.started_at) for s in scans),
        never_refreshed=not scans,
        settings_form=InventorySettingsForm(instance=policy),
        retention=list(retention_candidates(policy)[:RETENTION_PREVIEW_LIMIT]),
        retention_total=retention_candidates(policy).count(),
        page_sizes=selectors.PAGE_SIZES,
    )
    return render(request, "sandboxes/inventory.html", context)


@require_GET
def inventory_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every sandbox the filters select (all pages), for audits."""
    policy = InventorySettings.load()
    filters = selectors.InventoryFilters.from_query(request.GET)
    now = timezone.now()
    apps = selectors.apps_by_namespace()

    def rows() -> Iterator[list[object]]:
        for s in selectors.filtered_sandboxes(filters, policy, now).iterator(chunk_size=500):
            app = selectors.app_of(s, apps)
            yield [
                s.stack_name,
                s.namespace,
                s.identifier,
                app.app_id if app else "",
                s.region,
                s.status,
                s.stack_status,
                _iso(s.created_time),
                _iso(s.last_updated),
                s.idle_days(now),
                s.is_stale(policy.stale_after_days, now),
                s.resource_count if s.resource_count is not None else "",
                s.secret_count,
                _iso(s.first_seen),
                _iso(s.last_seen),
                _iso(s.deleted_at),
                s.deleted_by_name,
                s.stack_id,
            ]

    header = [
        "stack_name",
        "namespace",
        "identifier",
        "app_id",
        "region",
        "status",
        "stack_status",
        "created",
        "last_updated",
        "idle_days",
        "stale",
        "resources",
        "secrets",
        "first_seen",
        "last_seen",
        "deleted_at",
        "deleted_by",
        "stack_id",
    ]
    return csv_response(header, rows(), f"sandboxes-{now:%Y%m%d-%H%M}.csv")


def _iso(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else ""


@require_POST
@role_required(Role.OPERATOR)
def refresh(request: HttpRequest) -> HttpResponse:
    if not send("apps.sandboxes.tasks.refresh_sandboxes"):
        messages.error(
            request,
            "The task queue cannot be reached right now, so the refresh did not start. Try again in a "
            "moment; the inventory also refreshes on its own schedule once the queue is back.",
        )
        return redirect("sandboxes")
    audit_record(actor=request.user, action="sandbox.refresh", target_type="sandbox", target="all regions")
    messages.info(request, "Refreshing the inventory from CloudFormation in every region; this page updates when it is done.")
    return redirect("sandboxes")


def _back(request: HttpRequest) -> HttpResponse:
    """To the inventory with the filters the form came from."""
    query = request.POST.get("return_query", "")
    return redirect(f"{reverse('sandboxes')}?{query}" if query and "\n" not in query else reverse("sandboxes"))


@require_POST
@role_required(Role.ADMIN)
def bulk_delete(request: HttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    chosen = list(
        Sandbox.objects.filter(pk__in=ids)
        .exclude(status=Sandbox.Status.DELETED)
        .exclude(deletion__status__in=SandboxDeletion.ACTIVE)
    )
    if not chosen:
        messages.error(request, "Select the sandboxes to delete first.")
        return _back(request)
    expected = f"delete {len(chosen)}"
    if request.POST.get("confirm", "").strip().lower() != expected:
        messages.error(request, f"Type “{expected}” to delete the {len(chosen)} selected sandboxes. Nothing was deleted.")
        return _back(request)
    with_secrets = request.POST.get("with_secrets") == "on"
    queued = request_deletion(actor=request.user, sandboxes=chosen, with_secrets=with_secrets)
    skipped = len(chosen) - len(queued)
    text = f"Deleting {len(queued)} sandbox{'es' if len(queued) != 1 else ''}{' and their secrets' if with_secrets else ''}."
    messages.success(request, text + (f" {skipped} already being deleted." if skipped else ""))
    return _back(request)


@require_POST
@role_required(Role.ADMIN)
def inventory_settings(request: HttpRequest) -> HttpResponse:
    policy = InventorySettings.load()
    form = InventorySettingsForm(request.POST, instance=policy)
    if not form.is_valid():
        for field, errors in form.errors.items():
            text = " ".join(str(e) for e in errors)
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {text}" if label else text)
        return redirect("sandboxes")
    form.save()
    changed = {k: form.cleaned_data[k] for k in form.changed_data}
    # The audit trail redacts keys that mention secrets; this one holds no secret.
    if "retention_with_secrets" in changed:
        changed["retention_deletes_ssm_parameters"] = changed.pop("retention_with_secrets")
    audit_record(
        actor=request.user,
        action="sandbox.settings",
        target_type="sandbox",
        target="inventory settings",
        detail=changed,
    )
    messages.success(request, "Inventory settings saved.")
    return redirect("sandboxes")


@require_POST
@role_required(Role.ADMIN)
def retention_run(request: HttpRequest) -> HttpResponse:
    """Delete now what the retention policy lists (the dry run on the page)."""
    policy = InventorySettings.load()
    candidates = list(retention_candidates(policy))
    expected = f"delete {len(candidates)}"
    if not candidates:
        messages.info(request, f"No sandbox has been idle for more than {policy.retention_days} days.")
        return redirect("sandboxes")
    if request.POST.get("confirm", "").strip().lower() != expected:
        messages.error(request, f"Type “{expected}” to delete the sandboxes listed by the retention policy. Nothing was deleted.")
        return redirect("sandboxes")
    queued = request_deletion(
        actor=request.user,
        sandboxes=candidates,
        with_secrets=policy.retention_with_secrets,
        reason=f"retention policy: idle for more than {policy.retention_days} days",
    )
    messages.success(request, f"Deleting {len(queued)} idle sandboxes.")
    return redirect("sandboxes")


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    sandbox = get_object_or_404(Sandbox, pk=pk)
    context: dict[str, object] = {"sandbox": sandbox}
    try:
        if not sandbox.deletion_active:
            sandbox = refresh_one(sandbox)
        context["detail"] = cloudformation.stack_detail(sandbox.region, sandbox.stack_id)
        if sandbox.status != Sandbox.Status.DELETED:
            prefix = secret_prefix(sandbox.namespace, sandbox.identifier, sandbox.backend_hash)
            context["secret_prefix"] = prefix
            context["secret_names"] = sandbox_secret_names_at(sandbox.region, prefix)
    except AwsError as error:
        context["aws_error"] = str(error)
    context["sandbox"] = sandbox
    context["app"] = selectors.app_of(sandbox, selectors.apps_by_namespace())
    context["idle_days"] = sandbox.idle_days()
    context["stale"] = sandbox.is_stale(InventorySettings.load().stale_after_days)
    return render(request, "sandboxes/detail.html", context)


@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: a sandbox's inventory row (?row=1) or status cell, polled while it is being
    deleted; read from the database only."""
    sandbox = get_object_or_404(Sandbox, pk=pk)
    if request.GET.get("row") != "1":
        return render(request, "sandboxes/status_cell.html", {"sandbox": sandbox})
    policy, now = InventorySettings.load(), timezone.now()
    context = {
        "sandbox": sandbox,
        "app": selectors.app_of(sandbox, selectors.apps_by_namespace()),
        "idle": sandbox.idle_days(now),
        "stale": sandbox.is_stale(policy.stale_after_days, now),
    }
    return render(request, "sandboxes/row.html", context)


@require_POST
@role_required(Role.ADMIN)
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    sandbox = get_object_or_404(Sandbox, pk=pk)
    if request.POST.get("confirm_name", "").strip() != sandbox.stack_name:
        messages.error(request, f"Type the stack name {sandbox.stack_name} exactly to delete this sandbox. Nothing was deleted.")
        return redirect("sandbox_detail", pk=pk)
    with_secrets = request.POST.get("with_secrets") == "on"
    if request_deletion(actor=request.user, sandboxes=[sandbox], with_secrets=with_secrets):
        messages.success(request, f"Deleting {sandbox.stack_name}{' and its secrets' if with_secrets else ''}.")
    else:
        messages.info(request, f"{sandbox.stack_name} is already being deleted.")
    return redirect("sandbox_detail", pk=pk)
