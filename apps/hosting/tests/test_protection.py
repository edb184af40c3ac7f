"""Password protection: which setting guards a branch, checking Authorization headers
(and what is remembered of them), the challenge, the API's credentials, and the services."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password as real_check_password
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError

from apps.branches.models import App, Branch, EnvironmentVariable
from apps.hosting import protection
from apps.hosting.models import BasicAuth, SiteSettings
from apps.hosting.protection import (
    challenge,
    check_authorization,
    effective_basic_auth,
    parse_basic_auth_credentials,
)
from apps.hosting.services import clear_branch_basic_auth, set_basic_auth, set_custom_headers
from console.models import AuditEvent

PASSWORD = "open-sesame-42"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    protection.forget_verified()
    yield
    protection.forget_verified()


@pytest.fixture
def hasher_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the slow hasher was asked to check."""
    calls: list[str] = []

    def counting(password: str, encoded: str) -> bool:
        calls.append(password)
        return real_check_password(password, encoded)

    monkeypatch.setattr(protection, "check_password", counting)
    return calls


@pytest.fixture
def guard(db: None, app: App) -> BasicAuth:
    return BasicAuth.objects.create(app=app, enabled=True, username="ada", password_hash=make_password(PASSWORD))


@pytest.fixture
def dev(app: App) -> Branch:
    return Branch.objects.create(app=app, name="dev", display_name="dev")


def test_the_right_username_and_password_pass(guard: BasicAuth) -> None:
    assert check_authorization(basic("ada", PASSWORD), guard)


@pytest.mark.parametrize(
    ("user", "password"),
    [("ada", "open-sesame-43"), ("bob", PASSWORD), ("Ada", PASSWORD), ("ada", ""), ("", PASSWORD), ("ada ", PASSWORD)],
)
def test_a_wrong_username_or_password_fails(guard: BasicAuth, user: str, password: str) -> None:
    assert not check_authorization(basic(user, password), guard)


def test_a_password_holding_colons_is_split_at_the_first(db: None, app: App) -> None:
    auth = BasicAuth.objects.create(app=app, enabled=True, username="ada", password_hash=make_password("a:b:c:d:e"))
    assert check_authorization(basic("ada", "a:b:c:d:e"), auth)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic ",
        "Bearer " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode(),
        "Basic not*base64",
        "Basic " + base64.b64encode(f"ada{PASSWORD}".encode()).decode(),  # no colon
        "Basic " + base64.b64encode(b"ada:\xff\xfe-not-utf8").decode(),
        "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()[:-2],  # cut padding
        "Basic " + "A" * 5000,
    ],
)
def test_malformed_headers_fail(guard: BasicAuth, header: str | None) -> None:
    assert not check_authorization(header, guard)


def test_the_scheme_is_case_insensitive(guard: BasicAuth) -> None:
    assert check_authorization(basic("ada", PASSWORD).replace("Basic", "basic"), guard)


def test_a_success_is_remembered_so_assets_do_not_each_pay_the_hasher(guard: BasicAuth, hasher_calls: list[str]) -> None:
    for _ in range(5):
        assert check_authorization(basic("ada", PASSWORD), guard)
    assert len(hasher_calls) == 1


def test_failures_are_never_remembered(guard: BasicAuth, hasher_calls: list[str]) -> None:
    for _ in range(3):
        assert not check_authorization(basic("ada", "wrong-password"), guard)
    assert len(hasher_calls) == 3
    assert check_authorization(basic("ada", PASSWORD), guard)
    assert not check_authorization(basic("ada", "wrong-password"), guard)
    assert len(hasher_calls) == 5


def test_a_new_password_or_username_forgets_what_was_remembered(guard: BasicAuth) -> None:
    header = basic("ada", PASSWORD)
    assert check_authorization(header, guard)
    guard.password_hash = make_password("another-password")
    assert not check_authorization(header, guard)
    guard.password_hash = make_password(PASSWORD)
    assert check_authorization(header, guard)
    guard.username = "bob"
    assert not check_authorization(header, guard)


def test_the_cache_is_bounded(guard: BasicAuth, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protection, "CACHE_SIZE", 2)
    for n in range(4):
        guard.password_hash = make_password(f"password-{n}")
        assert check_authorization(basic("ada", f"password-{n}"), guard)
    assert len(protection._verified) == 2


def test_a_row_without_a_password_lets_nobody_in(db: None, app: App) -> None:
    auth = BasicAuth.objects.create(app=app, enabled=True, username="ada", password_hash="")
    assert not check_authorization(basic("ada", ""), auth)


def test_nothing_set_means_no_protection(db: None, app: App, dev: Branch) -> None:
    assert effective_basic_auth(app, dev) is None
    assert effective_basic_auth(app, None) is None


def test_the_app_setting_guards_branches_without_their_own(guard: BasicAuth, app: App, dev: Branch) -> None:
    assert effective_basic_auth(app, dev) == guard
    assert effective_basic_auth(app, None) == guard


def test_a_branch_setting_wins_over_the_app_setting(guard: BasicAuth, app: App, dev: Branch) -> None:
    own = BasicAuth.objects.create(app=app, branch=dev, enabled=True, username="bob", password_hash=make_password(PASSWORD))
    assert effective_basic_auth(app, Branch.objects.get(pk=dev.pk)) == own


def test_a_disabled_branch_setting_opens_that_branch_only(guard: BasicAuth, app: App, dev: Branch) -> None:
    BasicAuth.objects.create(app=app, branch=dev, enabled=False)
    main = app.branches.get(name="main")
    assert effective_basic_auth(app, Branch.objects.get(pk=dev.pk)) is None
    assert effective_basic_auth(app, main) == guard


def test_a_branch_can_be_protected_while_the_app_is_not(db: None, app: App, dev: Branch) -> None:
    BasicAuth.objects.create(app=app, enabled=False)
    own = BasicAuth.objects.create(app=app, branch=dev, enabled=True, username="bob", password_hash=make_password(PASSWORD))
    assert effective_basic_auth(app, Branch.objects.get(pk=dev.pk)) == own


def test_the_branch_row_selected_with_the_branch_costs_no_query(
    guard: BasicAuth, app: App, dev: Branch, django_assert_num_queries: Any
) -> None:
    BasicAuth.objects.create(app=app, branch=dev, enabled=True, username="bob", password_hash=make_password(PASSWORD))
    branch = Branch.objects.select_related("basic_auth").get(pk=dev.pk)
    with django_assert_num_queries(0):
        assert effective_basic_auth(app, branch) is not None


def test_the_challenge_asks_for_basic_credentials_and_is_never_cached() -> None:
    response = challenge('Shop "main"\r\nX-Injected: 1')
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Shop \\"main\\"X-Injected: 1", charset="UTF-8"'
    assert response["Cache-Control"] == "no-store"
    assert "X-Injected" not in response.headers


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_api_credentials_parse() -> None:
    assert parse_basic_auth_credentials(encoded("ada:open-sesame")) == ("ada", "open-sesame")
    assert parse_basic_auth_credentials(encoded("ada:with:colons")) == ("ada", "with:colons")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("not base64!", "must be base64"),
        (base64.b64encode(b"\xff\xfe:password1").decode(), "must be base64 of UTF-8"),
        (encoded("no-colon-here"), "no colon"),
        (encoded(":open-sesame"), "username is empty"),
        (encoded("ada:short"), "at least 8 characters"),
        (encoded("ada:" + "x" * 300), "longer than 255"),
        ("A" * 2004, "longer than 2000"),
    ],
)
def test_bad_api_credentials_say_what_is_wrong(value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_basic_auth_credentials(value)


@pytest.mark.parametrize("password", ["s3cr3t!", "has\ncontrol", "x" * 256])
def test_a_refused_api_password_is_never_repeated_in_the_message(password: str) -> None:
    with pytest.raises(ValueError, match="password") as caught:
        parse_basic_auth_credentials(encoded(f"ada:{password}"))
    assert password not in str(caught.value)


def audit_text() -> str:
    return json.dumps([[e.message, e.detail, e.target] for e in AuditEvent.objects.all()])


def test_set_basic_auth_stores_a_hash_and_audits_without_the_password(db: None, app: App, admin_user: Any) -> None:
    row = set_basic_auth(actor=admin_user, app=app, enabled=True, username="ada", password=PASSWORD)
    assert row.branch is None
    assert row.enabled
    assert row.password_hash != PASSWORD
    assert check_authorization(basic("ada", PASSWORD), row)
    event = AuditEvent.objects.get(action="hosting.basic_auth.update")
    assert (event.target_type, event.target, event.detail["changed"]) == ("app", app.app_id, ["enabled", "username", "password"])
    assert PASSWORD not in audit_text()
    assert row.password_hash not in audit_text()


def test_set_basic_auth_keeps_the_stored_password_when_none_is_given(db: None, app: App) -> None:
    first = set_basic_auth(actor=None, app=app, enabled=True, username="ada", password=PASSWORD)
    again = set_basic_auth(actor=None, app=app, enabled=True, username="bob")
    assert again.pk == first.pk
    assert again.password_hash == first.password_hash
    assert again.username == "bob"
    assert BasicAuth.objects.filter(app=app).count() == 1


def test_turning_protection_on_without_a_password_is_refused(db: None, app: App, dev: Branch) -> None:
    with pytest.raises(ValidationError) as caught:
        set_basic_auth(actor=None, app=app, branch=dev, enabled=True, username="ada")
    assert "password" in caught.value.message_dict
    assert not BasicAuth.objects.exists()
    assert not AuditEvent.objects.filter(action="hosting.basic_auth.update").exists()


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [("ada", "short", "password"), ("a:b", PASSWORD, "username"), ("", PASSWORD, "username"), ("ada\n", PASSWORD, "username")],
)
def test_bad_usernames_and_passwords_are_refused(db: None, app: App, username: str, password: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        set_basic_auth(actor=None, app=app, enabled=True, username=username, password=password)
    assert field in caught.value.message_dict
    assert not BasicAuth.objects.exists()


def test_a_branch_of_another_app_is_refused(db: None, app: App, dev: Branch) -> None:
    other = App.objects.create(name="Other", repository=app.repository)
    with pytest.raises(ValidationError):
        set_basic_auth(actor=None, app=other, branch=dev, enabled=False)


def test_clearing_a_branch_setting_falls_back_to_the_app(db: None, app: App, dev: Branch, admin_user: Any) -> None:
    app_row = set_basic_auth(actor=None, app=app, enabled=True, username="ada", password=PASSWORD)
    set_basic_auth(actor=None, app=app, branch=dev, enabled=False)
    assert effective_basic_auth(app, Branch.objects.get(pk=dev.pk)) is None
    assert clear_branch_basic_auth(actor=admin_user, branch=dev)
    assert effective_basic_auth(app, Branch.objects.get(pk=dev.pk)) == app_row
    assert AuditEvent.objects.filter(action="hosting.basic_auth.clear", target=f"{app.app_id}/dev").exists()
    assert not clear_branch_basic_auth(actor=admin_user, branch=dev)


def test_set_custom_headers_saves_as_written_and_audits(db: None, app: App, admin_user: Any) -> None:
    text = "customHeaders:\r\n  - pattern: '**/*'\r\n    headers:\r\n      - key: X-Frame-Options\r\n        value: DENY\r\n"
    set_custom_headers(actor=admin_user, app=app, text=text)
    assert SiteSettings.objects.get(app=app).custom_headers == text.replace("\r\n", "\n")
    event = AuditEvent.objects.get(action="hosting.custom_headers.update")
    assert event.detail == {"rules": 1, "bytes": len(text.replace("\r\n", "\n"))}


def test_set_custom_headers_refuses_bad_yaml_and_writes_nothing(db: None, app: App) -> None:
    with pytest.raises(ValidationError) as caught:
        set_custom_headers(
            actor=None,
            app=app,
            text="customHeaders:\n  - pattern: '*'\n    headers:\n      - key: Connection\n        value: close\n",
        )
    assert "Connection cannot be set" in caught.value.message_dict["custom_headers"][0]
    assert not SiteSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="hosting.custom_headers.update").exists()


def test_set_custom_headers_reads_a_monorepo_file_for_the_apps_root(db: None, app: App) -> None:
    text = (
        "applications:\n  - appRoot: web\n    customHeaders: []\n  - appRoot: docs\n    customHeaders:\n"
        "      - pattern: '*'\n        headers: []\n"
    )
    with pytest.raises(ValidationError, match="AMPLIFY_MONOREPO_APP_ROOT"):
        set_custom_headers(actor=None, app=app, text=text)
    EnvironmentVariable.objects.create(app=app, name="AMPLIFY_MONOREPO_APP_ROOT", value="docs")
    set_custom_headers(actor=None, app=app, text=text)
    assert AuditEvent.objects.get(action="hosting.custom_headers.update").detail["rules"] == 1
