"""Requests the console sends out to addresses people typed in (notification webhooks, git
hosts' APIs): where they may go, and one exchange pinned to the addresses checked.

A URL is checked when it is saved and again just before each request, on the addresses the
request then connects to, so a name that later resolves to this host, the private network or
the metadata service (DNS rebinding) is refused at send time too. The HTTP client never
resolves the name again and follows no redirect."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services (AWS IMDS over IPv4 and IPv6; also link-local or private anyway).
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def address_refusal(address: IPAddress) -> str | None:
    """What kind of address `address` is when a request must not go to it ("a private address"),
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


def checked_addresses(url: str, *, allow_private: bool, refused: str, credentials: str) -> list[IPAddress]:
    """The addresses a request to `url` may connect to; ValidationError naming the reason when
    the URL is not http(s), carries a user name or password (`credentials` says what to do
    instead), or any of its host's addresses is not public while `allow_private` is off
    (`refused` ends that message: what may only go to public addresses)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise ValidationError(f"Put no user name or password in the URL: {credentials}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError("The URL's port is not a number from 1 to 65535.") from None
    addresses = resolve(parts.hostname, port)
    if not allow_private:
        for address in addresses:
            if kind := address_refusal(address):
                where = f"{address} is" if parts.hostname == str(address) else f"{parts.hostname} resolves to {address},"
                raise ValidationError(f"Refused: {where} {kind}. {refused}")
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, address, timeout)
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    location: str


def exchange(
    method: str,
    url: str,
    address: IPAddress,
    *,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    read_limit: int = 64 * 1024,
) -> Reply:
    """One request to `url`, connecting to `address` (checked beforehand); at most `read_limit`
    bytes of the answer are read. OSError or http.client.HTTPException when there is no answer."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = (_PinnedHTTPS if https else _PinnedHTTP)(parts.hostname or "", port, address, timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.read(read_limit), response.getheader("Location", ""))
    finally:
        connection.close()


def is_transient(status: int) -> bool:
    """Whether trying again later may help with an answer of this HTTP status."""
    return status >= 500 or status in (408, 429)
