"""Every Functions page is a read: any signed-in role reads it, nobody posts to it, a
signed-in user without a role and an outsider see nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.functions.tests.conftest import url
from apps.functions.tests.stacks import write_events

PAGES = ["functions_list", "function_detail", "function_logs", "function_logs_tail", "function_logs_download"]


def _path(name: str, branch: Branch, functions: dict[str, str]) -> str:
    args = [] if name == "functions_list" else [functions["sayHello"]]
    tail = "?after=0" if name == "function_logs_tail" else ""
    return url(name, branch, *args) + tail


@pytest.fixture
def logged(functions: dict[str, str], client: Callable[[str], Any]) -> dict[str, str]:
    write_events(client, f"/aws/lambda/{functions['sayHello']}", ["hello"], start_ms=int(time.time() * 1000))
    return functions


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("name", PAGES)
def test_every_role_reads_every_page(
    name: str, role: str, request: pytest.FixtureRequest, branch: Branch, logged: dict[str, str]
) -> None:
    client: Client = request.getfixturevalue(f"{role}_client")
    assert client.get(_path(name, branch, logged)).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_posts_are_refused(name: str, admin_client: Client, branch: Branch, logged: dict[str, str]) -> None:
    assert admin_client.post(_path(name, branch, logged)).status_code == 405


@pytest.mark.parametrize("name", PAGES)
def test_outsiders_and_users_without_a_role_see_nothing(
    name: str, outsider_client: Client, roleless_user: Any, branch: Branch, logged: dict[str, str]
) -> None:
    response = outsider_client.get(_path(name, branch, logged))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    roleless = Client()
    roleless.force_login(roleless_user)
    assert roleless.get(_path(name, branch, logged)).status_code == 403
