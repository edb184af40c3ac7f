"""Where webhooks may go: public addresses only, unless a test allows loopback on purpose."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.notifications import targets


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "not a unicast"),  # noqa: S104 - the address under test
        ("100.64.0.1", "private"),
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address: str, reason: str) -> None:
    refusal = targets.address_refusal(ipaddress.ip_address(address))
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert targets.address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http:///nohost", "http:// or https://"),
        ("https://user:pw@example.com/", "no user name or password"),
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://10.0.0.5/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::1]/hook", "loopback"),
        ("http://example.com:99999/", "port"),
    ],
)
def test_bad_urls_are_refused_saying_why(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        targets.checked_addresses(url)
    assert message in " ".join(refused.value.messages)


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(  # console.outbound resolves for every outgoing request
        "console.outbound.resolve", lambda host, port: [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.8")]
    )
    with pytest.raises(ValidationError, match=r"Refused: hooks\.example\.com resolves to 10\.0\.0\.8, a private address"):
        targets.checked_addresses("https://hooks.example.com/x")


def test_loopback_is_allowed_only_when_the_setting_says_so(settings: Any) -> None:
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True
    assert targets.checked_addresses("http://127.0.0.1:9/hook") == [ipaddress.ip_address("127.0.0.1")]
