"""Access keys for the Amplify-compatible API: the services (the secret is encrypted and
shown once, limits, revocation, audit), the admins' page and the `apikey` command."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.amplify_api import keys
from apps.amplify_api.models import AccessKey
from apps.amplify_api.tests.conftest import amplify_client
from console.models import AuditEvent


def messages_of(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [message for messages in error.value.message_dict.values() for message in messages]


@pytest.fixture
def admin_key(admin_user: Any) -> keys.NewKey:
    return keys.key_create(actor=None, username=admin_user.get_username())


# --- Creating and reading back ------------------------------------------------------


def test_the_secret_is_stored_encrypted_and_read_back(admin_user: Any) -> None:
    new = keys.key_create(actor=admin_user, username=admin_user.get_username(), description="  release script  ")
    stored = AccessKey.objects.get(access_key_id=new.key.access_key_id)
    assert re.fullmatch(r"AKCN[A-Z2-7]{16}", stored.access_key_id)
    assert len(new.secret_access_key) >= 30
    assert new.secret_access_key not in stored.secret_encrypted
    assert keys.secret_of(stored) == new.secret_access_key
    assert (stored.user, stored.created_by, stored.description) == (admin_user, admin_user, "release script")


def test_a_new_secret_key_makes_existing_keys_unusable(api_endpoint: str, admin_key: keys.NewKey, settings: Any) -> None:
    client = amplify_client(api_endpoint, admin_key.key.access_key_id, admin_key.secret_access_key)
    client.list_apps()
    settings.SECRET_KEY = "another-secret-key-after-a-rotation"
    assert keys.secret_of(AccessKey.objects.get(pk=admin_key.key.pk)) is None
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    assert refused.value.response["Error"]["Code"] == "UnauthorizedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_no_key_for_an_unknown_user(db: None) -> None:
    with pytest.raises(ValidationError) as refused:
        keys.key_create(actor=None, username="ghost")
    assert messages_of(refused) == ["There is no console user named 'ghost'."]
    assert not AccessKey.objects.exists()
    assert not AuditEvent.objects.filter(action="apikey.create").exists()


def test_no_key_for_a_user_without_a_role(roleless_user: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        keys.key_create(actor=None, username=roleless_user.get_username())
    assert messages_of(refused) == ["'nora' has no console role (or is inactive): give them one first."]
    assert not AccessKey.objects.exists()


def test_at_most_two_active_keys_a_user_until_one_is_revoked(viewer_user: Any) -> None:
    assert keys.MAX_ACTIVE_KEYS_PER_USER == 2
    first = keys.key_create(actor=None, username="vera")
    second = keys.key_create(actor=None, username="vera")
    with pytest.raises(ValidationError) as refused:
        keys.key_create(actor=None, username="vera")
    assert messages_of(refused) == ["'vera' already has 2 active keys: revoke one before creating another."]
    assert AccessKey.objects.filter(user=viewer_user).count() == 2

    keys.key_revoke(actor=None, access_key_id=first.key.access_key_id)
    third = keys.key_create(actor=None, username="vera")
    active = AccessKey.objects.filter(user=viewer_user, revoked_at__isnull=True)
    assert set(active.values_list("access_key_id", flat=True)) == {second.key.access_key_id, third.key.access_key_id}


# --- Revoking and the audit trail ---------------------------------------------------


def test_revoking_an_unknown_key_is_refused(db: None) -> None:
    with pytest.raises(ValidationError) as refused:
        keys.key_revoke(actor=None, access_key_id="AKCNNOSUCHKEY0000000")
    assert messages_of(refused) == ["There is no access key 'AKCNNOSUCHKEY0000000'."]
    assert not AuditEvent.objects.exists()


def test_revoking_twice_is_harmless(admin_user: Any, admin_key: keys.NewKey) -> None:
    first = keys.key_revoke(actor=admin_user, access_key_id=admin_key.key.access_key_id)
    again = keys.key_revoke(actor=admin_user, access_key_id=admin_key.key.access_key_id)
    assert first.revoked_at is not None
    assert again.revoked_at == first.revoked_at
    assert AccessKey.objects.get().revoked_by == admin_user
    assert AuditEvent.objects.filter(action="apikey.revoke").count() == 1


def test_creating_and_revoking_are_audited_without_the_secret(admin_user: Any) -> None:
    new = keys.key_create(actor=admin_user, username="ada")
    keys.key_revoke(actor=admin_user, access_key_id=new.key.access_key_id)
    events = {event.action: event for event in AuditEvent.objects.all()}
    assert set(events) == {"apikey.create", "apikey.revoke"}
    for event in events.values():
        assert (event.actor_name, event.target, event.detail) == ("ada", new.key.access_key_id, {"user": "ada"})
        assert new.secret_access_key not in event.message
        assert new.secret_access_key not in str(event.detail)
        assert new.secret_access_key not in event.target


# --- The page -----------------------------------------------------------------------


def test_admin_sees_the_keys_page(admin_client: Client, admin_key: keys.NewKey) -> None:
    response = admin_client.get(reverse("api_keys"))
    assert response.status_code == 200
    content = response.content.decode()
    assert admin_key.key.access_key_id in content
    assert admin_key.secret_access_key not in content
    assert "http://testserver/amplify-api" in content


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_viewers_and_operators_can_neither_see_nor_change_keys(
    who: str, admin_key: keys.NewKey, admin_user: Any, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(who)
    assert client.get(reverse("api_keys")).status_code == 403
    assert client.post(reverse("api_key_create"), {"user": "ada"}).status_code == 403
    assert client.post(reverse("api_key_revoke", args=[admin_key.key.access_key_id])).status_code == 403
    assert AccessKey.objects.count() == 1
    assert AccessKey.objects.get().revoked_at is None
    assert AuditEvent.objects.filter(action="permission.denied").count() == 2


def test_outsiders_are_sent_to_sign_in(outsider_client: Client, admin_key: keys.NewKey) -> None:
    for response in (
        outsider_client.get(reverse("api_keys")),
        outsider_client.post(reverse("api_key_create"), {"user": "ada"}),
        outsider_client.post(reverse("api_key_revoke", args=[admin_key.key.access_key_id])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert AccessKey.objects.count() == 1
    assert AccessKey.objects.get().revoked_at is None


def test_a_created_key_shows_its_secret_once_and_never_again(admin_client: Client, viewer_user: Any) -> None:
    response = admin_client.post(reverse("api_key_create"), {"user": "vera", "description": "CI"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = AccessKey.objects.get()
    secret = keys.secret_of(key)
    assert secret is not None
    assert (key.user, key.description) == (viewer_user, "CI")
    content = response.content.decode()
    assert content.count(secret) == 1
    assert key.access_key_id in content

    listed = admin_client.get(reverse("api_keys"))
    assert listed.status_code == 200
    assert key.access_key_id in listed.content.decode()
    assert secret not in listed.content.decode()


def test_creating_a_key_for_an_unknown_user_shows_why(admin_client: Client) -> None:
    response = admin_client.post(reverse("api_key_create"), {"user": "ghost"})
    assert response.status_code == 400
    assert html.escape("There is no console user named 'ghost'.") in response.content.decode()
    assert not AccessKey.objects.exists()
    assert not AuditEvent.objects.filter(action="apikey.create").exists()


def test_revoking_from_the_page(admin_client: Client, admin_user: Any, admin_key: keys.NewKey) -> None:
    response = admin_client.post(reverse("api_key_revoke", args=[admin_key.key.access_key_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("api_keys")
    key = AccessKey.objects.get()
    assert key.revoked_at is not None
    assert key.revoked_by == admin_user
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Access key {key.access_key_id} of ada is revoked.",
    ]
    assert AuditEvent.objects.filter(action="apikey.revoke", target=key.access_key_id, actor_name="ada").count() == 1


# --- The command --------------------------------------------------------------------


def apikey(*args: str) -> str:
    out = io.StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue()


def test_cli_creates_a_key_that_signs_requests_and_revokes_it(api_endpoint: str, admin_user: Any) -> None:
    lines = apikey("create", "--user", "ada", "--description", "release script").splitlines()
    assert len(lines) == 2
    id_line = re.fullmatch(r"AccessKeyId: (AKCN[A-Z2-7]{16})", lines[0])
    secret_line = re.fullmatch(r"SecretAccessKey: (\S+)", lines[1])
    assert id_line is not None
    assert secret_line is not None
    key_id, secret = id_line[1], secret_line[1]
    key = AccessKey.objects.get(access_key_id=key_id)
    assert (key.user, key.description, key.created_by) == (admin_user, "release script", None)

    client = amplify_client(api_endpoint, key_id, secret)
    assert client.list_apps()["apps"] == []

    assert apikey("revoke", key_id).strip() == f"Revoked {key_id} of ada."
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    assert refused.value.response["Error"]["Code"] == "UnauthorizedException"
    assert AccessKey.objects.get(access_key_id=key_id).revoked_at is not None


def test_cli_refuses_a_key_for_an_unknown_user(db: None) -> None:
    with pytest.raises(CommandError, match=r"^There is no console user named 'nosuchuser'\.$"):
        apikey("create", "--user", "nosuchuser")
    assert not AccessKey.objects.exists()


def test_cli_lists_ids_and_users_but_never_secrets(admin_user: Any, viewer_user: Any) -> None:
    active = keys.key_create(actor=None, username="ada")
    revoked = keys.key_create(actor=None, username="vera")
    keys.key_revoke(actor=None, access_key_id=revoked.key.access_key_id)

    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in apikey("list").splitlines()}
    assert set(rows) == {active.key.access_key_id, revoked.key.access_key_id}
    assert rows[active.key.access_key_id][:2] == ["ada", "active"]
    user, status = rows[revoked.key.access_key_id][:2]
    assert user == "vera"
    assert status.startswith("revoked ")
    listing = apikey("list")
    assert active.secret_access_key not in listing
    assert revoked.secret_access_key not in listing
    assert active.key.secret_encrypted not in listing
