"""TagResource, UntagResource and ListTagsForResource (`/tags/{resourceArn}`) on apps and
branches: admins tag and untag, viewers list, as for the apps' other settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from apps.amplify_api import render
from apps.amplify_api.protocol import ApiError, bad_request
from apps.amplify_api.tags import TagsInvalid, parse_resource_arn, tags_of, tags_remove, tags_set
from apps.branches.models import App, Branch
from console.roles import Role


def _resource_not_found(arn: str) -> ApiError:
    return ApiError("ResourceNotFoundException", f"No app or branch has the ARN {arn[:300]!r}.")


def _resource(arn: str) -> tuple[App, Branch | None]:
    parsed = parse_resource_arn(arn)
    if parsed is None:
        raise bad_request(
            f"resourceArn {arn[:300]!r}: only apps and branches can be tagged (…:apps/<appId>[/branches/<branch>])."
        )
    region, account, app_id, branch_name = parsed
    app = App.objects.filter(app_id=app_id).first() if (region, account) == (settings.AWS_REGION, render.ACCOUNT_ID) else None
    if app is None:
        raise _resource_not_found(arn)
    if branch_name is None:
        return app, None
    branch = app.branches.filter(name=branch_name).first()
    if branch is None:
        raise _resource_not_found(arn)
    return app, branch


def tag_resource(call: Any) -> dict[str, Any]:
    app, branch = _resource(call.params["resourceArn"])
    try:
        tags_set(actor=call.user, app=app, branch=branch, tags=call.params["tags"])
    except TagsInvalid as error:
        raise bad_request(f"tags: {error}") from None
    return {}


def untag_resource(call: Any) -> dict[str, Any]:
    app, branch = _resource(call.params["resourceArn"])
    tags_remove(actor=call.user, app=app, branch=branch, keys=call.params["tagKeys"])
    return {}


def list_tags_for_resource(call: Any) -> dict[str, Any]:
    app, branch = _resource(call.params["resourceArn"])
    return {"tags": tags_of(app, branch)}


TAG_OPERATIONS: dict[str, tuple[Role, Callable[[Any], dict[str, Any]]]] = {
    "TagResource": (Role.ADMIN, tag_resource),
    "UntagResource": (Role.ADMIN, untag_resource),
    "ListTagsForResource": (Role.VIEWER, list_tags_for_resource),
}
