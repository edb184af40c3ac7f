"""The Groups tab: a page of the pool's groups, one group's members (Previous/Next),
and the admin's writes: create, add and remove members, delete after typing Delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.users import group_services, paging
from apps.users.access import Where, with_pool
from apps.users.forms import AddMembersForm, DeleteForm, GroupCreateForm, show_error
from apps.users.inputs import InputInvalid
from apps.users.selectors import group_get, groups_page, members_page
from console.aws_errors import AwsError
from console.roles import Role, role_required


def _pager(request: HttpRequest, scope: list[Any]) -> tuple[paging.Cursor, int, list[Any]]:
    size = paging.page_size(request.GET.get("size", ""))
    scope = [*scope, size]
    try:
        cursor = paging.unsign(request.GET.get("at", ""), scope)
    except paging.BadCursor as bad:
        messages.warning(request, str(bad))
        cursor = paging.Cursor()
    return cursor, size, scope


def _links(cursor: paging.Cursor, next_token: str | None, scope: list[Any], base: dict[str, str]) -> dict[str, Any]:
    def query(at: str) -> str:
        return urlencode({k: v for k, v in {**base, "at": at}.items() if v})

    previous = cursor.previous()
    return {
        "page_number": cursor.page_number,
        "next_query": query(paging.sign(cursor.next(next_token), scope)) if next_token else "",
        "previous_query": query(paging.sign(previous, scope)) if previous is not None else "",
        "has_previous": previous is not None,
    }


def _groups(request: HttpRequest, where: Where, form: GroupCreateForm | None = None) -> HttpResponse:
    cursor, size, scope = _pager(request, [where.pool.user_pool_id])
    context: dict[str, Any] = {**where.base(), "form": form or GroupCreateForm()}
    try:
        page = groups_page(where.pool, size=size, token=cursor.token)
    except AwsError as error:
        context["problem"] = str(error)
    else:
        base = {"size": str(size) if size != paging.DEFAULT_PAGE_SIZE else ""}
        context.update(page=page, **_links(cursor, page.next_token, scope, base))
    return render(request, "users/groups.html", context)


@require_GET
@with_pool
def users_groups(request: HttpRequest, where: Where) -> HttpResponse:
    return _groups(request, where)


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_group_create(request: HttpRequest, where: Where) -> HttpResponse:
    form = GroupCreateForm(request.POST)
    if form.is_valid():
        try:
            group = group_services.group_create(actor=request.user, pool=where.pool, **form.cleaned_data)
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, f"The group was not created: {error}")
        else:
            messages.success(request, f"Group {group.name} created. Add its members below.")
            return redirect(where.group_url(group.name))
    return _groups(request, where, form)


def _group_page(request: HttpRequest, where: Where, name: str, **bound: forms.Form) -> HttpResponse:
    """The group's page; `bound` holds forms that came back with errors."""
    context: dict[str, Any] = {
        **where.base(),
        "group_name": name,
        "add_form": bound.get("add_form") or AddMembersForm(),
        "delete_form": bound.get("delete_form") or DeleteForm(),
    }
    cursor, size, scope = _pager(request, [where.pool.user_pool_id, name])
    try:
        group = group_get(where.pool, name)
        if group is None:
            messages.error(request, "There is no such group in this user pool (any more).")
            return redirect(where.url("users_groups"))
        page = members_page(where.pool, name, size=size, token=cursor.token)
    except AwsError as error:
        context["problem"] = str(error)
        return render(request, "users/group.html", context)
    base = {"group": name, "size": str(size) if size != paging.DEFAULT_PAGE_SIZE else ""}
    context.update(
        group=group,
        page=page,
        first_query=urlencode({k: v for k, v in base.items() if v}),
        **_links(cursor, page.next_token, scope, base),
    )
    return render(request, "users/group.html", context)


@require_GET
@with_pool
def users_group_detail(request: HttpRequest, where: Where) -> HttpResponse:
    return _group_page(request, where, request.GET.get("group", ""))


def _group_name(request: HttpRequest) -> str:
    return request.POST.get("group", "")[:256]


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_group_add(request: HttpRequest, where: Where) -> HttpResponse:
    name = _group_name(request)
    form = AddMembersForm(request.POST)
    if form.is_valid():
        try:
            added = group_services.group_members_add(
                actor=request.user, pool=where.pool, group=name, text=form.cleaned_data["members"]
            )
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, str(error))
        else:
            count = len(added.added)
            already = (
                f" {len(added.already)} {'was a member' if len(added.already) == 1 else 'were members'} already."
                if added.already
                else ""
            )
            messages.success(request, f"Added {count} {'person' if count == 1 else 'people'} to {name}.{already}")
            return redirect(where.group_url(name))
    return _group_page(request, where, name, add_form=form)


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_group_remove(request: HttpRequest, where: Where) -> HttpResponse:
    name = _group_name(request)
    try:
        removed = group_services.group_members_remove(
            actor=request.user, pool=where.pool, group=name, usernames=request.POST.getlist("usernames")
        )
    except (InputInvalid, AwsError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {removed} {'member' if removed == 1 else 'members'} from {name}.")
    return redirect(where.group_url(name))


@require_POST
@role_required(Role.ADMIN)
@with_pool
def users_group_delete(request: HttpRequest, where: Where) -> HttpResponse:
    name = _group_name(request)
    form = DeleteForm(request.POST)
    if form.is_valid():
        try:
            group_services.group_delete(actor=request.user, pool=where.pool, name=name, confirmation=form.cleaned_data["confirm"])
        except InputInvalid as invalid:
            show_error(form, invalid)
        except AwsError as error:
            form.add_error(None, f"The group was not deleted: {error}")
        else:
            messages.success(request, f"Group {name} deleted; its members stay in the user pool.")
            return redirect(where.url("users_groups"))
    return _group_page(request, where, name, delete_form=form)
