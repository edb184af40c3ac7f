"""The Custom domains page (list, add, edit, remove, check DNS) and the TLS `ask`
endpoint a reverse proxy (Caddy's on-demand TLS) calls before getting a certificate."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.branches import selectors
from apps.branches.models import App, Branch
from apps.hosting import domains
from apps.hosting.domain_dns import DnsRecord, dns_target, records_for, target_addresses
from apps.hosting.domain_forms import SPARE_ROWS, ConfirmDomainForm, DomainForm, Row
from apps.hosting.models import DomainAssociation
from apps.hosting.serving import branch_for_host
from console.forms_util import add_service_errors
from console.roles import Role, role_required


@dataclass(frozen=True)
class ServedName:
    name: str
    branch: Branch
    url: str
    records: list[DnsRecord]
    verified: bool | None  # None: automatic (not stored per name)


@dataclass
class DomainCard:
    domain: DomainAssociation
    names: list[ServedName] = field(default_factory=list)
    automatic: list[ServedName] = field(default_factory=list)
    wildcard: list[DnsRecord] = field(default_factory=list)
    checking: bool = False


def _url(name: str) -> str:
    return f"{settings.HOSTING_SCHEME}://{name}/"


def _card(domain: DomainAssociation) -> DomainCard:
    card = DomainCard(domain=domain, checking=domains.check_pending(domain))
    for sub in domain.sub_domains.select_related("branch").order_by("prefix"):
        name = domains.full_name(sub)
        card.names.append(ServedName(name, sub.branch, _url(name), records_for(name, sub.prefix), sub.dns_verified))
    for name, branch in domains.auto_sub_domains(domain):
        card.automatic.append(ServedName(name, branch, _url(name), [], None))
    if domain.enable_auto_sub_domain:
        card.wildcard = records_for(f"*.{domain.domain_name}", "*")
    return card


def _domain(app: App, domain_name: str) -> DomainAssociation:
    return get_object_or_404(DomainAssociation.objects.select_related("app"), app=app, domain_name=domain_name)


def _default_rows(app: App) -> list[Row]:
    """A new domain: its apex and www serve the production branch, if it is connected."""
    production = app.branches.filter(name=app.production_branch).first()
    pk = str(production.pk) if production else ""
    return [Row("", pk), Row("www", pk)] + [Row("", "")] * SPARE_ROWS


def _context(app: App, **extra: object) -> dict[str, object]:
    return {
        "app": app,
        "branches": list(app.branches.all()),
        "target": dns_target(),
        "target_addresses": target_addresses(),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def hosting_domains(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    if request.method == "POST":
        return _add(request, app)
    if request.htmx and request.GET.get("domain"):  # type: ignore[attr-defined]
        # The card of one domain, polled while its DNS check runs.
        card = _card(_domain(app, request.GET["domain"]))
        context = _context(app, card=card, editing=bool(request.GET.get("editing")))
        return render(request, "hosting/domains.html#domain-card", context)
    return _render_list(request, app, DomainForm(app=app), _default_rows(app))


def _render_list(request: HttpRequest, app: App, form: DomainForm, rows: list[Row], status: int = 200) -> HttpResponse:
    cards = [_card(d) for d in app.domains.select_related("app").order_by("domain_name")]
    context = _context(app, cards=cards, form=form, rows=rows)
    return render(request, "hosting/domains.html", context, status=status)


@role_required(Role.ADMIN)
def _add(request: HttpRequest, app: App) -> HttpResponse:
    form = DomainForm(request.POST, app=app)
    if form.is_valid():
        data = form.cleaned_data
        try:
            domain = domains.domain_create(
                actor=request.user,
                app=app,
                domain_name=data["domain_name"],
                sub_domains=data["sub_domains"],
                enable_auto_sub_domain=data["enable_auto_sub_domain"],
                auto_sub_domain_patterns=data["auto_sub_domain_patterns"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{domain.domain_name} added: create the DNS records below, the console checks them.")
            return redirect("hosting_domains", app_id=app.app_id)
    return _render_list(request, app, form, form.rows() + [Row("", "")] * SPARE_ROWS, status=400)


@require_http_methods(["GET", "POST"])
def hosting_domain_edit(request: HttpRequest, app_id: str, domain_name: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    domain = _domain(app, domain_name)
    if request.method == "POST":
        return _edit(request, app, domain)
    initial = {
        "enable_auto_sub_domain": domain.enable_auto_sub_domain,
        "auto_sub_domain_patterns": ", ".join(domain.auto_sub_domain_patterns),
    }
    rows = [Row(sub.prefix, str(sub.branch_id)) for sub in domain.sub_domains.order_by("prefix")]
    form = DomainForm(initial=initial, app=app, editing=True)
    return _render_edit(request, app, domain, form, rows + [Row("", "")] * SPARE_ROWS, ConfirmDomainForm())


def _render_edit(
    request: HttpRequest,
    app: App,
    domain: DomainAssociation,
    form: DomainForm,
    rows: list[Row],
    delete_form: ConfirmDomainForm,
    status: int = 200,
) -> HttpResponse:
    context = _context(app, domain=domain, card=_card(domain), form=form, rows=rows, delete_form=delete_form, editing=True)
    return render(request, "hosting/domain_edit.html", context, status=status)


@role_required(Role.ADMIN)
def _edit(request: HttpRequest, app: App, domain: DomainAssociation) -> HttpResponse:
    form = DomainForm(request.POST, app=app, editing=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            domains.domain_update(
                actor=request.user,
                domain=domain,
                sub_domains=data["sub_domains"],
                enable_auto_sub_domain=data["enable_auto_sub_domain"],
                auto_sub_domain_patterns=data["auto_sub_domain_patterns"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{domain.domain_name} saved.")
            return redirect("hosting_domains", app_id=app.app_id)
    domain.refresh_from_db()
    rows = form.rows() + [Row("", "")] * SPARE_ROWS
    return _render_edit(request, app, domain, form, rows, ConfirmDomainForm(), status=400)


@require_POST
@role_required(Role.ADMIN)
def hosting_domain_delete(request: HttpRequest, app_id: str, domain_name: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    domain = _domain(app, domain_name)
    delete_form = ConfirmDomainForm(request.POST)
    if delete_form.is_valid():
        try:
            domains.domain_delete(actor=request.user, domain=domain, confirm_name=delete_form.cleaned_data["confirm_name"])
        except ValidationError as error:
            add_service_errors(delete_form, error)
        else:
            messages.success(request, f"{domain_name} removed: the console no longer serves its names.")
            return redirect("hosting_domains", app_id=app.app_id)
    rows = [Row(sub.prefix, str(sub.branch_id)) for sub in domain.sub_domains.order_by("prefix")]
    initial = {
        "enable_auto_sub_domain": domain.enable_auto_sub_domain,
        "auto_sub_domain_patterns": ", ".join(domain.auto_sub_domain_patterns),
    }
    form = DomainForm(initial=initial, app=app, editing=True)
    return _render_edit(request, app, domain, form, rows + [Row("", "")] * SPARE_ROWS, delete_form, status=400)


@require_POST
@role_required(Role.ADMIN)
def hosting_domain_check(request: HttpRequest, app_id: str, domain_name: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    domain = _domain(app, domain_name)
    domains.domain_check_request(actor=request.user, domain=domain)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "hosting/domains.html#domain-card", _context(app, card=_card(domain)))
    messages.info(request, f"Checking the DNS records of {domain.domain_name}…")
    return redirect("hosting_domains", app_id=app.app_id)


def tls_allowed(name: str) -> bool:
    """Whether the console serves `name`, so a certificate for it may be requested: a
    configured custom domain name (explicit or automatic) or an existing branch URL."""
    hostname = name.strip().lower().rstrip(".")
    if not hostname or len(hostname) > domains.MAX_NAME_LENGTH or not hostname.isascii():
        return False
    if isinstance(branch_for_host(hostname), Branch):
        return True
    return domains.branch_for_custom_host(hostname) is not None


@require_GET
@login_not_required
def hosting_tls_ask(request: HttpRequest) -> HttpResponse:
    """Caddy's on-demand TLS asks here before getting a certificate for a name a client
    sent: 200 lets it, anything else refuses, so nobody can make it fetch certificates
    (and spend the ACME rate limits) for names the console does not serve."""
    name = request.GET.get("domain", "")
    if tls_allowed(name):
        return HttpResponse("ok\n", content_type="text/plain")
    return HttpResponseNotFound("not a domain this console serves\n", content_type="text/plain")
