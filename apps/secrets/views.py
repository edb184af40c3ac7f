"""The secrets page of an app: names, effective values per branch, never values
unless an admin reveals one (audited, shown once, not cached)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from apps.branches.models import App
from apps.branches.selectors import app_get
from apps.secrets import services, ssm
from apps.secrets.forms import SHARED, SecretCopyForm, SecretImportForm, SecretSetForm
from apps.secrets.paths import InvalidSecretName
from apps.secrets.scopes import Scope
from apps.secrets.selectors import secret_matrix
from console.aws_errors import AwsError
from console.csv_stream import csv_response
from console.forms_util import add_service_errors, refused_again
from console.roles import Role, role_required


def _scope(app: App, value: str) -> Scope:
    if value == SHARED:
        return Scope.shared(app.app_id)
    if not app.branches.filter(name=value).exists():
        raise Http404("No such branch.")
    return Scope.branch(app.app_id, value)


def _render(request: HttpRequest, app: App, status: int = 200, **forms: object) -> HttpResponse:
    context: dict[str, object] = {
        "app": app,
        "set_form": SecretSetForm(app=app),
        "import_form": SecretImportForm(app=app, prefix="import"),
        "copy_form": SecretCopyForm(app=app, prefix="copy"),
        "shared_scope": SHARED,
        **forms,
    }
    try:
        context["matrix"] = secret_matrix(app)
    except AwsError as error:
        context["aws_error"] = str(error)
    return render(request, "secrets/secrets.html", context, status=status)


@require_GET
def secrets_page(request: HttpRequest, app_id: str) -> HttpResponse:
    return _render(request, app_get(app_id))


@require_POST
@role_required(Role.ADMIN)
def secret_set(request: HttpRequest, app_id: str) -> HttpResponse:
    app = app_get(app_id)
    form = SecretSetForm(request.POST, app=app)
    if form.is_valid():
        # A form posted without the field (an old page, a script) saves blindly.
        replaces = form.cleaned_data["replaces"] if "replaces" in request.POST else None
        try:
            scopes = [_scope(app, s) for s in form.cleaned_data["scopes"]]
            services.secret_set_scopes(
                actor=request.user,
                scopes=scopes,
                name=form.cleaned_data["name"],
                value=form.cleaned_data["value"],
                replaces=replaces,
            )
        except services.SecretChanged as changed:
            # The value is typed again: a secret never goes back into a page.
            replaces = json.dumps(changed.current)
            form = refused_again(lambda data: SecretSetForm(data, app=app), request.POST, changed, replaces=replaces)
            return _render(request, app, status=409, set_form=form)
        except ValidationError as error:
            add_service_errors(form, error)
        except AwsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{form.cleaned_data['name']} saved for {', '.join(s.label for s in scopes)}.")
            return redirect("secrets", app_id=app.app_id)
    return _render(request, app, status=400, set_form=form)


@require_POST
@role_required(Role.ADMIN)
def secret_remove(request: HttpRequest, app_id: str) -> HttpResponse:
    app = app_get(app_id)
    name, scope = request.POST.get("name", ""), _scope(app, request.POST.get("scope", ""))
    if request.POST.get("confirm_name") != name:
        messages.error(request, f"Type the secret name {name} exactly to remove it from {scope.label}.")
        return redirect("secrets", app_id=app.app_id)
    try:
        services.secret_remove(actor=request.user, scope=scope, name=name)
    except (ValidationError, InvalidSecretName, AwsError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{name} removed from {scope.label}.")
    return redirect("secrets", app_id=app.app_id)


@require_POST
@role_required(Role.ADMIN)
def secret_reveal(request: HttpRequest, app_id: str) -> HttpResponse:
    """htmx: the value, once, in a fragment that is never cached."""
    app = app_get(app_id)
    name, scope = request.POST.get("name", ""), _scope(app, request.POST.get("scope", ""))
    try:
        value = services.secret_reveal(actor=request.user, scope=scope, name=name)
    except (InvalidSecretName, AwsError) as error:
        value, error_text = None, str(error)
    else:
        error_text = "" if value is not None else "This secret no longer exists."
    response = render(
        request, "secrets/secrets.html#revealed", {"value": value, "error": error_text, "name": name, "scope": scope}
    )
    add_never_cache_headers(response)
    return response


@require_POST
@role_required(Role.ADMIN)
def secret_copy(request: HttpRequest, app_id: str) -> HttpResponse:
    app = app_get(app_id)
    form = SecretCopyForm(request.POST, app=app, prefix="copy")
    if form.is_valid():
        source, target = _scope(app, form.cleaned_data["source"]), _scope(app, form.cleaned_data["target"])
        try:
            copied = services.secret_copy(
                actor=request.user, source=source, target=target, overwrite=form.cleaned_data["overwrite"]
            )
        except AwsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"Copied {len(copied)} secrets from {source.label} to {target.label}: {', '.join(copied) or 'none'}."
            )
            return redirect("secrets", app_id=app.app_id)
    return _render(request, app, status=400, copy_form=form)


@require_POST
@role_required(Role.ADMIN)
def secret_import(request: HttpRequest, app_id: str) -> HttpResponse:
    app = app_get(app_id)
    form = SecretImportForm(request.POST, app=app, prefix="import")
    if form.is_valid():
        scopes = [_scope(app, s) for s in form.cleaned_data["scopes"]]
        try:
            names = services.secret_import(actor=request.user, scopes=scopes, text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        except AwsError as error:
            form.add_error(None, f"{error} Nothing was written.")
        else:
            messages.success(request, f"Imported {', '.join(names)} to {', '.join(s.label for s in scopes)}.")
            return redirect("secrets", app_id=app.app_id)
    # Never echo the pasted values back: the admin pastes them again after fixing.
    data = request.POST.copy()
    data["import-text"] = ""
    shown = SecretImportForm(data, app=app, prefix="import")
    shown._errors = form.errors  # type: ignore[attr-defined]  # the submitted errors, on an empty text box
    return _render(request, app, status=400, import_form=shown)


@require_POST
@role_required(Role.ADMIN)
def import_preview(request: HttpRequest, app_id: str) -> HttpResponse:
    """htmx, while the admin types: the names found and line-numbered errors; no values."""
    app_get(app_id)
    entries, errors = services.parse_env(request.POST.get("import-text", ""))
    return render(request, "secrets/secrets.html#import-preview", {"entries": entries, "errors": errors})


@require_GET
def secrets_export(request: HttpRequest, app_id: str) -> StreamingHttpResponse:
    """CSV of names, scopes, versions and who changed them: for audits, never values."""
    app = app_get(app_id)
    matrix = secret_matrix(app)

    def rows() -> Iterator[list[object]]:
        for row in matrix.rows:
            infos = ([("all branches", row.shared)] if row.shared else []) + [
                (f"branch {b}", i) for b, i in sorted(row.branches.items())
            ]
            for label, info in infos:
                modified = info.last_modified.isoformat() if info.last_modified else ""
                yield [row.name, label, info.path, info.version, modified, info.last_modified_by]

    header = ["name", "scope", "path", "version", "last_modified", "last_modified_by"]
    return csv_response(header, rows(), f"{app.app_id}-secret-names.csv")


@require_GET
def secret_history(request: HttpRequest, app_id: str) -> HttpResponse:
    """One name: where it is set (with reveal and remove for admins) and, for a chosen
    scope, the versions SSM keeps; never values."""
    app = app_get(app_id)
    name = request.GET.get("name", "")
    scope = _scope(app, request.GET["scope"]) if request.GET.get("scope") else None
    context: dict[str, object] = {"app": app, "name": name, "scope": scope, "versions": [], "scopes": [], "error": ""}
    try:
        row = next((r for r in secret_matrix(app).rows if r.name == name), None)
        if row is not None:
            shared = [{"label": "all branches", "value": SHARED, "info": row.shared}] if row.shared else []
            branches = [{"label": f"branch {b}", "value": b, "info": info} for b, info in sorted(row.branches.items())]
            context["scopes"] = shared + branches
        if scope is not None:
            context["versions"] = ssm.history(scope.path(name))
    except (InvalidSecretName, AwsError) as failure:
        context["error"] = str(failure)
    return render(request, "secrets/history.html", context)
