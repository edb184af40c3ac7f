"""The Pull request status page of an app: its reporting setting (admins change it; everyone
sees whether it is set up, never the token) and the latest calls to the git host."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.branches import selectors as branch_selectors
from apps.branches.models import App
from apps.prstatus import selectors, services
from apps.prstatus.forms import ConfirmRemovalForm, ReportingForm
from console.forms_util import add_service_errors
from console.roles import Role, role_required


def _render_page(
    request: HttpRequest, app: App, form: ReportingForm, status: int = 200, remove_form: ConfirmRemovalForm | None = None
) -> HttpResponse:
    reporting = selectors.reporting_of(app)
    if reporting is not None and remove_form is None:
        remove_form = ConfirmRemovalForm(repository=reporting.repository)
    context = {
        "app": app,
        "reporting": reporting,
        "form": form,
        "remove_form": remove_form,
        "problems": selectors.problems_of(app),
        "calls": selectors.calls_of(app),
    }
    return render(request, "prstatus/reporting.html", context, status=status)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("token")
def pr_reporting(request: HttpRequest, app_id: str) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    if request.method == "POST":
        return _save(request, app)
    reporting = selectors.reporting_of(app)
    initial = (
        {"provider": reporting.provider, "api_url": reporting.api_url, "repository": reporting.repository} if reporting else {}
    )
    return _render_page(request, app, ReportingForm(initial=initial))


@role_required(Role.ADMIN)
def _save(request: HttpRequest, app: App) -> HttpResponse:
    form = ReportingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            reporting = services.reporting_save(
                actor=request.user,
                app=app,
                provider=data["provider"],
                api_url=data["api_url"],
                repository=data["repository"],
                token=data["token"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Pull requests of {reporting} get the previews' build status and comment.")
            return redirect("pr_reporting", app_id=app.app_id)
    return _render_page(request, app, form, status=400)


@require_POST
@role_required(Role.ADMIN)
def pr_reporting_remove(request: HttpRequest, app_id: str) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    reporting = selectors.reporting_of(app)
    if reporting is None:
        messages.error(request, "Pull request reporting is not set up.")
        return redirect("pr_reporting", app_id=app.app_id)
    confirm = ConfirmRemovalForm(request.POST, repository=reporting.repository)
    if not confirm.is_valid():
        return _render_page(request, app, ReportingForm(), status=400, remove_form=confirm)
    services.reporting_remove(actor=request.user, reporting=reporting)
    messages.success(request, "Pull request reporting stopped; the token is forgotten.")
    return redirect("pr_reporting", app_id=app.app_id)
