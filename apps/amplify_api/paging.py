"""nextToken and maxResults for the API's List operations.

A token names the last item of the page it ends (its ordering key), signed so a caller
cannot forge or reuse one across operations: keyset paging, so items added or removed
between pages neither repeat nor go missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Model, QuerySet

from apps.amplify_api.protocol import bad_request

SIGNING_NAMESPACE = "amplify-api.next-token"


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_token: str | None


def page_of(rows: QuerySet[Any], params: dict[str, Any], *, order: str, operation: str, default_size: int) -> Page:
    """The page of `rows` in `order` (one unique field, e.g. "pk" or "-job_id") that params ask for."""
    size = params.get("maxResults") or default_size
    if size < 1:
        raise bad_request(f"maxResults must be at least 1, not {size}.")
    rows = rows.order_by(order)
    field = order.lstrip("-")
    token = params.get("nextToken")
    if token:
        try:
            after = signing.loads(token, salt=f"{SIGNING_NAMESPACE}:{operation}")
        except signing.BadSignature:
            raise bad_request("nextToken is not one this operation gave out.") from None
        rows = rows.filter(**{f"{field}__{'lt' if order.startswith('-') else 'gt'}": after})
    items = list(rows[: size + 1])
    if len(items) <= size:
        return Page(items, None)
    last: Model = items[size - 1]
    value = last.pk if field == "pk" else getattr(last, field)
    return Page(items[:size], signing.dumps(value, salt=f"{SIGNING_NAMESPACE}:{operation}"))
