"""Previous and Next through Cognito lists, whose tokens only go forward.

A page's position travels in the URL as a signed cursor: the tokens of the pages
before it (the last few, for Previous), bound to what is listed (pool, group, search,
page size), so a link can be shared and a forged token never reaches Cognito.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing

PAGE_SIZES = (10, 20, 60)  # Cognito returns at most 60 a page
DEFAULT_PAGE_SIZE = 20
MAX_TRAIL = 10  # tokens kept for Previous, so a URL stays well under 4 KB
_SALT = "users.cursor"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """`trail` holds the tokens of this page and the ones before it (this page's last);
    `skipped` counts older pages no longer remembered."""

    trail: tuple[str, ...] = ()
    skipped: int = 0

    @property
    def page_number(self) -> int:
        return self.skipped + len(self.trail) + 1

    @property
    def token(self) -> str | None:
        return self.trail[-1] if self.trail else None

    def next(self, token: str) -> Cursor:
        trail = (*self.trail, token)
        drop = max(0, len(trail) - MAX_TRAIL)
        return Cursor(trail=trail[drop:], skipped=self.skipped + drop)

    def previous(self) -> Cursor | None:
        """None on the first page, or when the previous page is no longer remembered."""
        if not self.trail or (len(self.trail) == 1 and self.skipped):
            return None
        return Cursor(trail=self.trail[:-1], skipped=self.skipped)


def page_size(raw: str) -> int:
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else DEFAULT_PAGE_SIZE


def sign(cursor: Cursor, scope: list[Any]) -> str:
    if not cursor.trail:
        return ""
    return signing.dumps({"s": scope, "t": list(cursor.trail), "k": cursor.skipped}, salt=_SALT, compress=True)


def unsign(value: str, scope: list[Any]) -> Cursor:
    if not value:
        return Cursor()
    try:
        data = signing.loads(value, salt=_SALT)
    except signing.BadSignature:
        raise BadCursor("That page link is damaged; showing the first page.") from None
    if not isinstance(data, dict) or data.get("s") != scope:
        raise BadCursor("That page link belongs to another list, search or page size; showing the first page.")
    trail, skipped = data.get("t"), data.get("k")
    if not isinstance(trail, list) or not all(isinstance(t, str) and t for t in trail) or not isinstance(skipped, int):
        raise BadCursor("That page link is damaged; showing the first page.")
    return Cursor(trail=tuple(trail), skipped=max(0, skipped))
