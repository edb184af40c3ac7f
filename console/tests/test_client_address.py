"""The client's address: REMOTE_ADDR unless a trusted proxy's header is configured, and
then only the entry that proxy appended, if it is an IP address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from console.audit import audit_context, audit_record, context_of
from console.client_address import client_address

PROXY = "10.0.0.254"


def request_from(remote: str = PROXY, forwarded: str | None = None) -> Any:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


@pytest.fixture
def behind_one_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1


def test_without_a_trusted_header_a_sent_header_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = ""
    assert client_address(request_from("192.0.2.10", forwarded="203.0.113.9")) == "192.0.2.10"


def test_the_address_the_trusted_proxy_appended_is_used(behind_one_proxy: None) -> None:
    assert client_address(request_from(forwarded="203.0.113.9")) == "203.0.113.9"


def test_forged_leftmost_entries_are_ignored(behind_one_proxy: None) -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4, 5.6.7.8"; the proxy appended what it saw.
    assert client_address(request_from(forwarded="1.2.3.4, 5.6.7.8, 203.0.113.9")) == "203.0.113.9"


def test_with_two_trusted_proxies_the_second_entry_from_the_right_is_the_client(settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 2
    # A load balancer appended the client, then the proxy in front of the console appended the balancer.
    assert client_address(request_from(forwarded="1.2.3.4, 203.0.113.9, 10.0.0.5")) == "203.0.113.9"
    # Fewer entries than trusted proxies: the request skipped one; the header proves nothing.
    assert client_address(request_from(forwarded="203.0.113.9")) == PROXY


def test_another_configured_header_name_is_read(settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, headers={"X-Real-IP": "2001:db8:0:0::7"})
    assert client_address(request) == "2001:db8::7"


@pytest.mark.parametrize("forwarded", [None, "", " , ", "not-an-address", "203.0.113.9:443", "fe80::1%eth0", "203.0.113.9, junk"])
def test_a_missing_or_invalid_entry_falls_back_to_remote_addr(behind_one_proxy: None, forwarded: str | None) -> None:
    assert client_address(request_from(forwarded=forwarded)) == PROXY


def test_the_audit_trail_records_the_client_behind_the_proxy(behind_one_proxy: None, db: None) -> None:
    with audit_context(context_of(request_from(forwarded="6.6.6.6, 203.0.113.9"))):
        event = audit_record(actor=None, action="app.create", target_type="app", target="d1")
    event.refresh_from_db()
    assert event.ip_address == "203.0.113.9"


def test_without_the_setting_the_audit_trail_records_remote_addr(settings: Any, db: None) -> None:
    settings.TRUSTED_PROXY_HEADER = ""
    with audit_context(context_of(request_from("192.0.2.10", "203.0.113.9"))):
        event = audit_record(actor=None, action="app.create", target_type="app", target="d1")
    event.refresh_from_db()
    assert event.ip_address == "192.0.2.10"
