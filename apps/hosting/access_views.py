"""The Custom headers and Password protection pages of an app."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from apps.branches import selectors as branch_selectors
from apps.branches.models import App, Branch
from apps.hosting.access_control import clear_branch_basic_auth, set_basic_auth, set_custom_headers
from apps.hosting.access_forms import AppProtectionForm, BranchProtectionForm, CustomHeadersForm
from apps.hosting.custom_headers import branches_overriding_headers
from apps.hosting.models import BasicAuth, SiteSettings
from apps.hosting.protection import MIN_PASSWORD_LENGTH, protection_overview
from console.forms_util import add_service_errors
from console.roles import Role, role_required

EXAMPLE_HEADERS = """customHeaders:
  - pattern: '**/*'
    headers:
      - key: 'Strict-Transport-Security'
        value: 'max-age=31536000; includeSubDomains'
      - key: 'X-Frame-Options'
        value: 'SAMEORIGIN'
      - key: 'X-Content-Type-Options'
        value: 'nosniff'
  - pattern: '*.js'
    headers:
      - key: 'Cache-Control'
        value: 'public, max-age=31536000, immutable'
"""


@require_http_methods(["GET", "POST"])
def hosting_headers(request: HttpRequest, app_id: str) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    if request.method == "POST":
        return _hosting_headers_post(request, app)
    saved = SiteSettings.objects.filter(app=app).values_list("custom_headers", flat=True).first() or ""
    return _render_headers(request, app, CustomHeadersForm(initial={"custom_headers": saved}))


def _render_headers(request: HttpRequest, app: App, form: CustomHeadersForm, status: int = 200) -> HttpResponse:
    context = {"app": app, "form": form, "example": EXAMPLE_HEADERS, "overriding": branches_overriding_headers(app)}
    return render(request, "hosting/headers.html", context, status=status)


@role_required(Role.ADMIN)
def _hosting_headers_post(request: HttpRequest, app: App) -> HttpResponse:
    form = CustomHeadersForm(request.POST)
    if form.is_valid():
        try:
            set_custom_headers(actor=request.user, app=app, text=form.cleaned_data["custom_headers"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Custom headers saved: they apply from the next request.")
            return redirect("hosting_headers", app_id=app.app_id)
    return _render_headers(request, app, form, status=400)


def _branch_prefix(branch: Branch) -> str:
    return f"branch-{branch.pk}"


def _branch_initial(row: BasicAuth | None) -> dict[str, str]:
    if row is None:
        return {"mode": BranchProtectionForm.APP}
    return {"mode": BranchProtectionForm.ON if row.enabled else BranchProtectionForm.OFF, "username": row.username}


@require_http_methods(["GET", "POST"])
def hosting_access(request: HttpRequest, app_id: str) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    if request.method == "POST":
        return _hosting_access_post(request, app)
    return _render_access(request, app)


def _render_access(
    request: HttpRequest, app: App, bound: AppProtectionForm | BranchProtectionForm | None = None, status: int = 200
) -> HttpResponse:
    """The page; `bound` is a refused form, shown with its errors in place of a fresh one."""
    app_row, branch_rows = protection_overview(app)
    app_form = bound if isinstance(bound, AppProtectionForm) else None
    if app_form is None:
        initial = {"enabled": app_row.enabled, "username": app_row.username} if app_row else {}
        app_form = AppProtectionForm(initial=initial, prefix="app")
    branches = []
    for branch, row in branch_rows:
        form = bound if isinstance(bound, BranchProtectionForm) and bound.prefix == _branch_prefix(branch) else None
        form = form or BranchProtectionForm(initial=_branch_initial(row), prefix=_branch_prefix(branch))
        branches.append({"branch": branch, "row": row, "form": form, "open": form is bound})
    context = {
        "app": app,
        "app_row": app_row,
        "app_form": app_form,
        "branches": branches,
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "hosting/access.html", context, status=status)


def _scoped_branch(app: App, scope: str) -> Branch:
    number = scope.removeprefix("branch-")
    if not scope.startswith("branch-") or not number.isdigit():
        raise Http404("Say which setting to change: the app's or a branch's.")
    return get_object_or_404(Branch, app=app, pk=int(number))


def _entered(form: AppProtectionForm | BranchProtectionForm, name: str) -> str | None:
    # An empty field keeps what is stored (the password's "leave empty to keep").
    return form.cleaned_data[name] or None


@role_required(Role.ADMIN)
def _hosting_access_post(request: HttpRequest, app: App) -> HttpResponse:
    scope = request.POST.get("scope", "")
    if scope == "app":
        form: AppProtectionForm | BranchProtectionForm = AppProtectionForm(request.POST, prefix="app")
        branch = None
    else:
        branch = _scoped_branch(app, scope)
        form = BranchProtectionForm(request.POST, prefix=_branch_prefix(branch))
    if form.is_valid():
        try:
            said = _save_access(request, app, branch, form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, said)
            return redirect("hosting_access", app_id=app.app_id)
    return _render_access(request, app, form, status=400)


def _save_access(request: HttpRequest, app: App, branch: Branch | None, form: AppProtectionForm | BranchProtectionForm) -> str:
    username, password = _entered(form, "username"), _entered(form, "password")
    if branch is None:
        enabled = bool(form.cleaned_data["enabled"])
        set_basic_auth(actor=request.user, app=app, enabled=enabled, username=username, password=password)
        return f"Password protection of the app's branches is {'on' if enabled else 'off'}."
    mode = form.cleaned_data["mode"]
    if mode == BranchProtectionForm.APP:
        clear_branch_basic_auth(actor=request.user, branch=branch)
        return f"{branch.name} follows the app's password protection."
    enabled = mode == BranchProtectionForm.ON
    set_basic_auth(actor=request.user, app=app, branch=branch, enabled=enabled, username=username, password=password)
    return f"Password protection of {branch.name} is {'on' if enabled else 'off'}."
