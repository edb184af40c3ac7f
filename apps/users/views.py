"""The Users tab of a branch: a page of the pool's users (search, Previous/Next) and the
form that creates one. Everyone with a role reads; admins create."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from apps.users import paging, services
from apps.users.access import Where, with_pool
from apps.users.cognito import PoolSettings
from apps.users.forms import SearchForm, UserCreateForm, show_error
from apps.users.inputs import InputInvalid, Search, search_from
from apps.users.pool import sign_in_words
from apps.users.selectors import pool_settings, users_page
from console.aws_errors import AwsError
from console.roles import Role, role_required


def _search(form: SearchForm) -> tuple[Search | None, bool]:
    """(the search asked for, whether it could be made). A search that cannot be made
    lists nobody: it must never turn into a wider one."""
    field = form.data.get("field") or "email"
    try:
        return search_from(field, form.data.get("q", "")), True
    except InputInvalid as invalid:
        show_error(form, invalid)
        return None, False


@require_GET
@with_pool
def users_list(request: HttpRequest, where: Where) -> HttpResponse:
    form = SearchForm(request.GET)  # bound, so it shows what was typed; search_from checks it
    search, usable = _search(form)
    size = paging.page_size(request.GET.get("size", ""))
    context: dict[str, Any] = {**where.base(), "form": form, "search": search, "size": size, "page_sizes": paging.PAGE_SIZES}
    if not usable:
        return render(request, "users/list.html", context)
    scope = [where.pool.user_pool_id, search.field if search else "", search.text if search else "", size]
    try:
        cursor = paging.unsign(request.GET.get("at", ""), scope)
    except paging.BadCursor as bad:
        messages.warning(request, str(bad))
        cursor = paging.Cursor()
    try:
        page = users_page(where.pool, search=search, size=size, token=cursor.token)
    except AwsError as error:
        context["problem"] = str(error)
        return render(request, "users/list.html", context)
    base = {
        "field": search.field if search else "",
        "q": search.text if search else "",
        "size": str(size) if size != paging.DEFAULT_PAGE_SIZE else "",
    }
    previous = cursor.previous()
    context.update(
        page=page,
        page_number=cursor.page_number,
        next_query=_query(base, paging.sign(cursor.next(page.next_token), scope)) if page.next_token else "",
        previous_query=_query(base, paging.sign(previous, scope)) if previous is not None else "",
        has_previous=previous is not None,
        first_query=_query(base, ""),
    )
    return render(request, "users/list.html", context)


def _query(params: dict[str, str], at: str) -> str:
    return urlencode({k: v for k, v in {**params, "at": at}.items() if v})


@sensitive_post_parameters("temporary_password")
@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
@with_pool
def users_create(request: HttpRequest, where: Where) -> HttpResponse:
    try:
        settings: PoolSettings | None = pool_settings(where.pool)
    except AwsError as error:
        settings = None
        messages.error(request, f"The user pool's sign-in rules could not be read: {error}")
    attributes = settings.username_attributes if settings else where.pool.username_attributes
    form = UserCreateForm(request.POST or None, username_attributes=attributes)
    if request.method == "POST" and settings is not None and form.is_valid():
        data = form.cleaned_data
        new = services.NewUser(
            email=data["email"],
            phone=data["phone"],
            username=data.get("username", ""),
            temporary_password=data["temporary_password"],
            verified=data["verified"],
            group=data["group"],
        )
        try:
            user = services.user_create(actor=request.user, pool=where.pool, new=new)
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, f"The user was not created: {error}")
        else:
            messages.success(request, f"User {(new.email or new.phone).strip() or user.username} created.")
            return redirect(where.user_url(user.username))
    context = {**where.base(), "form": form, "settings": settings, "signs_in_with": sign_in_words(attributes)}
    return render(request, "users/create.html", context)
