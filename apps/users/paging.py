"""Previous and Next through Cognito lists, whose tokens only go forward.

A page's position travels in the URL as a signed cursor: the tokens of the pages
before it (the last few, for Previous), bound to what is listed (pool, group, search,
page size), so a link can be shared and a forged token never reaches Cognito.
"""

from __future__ import annotations

from typing import Any

from console.cursors import BadCursor, Cursor, sign_cursor, unsign_cursor

PAGE_SIZES = (10, 20, 60)  # Cognito returns at most 60 a page
DEFAULT_PAGE_SIZE = 20
_SALT = "users.cursor"
__all__ = ["PAGE_SIZES", "BadCursor", "Cursor", "page_size", "sign", "unsign"]


def page_size(raw: str) -> int:
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else DEFAULT_PAGE_SIZE


def sign(cursor: Cursor, scope: list[Any]) -> str:
    return sign_cursor(cursor, scope, salt=_SALT)


def unsign(value: str, scope: list[Any]) -> Cursor:
    mismatch = "That page link belongs to another list, search or page size; showing the first page."
    return unsign_cursor(value, scope, salt=_SALT, mismatch=mismatch)
