"""Where a webhook may be sent: http(s) URLs whose host resolves only to public addresses
(unless NOTIFICATIONS_ALLOW_PRIVATE_TARGETS), checked when a subscription is saved and again
just before each delivery (console.outbound)."""

from __future__ import annotations

from django.conf import settings

from console.outbound import IPAddress as IPAddress
from console.outbound import address_refusal as address_refusal
from console.outbound import checked_addresses as _checked_addresses
from console.outbound import resolve as resolve


def checked_addresses(url: str) -> list[IPAddress]:
    """The addresses a delivery to `url` may connect to; ValidationError naming the reason
    when the URL is not http(s) or any of its host's addresses is not public."""
    return _checked_addresses(
        url,
        allow_private=settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS,
        refused="Webhooks may only go to public addresses.",
        credentials="the console signs each delivery instead.",
    )
