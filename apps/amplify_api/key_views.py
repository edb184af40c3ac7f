"""Admins' page for API access keys: list, create (the secret shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.amplify_api import keys
from apps.amplify_api.models import AccessKey
from console.roles import Role, role_required, user_role


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    users = [u for u in get_user_model().objects.filter(is_active=True).order_by("username") if user_role(u) is not None]
    return {
        "keys": AccessKey.objects.select_related("user", "created_by", "revoked_by"),
        "users": [(u.get_username(), user_role(u).group_name) for u in users],  # type: ignore[union-attr]
        "endpoint_url": request.build_absolute_uri("/amplify-api"),
        "max_keys": keys.MAX_ACTIVE_KEYS_PER_USER,
        **extra,
    }


@require_GET
@role_required(Role.ADMIN)
def key_list(request: HttpRequest) -> HttpResponse:
    return render(request, "amplify_api/keys.html", _context(request))


@require_POST
@role_required(Role.ADMIN)
def key_create(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("user", "")
    description = request.POST.get("description", "")
    try:
        new = keys.key_create(actor=request.user, username=username, description=description)
    except ValidationError as error:
        context = _context(request, errors=error.messages, form={"user": username})
        return render(request, "amplify_api/keys.html", context, status=400)
    # Rendered, not redirected: the secret is in this one response and nowhere else.
    response = render(request, "amplify_api/keys.html", _context(request, new_key=new))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(Role.ADMIN)
def key_revoke(request: HttpRequest, access_key_id: str) -> HttpResponse:
    try:
        key = keys.key_revoke(actor=request.user, access_key_id=access_key_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Access key {key.access_key_id} of {key.user.get_username()} is revoked.")
    return redirect(reverse("api_keys"))
