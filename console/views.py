"""Cross-cutting pages: sign-in is Django's; the audit log lives here."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.models import AuditEvent
from console.roles import Role, role_required

AUDIT_PAGE_SIZE = 50


@require_GET
@role_required(Role.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    filters = {key: request.GET.get(key, "").strip() for key in ("actor", "action", "target", "outcome")}
    if filters["actor"]:
        events = events.filter(actor_name=filters["actor"])
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["target"]:
        events = events.filter(target__icontains=filters["target"])
    if filters["outcome"] in AuditEvent.Outcome.values:
        events = events.filter(outcome=filters["outcome"])
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "outcomes": AuditEvent.Outcome.choices,
        # From the trail itself, so "system" and deleted users can be picked too.
        "actors": AuditEvent.objects.order_by("actor_name").values_list("actor_name", flat=True).distinct(),
        "actions": AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct(),
    }
    template = "console/audit_log.html#audit-table" if request.htmx else "console/audit_log.html"  # type: ignore[attr-defined]
    return render(request, template, context)
