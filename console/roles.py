"""Roles: viewer < operator < admin, stored as Django groups (superuser = admin).

Enforced on the server twice: a middleware turns away signed-in users without
any role, and `role_required` guards each view that needs more than viewing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class Role(enum.IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def group_name(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"Unknown role {name!r}: use viewer, operator or admin.") from None


# Cached per request on the user object; _UNKNOWN means "not looked up yet".
_UNKNOWN = object()


def user_role(user: Any) -> Role | None:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    cached = getattr(user, "_console_role", _UNKNOWN)
    if cached is not _UNKNOWN:
        return cast(Role | None, cached)
    names = set(user.groups.values_list("name", flat=True))
    role = max((r for r in Role if r.group_name in names), default=None)
    user._console_role = role
    return role


def has_role(user: Any, role: Role) -> bool:
    current = user_role(user)
    return current is not None and current >= role


def set_role(user: Any, role: Role) -> None:
    groups = [Group.objects.get_or_create(name=r.group_name)[0] for r in Role]
    user.groups.remove(*groups)
    user.groups.add(Group.objects.get(name=role.group_name))
    user._console_role = _UNKNOWN


def require_role(request: HttpRequest, role: Role) -> None:
    """Raise PermissionDenied (a denied POST is audited) unless the user holds `role`."""
    if not has_role(request.user, role):
        if request.method == "POST":
            from console.audit import audit_denied

            audit_denied(request, required=role)
        raise PermissionDenied(f"This needs the {role.group_name} role.")


def role_required(role: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Allow the view only to users holding `role` or a higher one."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_role(request, role)
            return view(request, *args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


class RoleRequiredMiddleware:
    """Signed-in users without any role see a 403 page on every console page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any) -> HttpResponse | None:
        if not getattr(view_func, "login_required", True):
            return None
        user = request.user
        if user.is_authenticated and user_role(user) is None:
            return render(
                request, "403.html", {"reason": "Your account has no role yet. Ask an admin to give you one."}, status=403
            )
        return None


def role_context(request: HttpRequest) -> dict[str, Any]:
    role = user_role(getattr(request, "user", None))
    return {
        "console_role": role.group_name if role else None,
        "is_operator": role is not None and role >= Role.OPERATOR,
        "is_admin": role is not None and role >= Role.ADMIN,
    }
