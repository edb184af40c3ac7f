"""The address of the client behind a request, for the audit trail and sign-in limits.

Behind a reverse proxy REMOTE_ADDR is the proxy's address. The client's is in a header
the proxy sets (TRUSTED_PROXY_HEADER, e.g. X-Forwarded-For), but only the entries the
trusted proxies appended can be believed: a client may send the header itself with any
addresses in it, and each proxy appends to what it received. So with N trusted proxies
the client is the N-th entry from the right, and everything to its left is ignored.
Without the setting the header is ignored altogether, since then nothing strips a
forged one.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _ip(text: str) -> str | None:
    """`text` as a normalised IP address, or None when it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return None  # "fe80::1%eth0" names an interface of the proxy, not a client
    return str(address)


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: from the trusted proxy's header when one is configured
    and holds a valid address at the trusted position, else REMOTE_ADDR."""
    header = settings.TRUSTED_PROXY_HEADER
    forwarded = request.META.get(_meta_key(header), "") if header else ""
    return address_of(request.META.get("REMOTE_ADDR") or "", forwarded)


def address_of(remote: str, forwarded: str) -> str | None:
    """client_address from the peer's address and the trusted proxy header's value (all its
    lines joined by commas, in the order they were sent): for servers that are not Django (the edge)."""
    peer = _ip(remote)
    if not settings.TRUSTED_PROXY_HEADER:
        return peer
    entries = [entry for entry in forwarded.split(",") if entry.strip()]
    count = settings.TRUSTED_PROXY_COUNT
    if len(entries) < count:
        return peer  # the request did not come through every trusted proxy
    return _ip(entries[-count]) or peer
