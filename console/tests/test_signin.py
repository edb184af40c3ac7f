"""Signing in: failed attempts are limited per username and per client address, and
failures and lockouts are audited without the password."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from conftest import PASSWORD
from console.models import AuditEvent

WRONG = "wrong-password-guess"
LOCKED = "Too many failed sign-ins for this user or address. Try again in 5 minutes."


@pytest.fixture(autouse=True)
def _own_cache_and_limits(settings: Any) -> None:
    """A cache of this test's own (counters must not leak between tests), and the defaults
    spelled out so the tests read against them."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "signin-tests"}}
    cache.clear()  # locmem caches of one LOCATION outlive the test
    settings.LOGIN_MAX_FAILURES = 10
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60
    settings.LOGIN_LOCKOUT_SECONDS = 300
    settings.TRUSTED_PROXY_HEADER = ""


def sign_in(username: str, password: str, address: str = "192.0.2.1", **headers: str) -> tuple[Client, str]:
    """(the client, the page's text) after posting the sign-in form from `address`."""
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers)
    return client, response.content.decode().replace("&#x27;", "'") if response.status_code == 200 else ""


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(times: int, username: str = "ada", address: str = "192.0.2.1", **headers: str) -> list[str]:
    return [sign_in(username, WRONG, address, **headers)[1] for _ in range(times)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move time forward by some seconds (the cache's expiry and the lockout's end)."""
    offset = [0.0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def test_the_right_password_signs_in(admin_user: Any) -> None:
    client, _ = sign_in("ada", PASSWORD)
    assert signed_in(client)


def test_the_eleventh_failed_sign_in_within_a_minute_is_refused_even_with_the_right_password(admin_user: Any) -> None:
    pages = fail(10)
    assert all("didn't match" in page for page in pages)
    client, page = sign_in("ada", PASSWORD)
    assert LOCKED in page
    assert "didn't match" not in page
    assert not signed_in(client)
    assert LOCKED in fail(1)[0]


def test_the_username_is_locked_from_every_address_and_the_address_for_every_username(
    admin_user: Any, viewer_user: Any, operator_user: Any
) -> None:
    fail(10, "ada", "192.0.2.1")
    client, page = sign_in("ada", PASSWORD, "198.51.100.2")
    assert LOCKED in page
    assert not signed_in(client), "the username is locked wherever it is tried from"
    client, page = sign_in("vera", PASSWORD, "192.0.2.1")
    assert LOCKED in page
    assert not signed_in(client), "the address is locked for every username"
    client, page = sign_in("otto", PASSWORD, "198.51.100.2")
    assert signed_in(client), "another user from another address is unaffected"


def test_guesses_spread_over_many_usernames_lock_out_the_address(admin_user: Any) -> None:
    for n in range(10):
        fail(1, f"guess{n}")
    client, page = sign_in("ada", PASSWORD)
    assert LOCKED in page
    assert not signed_in(client)


def test_failures_and_the_lockout_are_audited_without_the_password(admin_user: Any) -> None:
    fail(10)
    sign_in("ada", PASSWORD)
    events = AuditEvent.objects.filter(target_type="user", target="ada")
    assert events.filter(action="signin.failure", outcome="failure").count() == 10
    lockout = events.get(action="signin.lockout")
    assert (lockout.outcome, lockout.actor_name, lockout.ip_address) == ("denied", "anonymous", "192.0.2.1")
    assert "locked out for 300 s after 10 failed sign-ins" in lockout.message
    assert events.filter(action="signin.refused", outcome="denied").count() == 1
    trail = str(list(AuditEvent.objects.values()))
    assert WRONG not in trail
    assert PASSWORD not in trail


def test_the_lockout_lifts_after_its_time(admin_user: Any, clock: Callable[[float], None]) -> None:
    fail(10)
    clock(240)
    assert "Try again in 1 minute." in sign_in("ada", PASSWORD)[1]
    clock(61)
    client, _ = sign_in("ada", PASSWORD)
    assert signed_in(client)
    # ... with the full number of attempts again.
    assert all("didn't match" in page for page in fail(10))


def test_failures_older_than_the_window_do_not_count(admin_user: Any, clock: Callable[[float], None]) -> None:
    fail(9)
    clock(61)
    fail(9)
    client, _ = sign_in("ada", PASSWORD)
    assert signed_in(client)


def test_a_successful_sign_in_clears_its_usernames_failures(admin_user: Any) -> None:
    fail(9, address="192.0.2.1")
    assert signed_in(sign_in("ada", PASSWORD, "198.51.100.2")[0])
    fail(9, address="203.0.113.3")
    assert signed_in(sign_in("ada", PASSWORD, "198.51.100.4")[0])


def test_smaller_limits_from_settings_apply(admin_user: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_LOCKOUT_SECONDS = 60
    fail(2)
    assert "Try again in 1 minute." in sign_in("ada", PASSWORD)[1]


def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_client(admin_user: Any, viewer_user: Any, settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    # Every request comes from the proxy (10.0.0.254); a forged leftmost entry changes nothing.
    for n in range(10):
        fail(1, f"guess{n}", "10.0.0.254", **{"X-Forwarded-For": f"1.1.1.{n}, 203.0.113.5"})
    client, page = sign_in("ada", PASSWORD, "10.0.0.254", **{"X-Forwarded-For": "203.0.113.5"})
    assert LOCKED in page
    assert not signed_in(client)
    client, _ = sign_in("vera", PASSWORD, "10.0.0.254", **{"X-Forwarded-For": "203.0.113.6"})
    assert signed_in(client), "another client behind the same proxy is unaffected"
    assert AuditEvent.objects.filter(action="signin.lockout", ip_address="203.0.113.5").exists()
