"""A branch whose outputs name a Cognito user pool (made in moto), and helpers to fill and read it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from django.urls import reverse

from apps.branches import services as branch_services
from apps.branches.models import Branch
from console.aws import aws_client

REGION = "us-east-1"
STRONG = "Str0ng!pass"  # meets the test pools' policy
POLICY = {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True, "RequireSymbols": True}


def outputs_with_auth(pool_id: str, username_attributes: list[str], region: str = REGION) -> dict[str, Any]:
    """A valid amplify_outputs.json (1.4) whose auth section names `pool_id`."""
    return {
        "version": "1.4",
        "auth": {
            "aws_region": region,
            "user_pool_id": pool_id,
            "user_pool_client_id": "testclient",
            "username_attributes": username_attributes,
            "standard_required_attributes": ["email"],
            "password_policy": {
                "min_length": 8,
                "require_numbers": True,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_symbols": True,
            },
        },
    }


@pytest.fixture
def idp() -> Any:
    """A raw client for the tests' own reads and writes (not the console's)."""
    return boto3.client("cognito-idp", region_name=REGION)


def make_pool(idp: Any, username_attributes: list[str], policy: dict[str, Any] | None = None) -> str:
    extra = {"UsernameAttributes": username_attributes} if username_attributes else {}
    created = idp.create_user_pool(PoolName="shop-main", Policies={"PasswordPolicy": policy or POLICY}, **extra)
    return str(created["UserPool"]["Id"])


@pytest.fixture
def app_branch(db: None, make_repo: Callable[..., Path]) -> Branch:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    return app.branches.get(name="main")


def with_pool(branch: Branch, pool_id: str, username_attributes: list[str]) -> Branch:
    branch.backend_outputs = outputs_with_auth(pool_id, username_attributes or ["username"])
    branch.save()
    return branch


@pytest.fixture
def pool_id(idp: Any) -> str:
    """A pool whose people sign in with their email address (Amplify's default)."""
    return make_pool(idp, ["email"])


@pytest.fixture
def branch(app_branch: Branch, pool_id: str) -> Branch:
    return with_pool(app_branch, pool_id, ["email"])


def url(name: str, branch: Branch, **query: str) -> str:
    path = reverse(name, args=[branch.app.app_id, branch.display_name])
    return f"{path}?{urlencode(query)}" if query else path


def add_user(idp: Any, pool_id: str, email: str, **attributes: str) -> str:
    """A user of the email pool made directly in moto; its (generated) username."""
    attrs = [{"Name": "email", "Value": email}, *({"Name": k, "Value": v} for k, v in attributes.items())]
    user = idp.admin_create_user(UserPoolId=pool_id, Username=email, UserAttributes=attrs, MessageAction="SUPPRESS")
    return str(user["User"]["Username"])


def username_of(idp: Any, pool_id: str, email: str) -> str:
    users = [u for u in all_users(idp, pool_id) if attrs(u).get("email") == email]
    assert len(users) == 1, users
    return str(users[0]["Username"])


def all_users(idp: Any, pool_id: str) -> list[dict[str, Any]]:
    pages = idp.get_paginator("list_users").paginate(UserPoolId=pool_id)
    return [user for page in pages for user in page["Users"]]


def attrs(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.get("Attributes", user.get("UserAttributes", []))}


def members(idp: Any, pool_id: str, group: str) -> list[str]:
    users = idp.list_users_in_group(UserPoolId=pool_id, GroupName=group)["Users"]
    return sorted(attrs(u).get("email", u["Username"]) for u in users)


def group_names(idp: Any, pool_id: str) -> list[str]:
    return sorted(g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"])


def pool_state(idp: Any, pool_id: str) -> tuple[Any, ...]:
    """Everything a write could change: users (attributes, status, enabled), groups, members."""
    users = sorted((u["Username"], u["UserStatus"], u["Enabled"], sorted(attrs(u).items())) for u in all_users(idp, pool_id))
    groups = group_names(idp, pool_id)
    return users, [(g, members(idp, pool_id, g)) for g in groups]


class CognitoCalls:
    """The Cognito API calls the console's client makes, with their parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        aws_client("cognito-idp", region=REGION).meta.events.register("before-parameter-build.cognito-idp", self._seen)

    def _seen(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def filters(self) -> list[str]:
        return [str(params.get("Filter", "")) for name, params in self.calls if name == "ListUsers"]

    def stop(self) -> None:
        aws_client("cognito-idp", region=REGION).meta.events.unregister("before-parameter-build.cognito-idp", self._seen)


@pytest.fixture
def calls() -> Iterator[CognitoCalls]:
    counter = CognitoCalls()
    yield counter
    counter.stop()
