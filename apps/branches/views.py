"""Pages for apps and branches: parse input, call one service, render."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.branches import selectors, services
from apps.branches.forms import (
    AppForm,
    AppSettingsForm,
    BranchConnectForm,
    BranchSettingsForm,
    BuildSpecForm,
    ConfirmNameForm,
    EnvVarForm,
    PreviewSettingsForm,
)
from apps.branches.git import RemoteBranch, mask_credentials
from apps.branches.remote_reads import backend_stack, repository_heads
from console.forms_util import add_service_errors, refused_again
from console.isolation_status import isolation_warnings
from console.roles import Role, role_required
from console.tasks import worker_last_seen, workers_healthy


@require_GET
def app_list(request: HttpRequest) -> HttpResponse:
    context = {
        "apps": selectors.apps_with_counts(),
        "worker_last_seen": worker_last_seen(),
        "workers_healthy": workers_healthy(),
        "isolation_warnings": isolation_warnings(),
    }
    return render(request, "branches/app_list.html", context)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def app_create(request: HttpRequest) -> HttpResponse:
    form = AppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            app = services.app_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"App {app.name} created with id {app.app_id}.")
            return redirect("app_overview", app_id=app.app_id)
    if request.method != "POST":
        return render(request, "branches/app_create.html", {"form": form})
    return render(request, "branches/app_create.html", {"form": _without_credentials(form)}, status=400)


def _without_credentials(form: AppForm) -> AppForm:
    """A refused form shown again: the repository URL's token, if any, is not sent back."""
    url = form.data.get("repository", "")
    if mask_credentials(url) != url:
        data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict: the POST
        data["repository"] = mask_credentials(url)
        form.data = data
        form.add_error("repository", "Enter the repository's credentials again: they are never shown.")
    return form


@require_GET
def app_overview(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    return render(request, "branches/app_overview.html", {"app": app, "branches": selectors.branches_with_last_job(app)})


def _settings_form(app: selectors.App, data: QueryDict | None = None) -> AppSettingsForm:
    return AppSettingsForm(data, initial={f: getattr(app, f) for f in AppSettingsForm.base_fields})


@require_http_methods(["GET", "POST"])
def app_settings(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    form = _settings_form(app, request.POST or None)
    if request.method == "POST":
        return _app_settings_post(request, app, form)
    return render(request, "branches/app_settings.html", {"app": app, "form": form, "delete_form": ConfirmNameForm()})


@role_required(Role.ADMIN)
def _app_settings_post(request: HttpRequest, app: selectors.App, form: AppSettingsForm) -> HttpResponse:
    if form.is_valid():
        try:
            services.app_update(actor=request.user, app=app, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "App settings saved.")
            return redirect("app_settings", app_id=app.app_id)
    app.refresh_from_db()
    context = {"app": app, "form": _without_credentials(form), "delete_form": ConfirmNameForm()}
    return render(request, "branches/app_settings.html", context, status=400)


@require_POST
@role_required(Role.ADMIN)
def app_delete(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    delete_form = ConfirmNameForm(request.POST)
    if delete_form.is_valid():
        try:
            services.app_delete(actor=request.user, app=app, confirm_name=delete_form.cleaned_data["confirm_name"])
        except ValidationError as error:
            add_service_errors(delete_form, error)
        else:
            messages.success(request, f"App {app.name} deleted.")
            return redirect("dashboard")
    # The whole settings form: one missing a field would clear it (the service role) when saved.
    form = _settings_form(app)
    return render(request, "branches/app_settings.html", {"app": app, "form": form, "delete_form": delete_form}, status=400)


@require_http_methods(["GET", "POST"])
def app_build_spec(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    if request.method == "POST":
        return _app_build_spec_post(request, app)
    form = BuildSpecForm(initial={"build_spec": app.build_spec, "loaded_version": services.spec_version(app.build_spec)})
    return render(request, "branches/app_build_spec.html", {"app": app, "form": form})


@role_required(Role.ADMIN)
def _app_build_spec_post(request: HttpRequest, app: selectors.App) -> HttpResponse:
    form = BuildSpecForm(request.POST)
    theirs = None
    if form.is_valid():
        try:
            services.app_build_spec_update(
                actor=request.user,
                app=app,
                build_spec=form.cleaned_data["build_spec"],
                expected_version=form.cleaned_data["loaded_version"] or None,
            )
        except services.SpecChanged as changed:
            theirs = changed.current
            form = refused_again(BuildSpecForm, request.POST, changed, loaded_version=services.spec_version(theirs))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Build spec saved.")
            return redirect("app_build_spec", app_id=app.app_id)
    context = {"app": app, "form": form, "theirs": theirs}
    return render(request, "branches/app_build_spec.html", context, status=409 if theirs is not None else 400)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def branch_connect(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    form = BranchConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            branch = services.branch_connect(actor=request.user, app=app, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Branch {branch.name} connected.")
            return redirect("branch_detail", app_id=app.app_id, branch=branch.display_name)
    status = 400 if request.method == "POST" else 200
    return render(request, "branches/branch_connect.html", {"app": app, "form": form}, status=status)


@require_GET
@role_required(Role.ADMIN)
def remote_branches(request: HttpRequest, app_id: str) -> HttpResponse:
    """htmx fragment: the repository's branches as a worker last read them."""
    app = selectors.app_get(app_id)
    connected = set(app.branches.values_list("name", flat=True))
    heads = repository_heads(app)
    remote = [RemoteBranch(name, commit) for name, commit in sorted((heads.value or {}).items())]
    return render(
        request,
        "branches/branch_connect.html#remote-branches",
        {"app": app, "remote": remote, "connected": connected, "heads": heads},
    )


@require_GET
def branch_status(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    """htmx fragment: the branch's backend status, loaded after the overview renders."""
    branch_obj = selectors.branch_get(selectors.app_get(app_id), branch)
    read = backend_stack(branch_obj)
    context = {"app": branch_obj.app, "branch": branch_obj, "stack": read.value, "stack_error": read.error, "stack_read": read}
    return render(request, "branches/status_badge.html", context)


@require_GET
def branch_outputs(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    """The amplify_outputs.json the branch's last backend build captured, as it wrote it."""
    branch_obj = selectors.branch_get(selectors.app_get(app_id), branch)
    if not branch_obj.backend_outputs:
        message = "No amplify_outputs.json yet: the branch's first build with a backend phase captures it."
        return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")
    document = selectors.outputs_as_written(branch_obj.backend_outputs)
    response = HttpResponse(json.dumps(document, indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="amplify_outputs.json"'
    return response


@require_http_methods(["GET", "POST"])
def branch_detail(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    branch_obj = selectors.branch_get(app, branch)
    if request.method == "POST":
        return _branch_settings_post(request, branch_obj)
    form = _branch_settings_form(branch_obj)
    return _render_branch(request, branch_obj, form, ConfirmNameForm())


def _branch_settings_form(branch: selectors.Branch) -> BranchSettingsForm:
    return BranchSettingsForm(
        initial={
            "stage": branch.stage,
            "enable_auto_build": branch.enable_auto_build,
            "description": branch.description,
            "node_version": branch.node_version,
        }
    )


def _render_branch(
    request: HttpRequest, branch: selectors.Branch, form: BranchSettingsForm, disconnect_form: ConfirmNameForm, status: int = 200
) -> HttpResponse:
    read = backend_stack(branch)
    context = {
        "app": branch.app,
        "branch": branch,
        "form": form,
        "disconnect_form": disconnect_form,
        "stack": read.value,
        "stack_error": read.error,
        "stack_read": read,
        "region": django_settings.AWS_REGION,
        "environment": selectors.effective_environment(branch),
        "preview_form": PreviewSettingsForm(
            branch=branch,
            initial={"pr_previews_enabled": branch.pr_previews_enabled, "pr_shared_backend": branch.pr_shared_backend_id},
        ),
        "jobs_page": Paginator(branch.jobs.all(), 20).get_page(request.GET.get("jobs")),
        "webhooks": [
            {"webhook": w, "name": w.name, "url": request.build_absolute_uri(w.trigger_path)} for w in branch.webhooks.all()
        ],
    }
    return render(request, "branches/branch_detail.html", context, status=status)


@role_required(Role.ADMIN)
def _branch_settings_post(request: HttpRequest, branch: selectors.Branch) -> HttpResponse:
    form = BranchSettingsForm(request.POST)
    if form.is_valid():
        services.branch_update(actor=request.user, branch=branch, **form.cleaned_data)
        messages.success(request, "Branch settings saved.")
        return redirect("branch_detail", app_id=branch.app.app_id, branch=branch.display_name)
    return _render_branch(request, branch, form, ConfirmNameForm(), status=400)


@require_POST
@role_required(Role.ADMIN)
def branch_disconnect(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    branch_obj = selectors.branch_get(app, branch)
    disconnect_form = ConfirmNameForm(request.POST)
    if disconnect_form.is_valid():
        try:
            services.branch_disconnect(
                actor=request.user, branch=branch_obj, confirm_name=disconnect_form.cleaned_data["confirm_name"]
            )
        except ValidationError as error:
            add_service_errors(disconnect_form, error)
        else:
            messages.success(request, f"Branch {branch_obj.name} disconnected.")
            return redirect("app_overview", app_id=app.app_id)
    settings_form = _branch_settings_form(branch_obj)
    return _render_branch(request, branch_obj, settings_form, disconnect_form, status=400)


@require_http_methods(["GET", "POST"])
def app_environment(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    if request.method == "POST":
        return _app_environment_post(request, app)
    initial: dict[str, Any] = {"branch": request.GET.get("branch")}
    editing = app.environment_variables.filter(pk=request.GET["edit"]).first() if request.GET.get("edit", "").isdigit() else None
    if editing is not None:
        initial = {
            "name": editing.name,
            "value": editing.value,
            "branch": editing.branch_id,
            "replaces": services.env_var_version(editing),
        }
    return _render_environment(request, app, EnvVarForm(app=app, initial=initial))


def _render_environment(request: HttpRequest, app: selectors.App, form: EnvVarForm, status: int = 200) -> HttpResponse:
    context = {
        "app": app,
        "form": form,
        "app_variables": selectors.app_variables(app),
        "overrides": selectors.branch_overrides(app),
    }
    return render(request, "branches/app_environment.html", context, status=status)


@role_required(Role.ADMIN)
def _app_environment_post(request: HttpRequest, app: selectors.App) -> HttpResponse:
    form = EnvVarForm(request.POST, app=app)
    if form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "replaces"}
        # A form posted without the field (an old page, a script) saves blindly, as the API does.
        replaces = form.cleaned_data["replaces"] if "replaces" in request.POST else None
        try:
            variable = services.env_var_set(actor=request.user, app=app, replaces=replaces, **fields)
        except services.EnvVarChanged as changed:
            replaces = services.env_var_version(changed.current)
            form = refused_again(lambda data: EnvVarForm(data, app=app), request.POST, changed, replaces=replaces)
            return _render_environment(request, app, form, status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            scope = f"branch {variable.branch.name}" if variable.branch else "all branches"
            messages.success(request, f"{variable.name} saved for {scope}.")
            return redirect("app_environment", app_id=app.app_id)
    return _render_environment(request, app, form, status=400)


@require_POST
@role_required(Role.ADMIN)
def env_var_delete(request: HttpRequest, app_id: str, pk: int) -> HttpResponse:
    app = selectors.app_get(app_id)
    variable = get_object_or_404(app.environment_variables, pk=pk)
    services.env_var_delete(actor=request.user, variable=variable)
    messages.success(request, f"{variable.name} removed.")
    return redirect("app_environment", app_id=app.app_id)


@require_POST
@role_required(Role.ADMIN)
def branch_previews(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = selectors.branch_get(selectors.app_get(app_id), branch)
    form = PreviewSettingsForm(request.POST, branch=branch_obj)
    if form.is_valid():
        try:
            services.branch_preview_settings_update(actor=request.user, branch=branch_obj, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Preview settings saved.")
            return redirect("branch_detail", app_id=app_id, branch=branch_obj.display_name)
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("branch_detail", app_id=app_id, branch=branch_obj.display_name)
