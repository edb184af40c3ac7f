"""One user's page and the admin's writes on it: attributes, password, disable and
enable, delete. Forms that fail come back filled in with the error by their field."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from apps.users import services
from apps.users.access import Where, with_pool
from apps.users.forms import AttributesForm, DeleteForm, TemporaryPasswordForm, show_error
from apps.users.inputs import InputInvalid
from apps.users.selectors import pool_settings, user_detail
from console.aws_errors import AwsError
from console.roles import Role, has_role, role_required


def _page(request: HttpRequest, where: Where, username: str, **bound: forms.Form) -> HttpResponse:
    """The user's page; `bound` holds forms that came back with errors (others start empty)."""
    try:
        detail = user_detail(where.pool, username)
    except AwsError as error:
        return render(request, "users/detail.html", {**where.base(), "username": username, "problem": str(error)})
    if detail is None:
        messages.error(request, "There is no such user in this user pool (any more).")
        return redirect(where.url("users_list"))
    context: dict[str, Any] = {
        **where.base(),
        "username": username,
        "detail": detail,
        "user": detail.user,
        "attributes_form": bound.get("attributes_form") or AttributesForm(user=detail.user),
        "password_form": bound.get("password_form") or TemporaryPasswordForm(),
        "delete_form": bound.get("delete_form") or DeleteForm(),
    }
    if has_role(request.user, Role.ADMIN):  # the policy goes by the temporary password form
        # Without it the form still works: Cognito's own message says what a password lacks.
        with suppress(AwsError):
            context["policy"] = pool_settings(where.pool).policy
    return render(request, "users/detail.html", context)


@require_GET
@with_pool
def users_detail(request: HttpRequest, where: Where) -> HttpResponse:
    return _page(request, where, request.GET.get("username", ""))


def _username(request: HttpRequest) -> str:
    return request.POST.get("username", "")[:256]


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_attributes(request: HttpRequest, where: Where) -> HttpResponse:
    username = _username(request)
    try:
        detail = user_detail(where.pool, username) if username else None
    except AwsError as error:
        messages.error(request, f"Nothing was changed: {error}")
        return redirect(where.user_url(username))
    if detail is None:
        messages.error(request, "There is no such user in this user pool (any more).")
        return redirect(where.url("users_list"))
    form = AttributesForm(request.POST, user=detail.user)
    if form.is_valid():
        try:
            changed = services.user_attributes_update(
                actor=request.user, pool=where.pool, username=username, values=form.values()
            )
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"Changed {', '.join(changed)}." if changed else "Nothing to change: the values are as they were."
            )
            return redirect(where.user_url(username))
    return _page(request, where, username, attributes_form=form)


@sensitive_post_parameters("password")
@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_password(request: HttpRequest, where: Where) -> HttpResponse:
    """ "reset": Cognito's reset (a code by email or SMS); otherwise a new temporary password."""
    username = _username(request)
    if request.POST.get("action") == "reset":
        try:
            services.user_password_reset(actor=request.user, pool=where.pool, username=username)
        except AwsError as error:
            messages.error(request, f"The password was not reset: {error}")
        else:
            messages.success(request, "Password reset: Cognito sends the user a code to choose a new one.")
        return redirect(where.user_url(username))
    form = TemporaryPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.user_password_set(
                actor=request.user, pool=where.pool, username=username, password=form.cleaned_data["password"]
            )
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, f"The password was not set: {error}")
        else:
            messages.success(request, "Temporary password set: the user chooses a new one at the next sign-in.")
            return redirect(where.user_url(username))
    return _page(request, where, username, password_form=form)


def _set_enabled(request: HttpRequest, where: Where, enabled: bool) -> HttpResponse:
    username = _username(request)
    try:
        services.user_enabled_set(actor=request.user, pool=where.pool, username=username, enabled=enabled)
    except AwsError as error:
        messages.error(request, f"The user was not {'enabled' if enabled else 'disabled'}: {error}")
    else:
        messages.success(request, "User enabled: they can sign in again." if enabled else "User disabled: they cannot sign in.")
    return redirect(where.user_url(username))


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_disable(request: HttpRequest, where: Where) -> HttpResponse:
    return _set_enabled(request, where, enabled=False)


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_enable(request: HttpRequest, where: Where) -> HttpResponse:
    return _set_enabled(request, where, enabled=True)


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_delete(request: HttpRequest, where: Where) -> HttpResponse:
    username = _username(request)
    form = DeleteForm(request.POST)
    if form.is_valid():
        try:
            services.user_delete(
                actor=request.user, pool=where.pool, username=username, confirmation=form.cleaned_data["confirm"]
            )
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, f"The user was not deleted: {error}")
        else:
            messages.success(request, "User deleted.")
            return redirect(where.url("users_list"))
    return _page(request, where, username, delete_form=form)
