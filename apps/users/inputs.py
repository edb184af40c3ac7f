"""Checks of what people type, made before any Cognito call: sign-in names, phone
numbers, group names, attributes, and search terms turned into a ListUsers filter.

Cognito's own patterns use Unicode classes (`[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+`), which
Python's `re` lacks, so those are checked through `unicodedata` categories.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PHONE_PREFIX = re.compile(r"^\+?\d{0,15}$")
MAX_USERNAME = 128
MAX_EMAIL = 254  # the longest address SMTP can carry
MAX_GROUP_NAME = 128
MAX_DESCRIPTION = 2048
MAX_PRECEDENCE = 2**31 - 1
MAX_ATTRIBUTE_VALUE = 2048
MAX_FILTER = 256  # ListUsers takes a Filter of at most 256 characters
CUSTOM_ATTRIBUTE = re.compile(r"^custom:[\w.-]{1,20}$")
# The standard attributes (OpenID Connect claims) a user pool may hold.
STANDARD_ATTRIBUTES = (
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "address",
    "birthdate",
    "gender",
    "locale",
    "picture",
    "profile",
    "website",
    "zoneinfo",
    "updated_at",
    "email_verified",
    "phone_number_verified",
)
# The fields a search may look in (ListUsers filter attribute names), in the words the page uses.
SEARCH_FIELDS = {"email": "Email", "phone_number": "Phone number", "username": "Username"}


class InputInvalid(ValueError):
    """What was typed cannot be used; the message says why, for a person. `field` names
    the form field it belongs to ("" for the whole form)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def has_control(text: str) -> bool:
    """Control characters, line or paragraph separators: never part of a name or a search."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def _cognito_name_chars(text: str) -> bool:
    # Letters, marks, symbols, numbers, punctuation: no spaces, no control characters.
    return all(unicodedata.category(c)[0] in "LMSNP" for c in text)


def phone_problem(phone: str) -> str:
    if E164.match(phone):
        return ""
    return "Write the phone number in E.164 form: + and the country code, then the number, digits only (e.g. +14155550123)."


def email_problem(email: str) -> str:
    if len(email) > MAX_EMAIL or has_control(email):
        return "That is not an email address."
    try:
        validate_email(email)
    except ValidationError:
        return "That is not an email address (name@example.com)."
    return ""


def username_problem(username: str) -> str:
    if not username:
        return "Enter a username."
    if len(username) > MAX_USERNAME:
        return f"A username has at most {MAX_USERNAME} characters."
    if not _cognito_name_chars(username):
        return "A username has letters, digits, symbols and punctuation only: no spaces or control characters."
    return ""


def group_name_problem(name: str) -> str:
    if not name:
        return "Enter a group name."
    if len(name) > MAX_GROUP_NAME:
        return f"A group name has at most {MAX_GROUP_NAME} characters."
    if not _cognito_name_chars(name):
        return "A group name has letters, digits, symbols and punctuation only: no spaces or control characters."
    return ""


def description_problem(text: str) -> str:
    if len(text) > MAX_DESCRIPTION:
        return f"A description has at most {MAX_DESCRIPTION} characters."
    if has_control(text.replace("\r\n", "\n").replace("\n", " ")):  # line breaks are fine, other controls not
        return "A description may not hold control characters."
    return ""


def precedence_value(text: str) -> int | None:
    """A group's precedence (0 or more, lower wins) or None when left empty."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_PRECEDENCE:
        raise InputInvalid(f"Precedence is a whole number from 0 to {MAX_PRECEDENCE}; lower numbers win.", "precedence")
    return int(text)


def attribute_name_problem(name: str) -> str:
    if name in STANDARD_ATTRIBUTES or CUSTOM_ATTRIBUTE.match(name):
        return ""
    return "Use a standard attribute (such as name or given_name) or custom:name with up to 20 letters, digits, _ . or -."


def attribute_value_problem(name: str, value: str) -> str:
    if len(value) > MAX_ATTRIBUTE_VALUE:
        return f"An attribute value has at most {MAX_ATTRIBUTE_VALUE} characters."
    if has_control(value):
        return "An attribute value may not hold control characters or line breaks."
    if name == "email" and value:
        return email_problem(value)
    if name == "phone_number" and value:
        return phone_problem(value)
    return ""


# Searching


@dataclass(frozen=True)
class Search:
    """Users whose `field` starts with `text`."""

    field: str  # a key of SEARCH_FIELDS
    text: str

    @property
    def label(self) -> str:
        return SEARCH_FIELDS[self.field].lower()

    def filter(self) -> str:
        """The ListUsers Filter: the text quoted so it stays one string value, whatever it holds."""
        return f'{self.field} ^= "{quoted(self.text)}"'

    def matches(self, username: str, attributes: dict[str, str]) -> bool:
        """Whether a user ListUsers returned really starts with the text; a filter Cognito
        read differently (or an emulator's looser parsing) can then never widen a search."""
        value = username if self.field == "username" else attributes.get(self.field, "")
        return value.casefold().startswith(self.text.casefold())


def quoted(text: str) -> str:
    """`text` for inside a filter's double quotes: backslashes and quotes escaped."""
    if has_control(text):
        raise InputInvalid("A search may not hold control characters or line breaks.", "q")
    return text.replace("\\", "\\\\").replace('"', '\\"')


def search_from(field: str, text: str) -> Search | None:
    """The search a form asked for, None for "everyone"; InputInvalid when it cannot be made."""
    text = text.strip()
    if not text:
        return None
    if field not in SEARCH_FIELDS:
        raise InputInvalid("Choose email, phone number or username to search in.", "field")
    if field == "phone_number" and not PHONE_PREFIX.match(text):
        raise InputInvalid("Search phone numbers by their start in E.164 form: + and digits only (e.g. +1415).", "q")
    search = Search(field=field, text=text)
    if len(search.filter()) > MAX_FILTER:
        raise InputInvalid("That search is too long for Cognito; shorten it.", "q")
    return search
