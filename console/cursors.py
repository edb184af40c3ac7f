"""Previous and Next through lists whose continuation tokens only go forward (S3,
Cognito): a page's position travels in its URL as a signed cursor holding the tokens
of the pages before it, bound to what is listed, so a link can be shared and a forged
token never reaches AWS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing

# Tokens kept for Previous: real ones are up to ~200 characters and a URL must stay
# under the 4 KB request line of common servers.
MAX_TRAIL = 10
DAMAGED = "That page link is damaged; showing the first page."


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: `trail` holds the tokens of this page and the ones before it
    (this page's last); `skipped` counts older pages no longer remembered."""

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


def sign_cursor(cursor: Cursor, scope: list[Any], *, salt: str) -> str:
    """The cursor for a URL ("" for the first page), bound to `scope`."""
    if not cursor.trail:
        return ""
    return signing.dumps({"s": scope, "t": list(cursor.trail), "k": cursor.skipped}, salt=salt, compress=True)


def unsign_cursor(value: str, scope: list[Any], *, salt: str, mismatch: str) -> Cursor:
    """The cursor a URL holds; BadCursor (`mismatch` when it was made for another scope)."""
    if not value:
        return Cursor()
    try:
        data = signing.loads(value, salt=salt)
    except signing.BadSignature:
        raise BadCursor(DAMAGED) from None
    if not isinstance(data, dict) or data.get("s") != scope:
        raise BadCursor(mismatch)
    trail, skipped = data.get("t"), data.get("k")
    if not isinstance(trail, list) or not all(isinstance(t, str) and t for t in trail) or not isinstance(skipped, int):
        raise BadCursor(DAMAGED)
    return Cursor(trail=tuple(trail), skipped=max(0, skipped))
