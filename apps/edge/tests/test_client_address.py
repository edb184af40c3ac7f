"""console.client_address.address_of: who the visitor is, from the peer's address and (only when
TRUSTED_PROXY_HEADER is set) the entry the last trusted proxy appended to that header."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from console.client_address import address_of, client_address


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "6.6.6.6", "127.0.0.1"),  # no trusted proxy: the header is anyone's
        ("::1", "", "::1"),
        ("2001:DB8::0001", "", "2001:db8::1"),  # normalised
        ("fe80::1%eth0", "", None),  # an interface of this machine, not a client
        ("not an address", "", None),
        ("", "", None),
    ],
)
def test_without_a_trusted_proxy_the_peer_is_the_client(remote: str, forwarded: str, expected: str | None, settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = ""
    assert address_of(remote, forwarded) == expected


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the visitor's own entries come first: ignored
        (1, "6.6.6.6,203.0.113.7, ", "203.0.113.7"),  # empty entries (a trailing comma) do not count
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),  # two proxies: the second entry from the right
        (2, "203.0.113.7", "10.0.0.9"),  # fewer entries than proxies: it did not come through them all
        (1, "", "10.0.0.9"),
        (1, "unknown", "10.0.0.9"),  # not an address at the trusted place: the peer
        (1, " 2001:DB8::7 ", "2001:db8::7"),
    ],
)
def test_with_a_trusted_proxy_its_entry_is_the_client(count: int, forwarded: str, expected: str, settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = count
    assert address_of("10.0.0.9", forwarded) == expected


@pytest.mark.parametrize("header", ["", "X-Forwarded-For", "X-Real-IP"])
def test_django_requests_read_the_same_way(header: str, settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = header
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", HTTP_X_REAL_IP="198.51.100.4"
    )
    expected = {"": "10.0.0.9", "X-Forwarded-For": "203.0.113.7", "X-Real-IP": "198.51.100.4"}[header]
    assert client_address(request) == expected
    assert address_of("10.0.0.9", request.META.get("HTTP_" + header.upper().replace("-", "_"), "") if header else "") == expected
