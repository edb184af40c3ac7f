"""What every user-management view starts from: the branch and its user pool.

A branch without auth gets a page that says so (and a POST a message), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.branches.models import USER_POOL, Branch
from apps.branches.selectors import app_get, branch_get
from apps.branches.selectors import outputs_refusal as refusal
from apps.users.pool import UserPool, pool_from_outputs


@dataclass(frozen=True)
class Where:
    """The branch a page is about and the user pool its outputs name."""

    branch: Branch
    pool: UserPool

    def base(self) -> dict[str, Any]:
        return {"app": self.branch.app, "branch": self.branch, "pool": self.pool}

    def url(self, name: str, **query: str) -> str:
        path = reverse(name, args=[self.branch.app.app_id, self.branch.display_name])
        params = {k: v for k, v in query.items() if v}
        return f"{path}?{urlencode(params)}" if params else path

    def user_url(self, username: str) -> str:
        return self.url("users_detail", username=username)

    def group_url(self, group: str) -> str:
        return self.url("users_group_detail", group=group)


def branch_of(app_id: str, branch: str) -> Branch:
    return branch_get(app_get(app_id), branch)


def with_pool(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Call `view(request, where, ...)` for the branch of the URL, when its outputs name a pool."""

    @wraps(view)
    def wrapped(request: HttpRequest, app_id: str, branch: str, **kwargs: Any) -> HttpResponse:
        branch_obj = branch_of(app_id, branch)
        pool = pool_from_outputs(branch_obj.backend_outputs)
        refused = refusal(branch_obj, USER_POOL, pool.user_pool_id) if pool else ""
        if refused:
            raise PermissionDenied(refused)
        if pool is None:
            if request.method == "POST":
                messages.error(request, f"{branch_obj.name} has no user pool: nothing was changed.")
                return redirect("users_list", app_id=app_id, branch=branch)
            context = {"app": branch_obj.app, "branch": branch_obj, "has_outputs": bool(branch_obj.backend_outputs)}
            return render(request, "users/no_auth.html", context)
        return view(request, Where(branch_obj, pool), **kwargs)

    return wrapped
