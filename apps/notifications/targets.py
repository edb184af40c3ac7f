"""Where a webhook may be sent: http(s) URLs whose host resolves only to public addresses.

Checked when a subscription is saved and again just before each delivery, on the
addresses the delivery then connects to, so a name that later resolves to this host, the
private network or the metadata service (DNS rebinding) is refused at send time too."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services (AWS IMDS over IPv4 and IPv6; also link-local or private anyway).
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def address_refusal(address: IPAddress) -> str | None:
    """What kind of address `address` is when a delivery must not go to it ("a private address"),
    or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in _METADATA:
        return "a cloud metadata service address"
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "not a unicast address"
    if address.is_private or not address.is_global:
        return "a private address"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (ValidationError when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ValidationError(f"The host {host!r} does not resolve ({error}).") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def checked_addresses(url: str) -> list[IPAddress]:
    """The addresses a delivery to `url` may connect to; ValidationError naming the reason
    when the URL is not http(s) or any of its host's addresses is not public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise ValidationError("Put no user name or password in the URL: the console signs each delivery instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError("The URL's port is not a number from 1 to 65535.") from None
    addresses = resolve(parts.hostname, port)
    if not settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            if kind := address_refusal(address):
                where = f"{address} is" if parts.hostname == str(address) else f"{parts.hostname} resolves to {address},"
                raise ValidationError(f"Refused: {where} {kind}. Webhooks may only go to public addresses.")
    return addresses
