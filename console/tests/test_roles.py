"""Roles are enforced on the server; the createuser command sets them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from console.models import AuditEvent
from console.roles import Role, has_role, user_role


def test_roles_are_ordered_viewer_operator_admin(admin_user: Any, operator_user: Any, viewer_user: Any) -> None:
    assert user_role(viewer_user) is Role.VIEWER
    assert user_role(operator_user) is Role.OPERATOR
    assert has_role(admin_user, Role.OPERATOR)
    assert not has_role(viewer_user, Role.OPERATOR)


def test_superuser_counts_as_admin(db: None) -> None:
    root = get_user_model().objects.create_superuser("root", password="x" * 12)
    assert user_role(root) is Role.ADMIN


def test_every_page_needs_login(outsider_client: Client) -> None:
    for path in ("/", "/audit/", "/apps/new/"):
        response = outsider_client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_signed_in_user_without_a_role_sees_nothing(roleless_user: Any) -> None:
    client = Client()
    client.force_login(roleless_user)
    response = client.get("/")
    assert response.status_code == 403
    assert b"no role yet" in response.content


def test_login_page_signs_in_with_a_password(viewer_user: Any) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "vera", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_message(viewer_user: Any) -> None:
    response = Client().post("/accounts/login/", {"username": "vera", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_createuser_reads_the_password_from_stdin(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    out = io.StringIO()
    call_command("createuser", "olga", "--role", "operator", stdout=out)
    user = get_user_model().objects.get(username="olga")
    assert user.check_password("a-long-enough-password")
    assert user_role(user) is Role.OPERATOR
    assert "Created olga with role operator" in out.getvalue()
    assert AuditEvent.objects.filter(action="user.create", target="olga").exists()


def test_createuser_refuses_an_existing_user_without_update(viewer_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    with pytest.raises(CommandError, match="pass --update"):
        call_command("createuser", "vera", "--role", "admin")
    assert user_role(get_user_model().objects.get(username="vera")) is Role.VIEWER


def test_createuser_update_changes_role_and_password(viewer_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("another-long-password\n"))
    call_command("createuser", "vera", "--role", "admin", "--update", stdout=io.StringIO())
    user = get_user_model().objects.get(username="vera")
    assert user_role(user) is Role.ADMIN
    assert user.check_password("another-long-password")


@pytest.mark.parametrize(("stdin", "message"), [("\n", "No password"), ("short\n", "too short")])
def test_createuser_rejects_bad_passwords_and_writes_nothing(
    db: None, monkeypatch: pytest.MonkeyPatch, stdin: str, message: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(CommandError, match=message):
        call_command("createuser", "pat", "--role", "viewer")
    assert not get_user_model().objects.filter(username="pat").exists()


def test_createuser_rejects_an_unknown_role(db: None) -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("createuser", "pat", "--role", "root")
