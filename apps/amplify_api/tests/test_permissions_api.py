"""Who may use the API-key pages (admins only, like the keys they hand out), and the
API's own URLs, which authenticate by signature or signed link, not by session."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.amplify_api import keys
from apps.amplify_api.models import AccessKey

READ_ONLY = {"api_keys"}
MUTATING = {"api_key_create", "api_key_revoke"}
# Signed requests (SigV4) and signed log links: see test_api_auth.py and test_api_jobs.py.
TOKEN_AUTHENTICATED = {"amplify_api", "amplify_api_step_log"}


@pytest.fixture
def key(admin_user: Any) -> AccessKey:
    return keys.key_create(actor=None, username=admin_user.get_username()).key


def post(client: Client, name: str, key: AccessKey, user: Any) -> Any:
    if name == "api_key_create":
        return client.post(reverse(name), {"user": user.get_username(), "description": "x"})
    return client.post(reverse(name, args=[key.access_key_id]))


@pytest.mark.parametrize("name", sorted(MUTATING))
@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_only_admins_change_keys(name: str, who: str, key: AccessKey, admin_user: Any, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(who)
    assert post(client, name, key, admin_user).status_code == 403
    assert AccessKey.objects.count() == 1
    assert AccessKey.objects.get().revoked_at is None


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_only_admins_see_the_keys(who: str, key: AccessKey, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(who)
    assert client.get(reverse("api_keys")).status_code == 403


@pytest.mark.parametrize("name", sorted(MUTATING | READ_ONLY))
def test_outsiders_are_sent_to_sign_in(name: str, outsider_client: Client, key: AccessKey, admin_user: Any) -> None:
    response = outsider_client.get(reverse(name)) if name in READ_ONLY else post(outsider_client, name, key, admin_user)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert AccessKey.objects.count() == 1
    assert AccessKey.objects.get().revoked_at is None


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_admins_may(name: str, admin_client: Client, key: AccessKey, admin_user: Any) -> None:
    response = post(admin_client, name, key, admin_user)
    assert response.status_code in (200, 302)
    changed = AccessKey.objects.count() == 2 if name == "api_key_create" else AccessKey.objects.get().revoked_at is not None
    assert changed


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_posts_without_csrf_token_are_refused(name: str, admin_user: Any, key: AccessKey) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert post(client, name, key, admin_user).status_code == 403
    assert AccessKey.objects.count() == 1
    assert AccessKey.objects.get().revoked_at is None
