"""Every URL of user management: each write is for admins only: viewers and operators get
403 and the user pool stays as it was, outsiders go to sign-in, admins succeed and are
audited; every read-only URL needs sign-in and lets viewers in. No POST without CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from apps.branches.models import Branch
from apps.users.tests.conftest import STRONG, add_user, pool_state, url
from console.models import AuditEvent

# url name -> form data ({target}, {disabled}, {member}: usernames filled in per test).
MUTATING: dict[str, dict[str, str]] = {
    "users_create": {"email": "new@example.com", "temporary_password": STRONG, "verified": "on"},
    "users_attributes": {"username": "{target}", "email": "target@example.com", "name": "Changed", "flags_shown": "1"},
    "users_password": {"username": "{target}", "password": "N3w!temporary"},
    "users_disable": {"username": "{target}"},
    "users_enable": {"username": "{disabled}"},
    "users_delete": {"username": "{target}", "confirm": "Delete"},
    "users_group_create": {"name": "Auditors", "description": "Read the audit", "precedence": "5"},
    "users_group_add": {"group": "Editors", "members": "target@example.com"},
    "users_group_remove": {"group": "Editors", "usernames": "{member}"},
    "users_group_delete": {"group": "Editors", "confirm": "Delete"},
}
READ_ONLY = {"users_list", "users_detail", "users_groups", "users_group_detail"}


def users_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            elif pattern.name and pattern.name.startswith("users_"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_users_url_is_classified() -> None:
    assert users_url_names() == READ_ONLY | set(MUTATING)


@pytest.fixture
def world(branch: Branch, pool_id: str, idp: Any) -> dict[str, Any]:
    # A confirmed user with a verified email, so a new temporary password shows in its status.
    target = add_user(idp, pool_id, "target@example.com", email_verified="true", name="Target")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=target, Password=STRONG, Permanent=True)
    disabled = add_user(idp, pool_id, "off@example.com")
    idp.admin_disable_user(UserPoolId=pool_id, Username=disabled)
    member = add_user(idp, pool_id, "member@example.com")
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=member, GroupName="Editors")
    return {"branch": branch, "target": target, "disabled": disabled, "member": member}


def target(name: str, world: dict[str, Any]) -> tuple[str, dict[str, str]]:
    data = {k: v.format(**{k: world[k] for k in ("target", "disabled", "member")}) for k, v in MUTATING[name].items()}
    return url(name, world["branch"]), data


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
@pytest.mark.parametrize("name", sorted(MUTATING))
def test_viewers_and_operators_are_refused_and_nothing_changes(
    name: str, who: str, world: dict[str, Any], idp: Any, pool_id: str, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(who)
    path, data = target(name, world)
    before = pool_state(idp, pool_id)
    response = client.post(path, data)
    assert response.status_code == 403
    assert pool_state(idp, pool_id) == before
    assert AuditEvent.objects.get(outcome="denied").target == path


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_outsiders_are_sent_to_sign_in(name: str, outsider_client: Client, world: dict[str, Any], idp: Any, pool_id: str) -> None:
    path, data = target(name, world)
    before = pool_state(idp, pool_id)
    response = outsider_client.post(path, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert pool_state(idp, pool_id) == before


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_admins_may_and_are_audited(name: str, admin_client: Client, world: dict[str, Any], idp: Any, pool_id: str) -> None:
    path, data = target(name, world)
    before = pool_state(idp, pool_id)
    response = admin_client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert pool_state(idp, pool_id) != before
    event = AuditEvent.objects.get(outcome="success", actor_name="ada")
    assert event.action.startswith("users.")
    assert STRONG not in str(event.detail)
    assert "N3w!temporary" not in str(event.detail)


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_posts_without_a_csrf_token_are_refused(
    name: str, admin_user: Any, world: dict[str, Any], idp: Any, pool_id: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    path, data = target(name, world)
    before = pool_state(idp, pool_id)
    assert client.post(path, data).status_code == 403
    assert pool_state(idp, pool_id) == before


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_read_only_pages_need_sign_in_and_let_viewers_in(
    name: str, outsider_client: Client, viewer_client: Client, world: dict[str, Any]
) -> None:
    query = {"users_detail": {"username": world["target"]}, "users_group_detail": {"group": "Editors"}}.get(name, {})
    path = url(name, world["branch"], **query)
    refused = outsider_client.get(path)
    assert refused.status_code == 302
    assert refused["Location"].startswith("/accounts/login/")
    assert viewer_client.get(path).status_code == 200


def test_the_create_form_is_for_admins_only(viewer_client: Client, operator_client: Client, world: dict[str, Any]) -> None:
    for client in (viewer_client, operator_client):
        assert client.get(url("users_create", world["branch"])).status_code == 403


def test_viewers_see_no_write_forms(viewer_client: Client, world: dict[str, Any]) -> None:
    branch = world["branch"]
    pages = [
        viewer_client.get(url("users_list", branch)).content.decode(),
        viewer_client.get(url("users_detail", branch, username=world["target"])).content.decode(),
        viewer_client.get(url("users_groups", branch)).content.decode(),
        viewer_client.get(url("users_group_detail", branch, group="Editors")).content.decode(),
    ]
    for html in pages:
        assert 'method="post" action="/apps/' not in html
        assert "Create user" not in html
