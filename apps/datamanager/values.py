"""Values of each Amplify Data type: parsed from text (forms, CSV), checked, turned
into what DynamoDB stores, and back into text. Every refusal names the field.

Storage follows the AppSync resolvers: numbers as N, AWSJSON as the JSON text, custom
(non-model) types as maps, lists as lists, enums and the other scalars as strings.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from apps.datamanager.schema import DataSchema, Field

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_ID_LENGTH = 1024
MAX_NESTING = 10
_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}
_OFFSET = r"(?:Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
_DATE = re.compile(rf"^(\d{{4}})-(\d{{2}})-(\d{{2}}){_OFFSET}?$")
_TIME = re.compile(rf"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{{1,9}})?)?{_OFFSET}?$")
_DATETIME = re.compile(rf"^(\d{{4}}-\d{{2}}-\d{{2}})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{{1,9}})?)?{_OFFSET}$")
_PHONE = re.compile(r"^\+?[0-9(][0-9 ().-]*[0-9]$")
_WHOLE = re.compile(r"^[+-]?[0-9]+$")  # ASCII digits only: int() would take "1_000" and "٣"
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
# AWSURL takes any scheme (mailto:, s3://); web URLs get Django's full check.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_email = EmailValidator()
_web_url = URLValidator(schemes=["http", "https", "ftp", "ftps"])
# What a DynamoDB number holds: 38 significant digits, magnitude 1e-130 to 1e125.
_NUMBER_DIGITS, _NUMBER_MIN_EXP, _NUMBER_MAX_EXP = 38, -130, 125


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _storable(number: Decimal, where: str) -> Decimal:
    """A number DynamoDB can hold, or a FieldError (its serializer would crash on it)."""
    if number.is_zero():
        return Decimal(0)
    # Counted on the digits as written: normalize() would round to the context's 28.
    digits = len("".join(map(str, number.as_tuple().digits)).strip("0"))
    magnitude = number.adjusted()
    if digits > _NUMBER_DIGITS:
        raise FieldError(where, f"has more than {_NUMBER_DIGITS} significant digits, more than DynamoDB stores")
    if not _NUMBER_MIN_EXP <= magnitude < _NUMBER_MAX_EXP:
        raise FieldError(where, "is too large or too small for DynamoDB (1e-130 to 1e125)")
    return number


def _whole(type_name: str, value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise FieldError(where, f"{value!r} is not a whole number")
    if not isinstance(value, int) and not _WHOLE.match(str(value).strip()):
        raise FieldError(where, f"{str(value)[:40]!r} is not a whole number")
    number = value if isinstance(value, int) else int(str(value).strip())
    if type_name == "Int" and not INT_MIN <= number <= INT_MAX:
        raise FieldError(where, f"{number} is outside the 32-bit range ({INT_MIN} to {INT_MAX})")
    if type_name == "AWSTimestamp" and len(str(abs(number))) > _NUMBER_DIGITS:
        raise FieldError(where, f"a timestamp has at most {_NUMBER_DIGITS} digits")
    return number


def _float(type_name: str, value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise FieldError(where, f"{value!r} is not a number")
    text = str(value).strip() if not isinstance(value, float) else repr(value)
    if not isinstance(value, (int, float)) and not _DECIMAL.match(text):
        raise FieldError(where, f"{str(value)[:40]!r} is not a number")
    try:
        decimal = Decimal(text)
    except InvalidOperation:
        raise FieldError(where, f"{str(value)[:40]!r} is not a number") from None
    if not decimal.is_finite() or not math.isfinite(float(decimal)):
        raise FieldError(where, "must be a finite number")
    return _storable(decimal, where)


def _boolean(type_name: str, value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(where, f"{str(value)[:40]!r} is not true or false")


# The checks of text scalars: each raises FieldError for text that is not of its type.
def _id(text: str, where: str) -> None:
    if not text.strip():
        raise FieldError(where, "an ID cannot be blank")
    if len(text) > MAX_ID_LENGTH:
        raise FieldError(where, f"an ID is at most {MAX_ID_LENGTH} characters")


def _date(text: str, where: str) -> None:
    match = _DATE.match(text)
    if not match or not _valid_date(*match.groups()):
        raise FieldError(where, f"{text[:40]!r} is not a date like 2026-11-26")


def _time(text: str, where: str) -> None:
    if not _TIME.match(text):
        raise FieldError(where, f"{text[:40]!r} is not a time like 14:30 or 14:30:00Z")


def _datetime(text: str, where: str) -> None:
    match = _DATETIME.match(text)
    if not match or not _valid_date(*match.group(1).split("-")):
        raise FieldError(where, f"{text[:40]!r} is not a date and time with a zone, like 2026-11-26T14:30:00Z")


def _email_address(text: str, where: str) -> None:
    try:
        _email(text)
    except ValidationError:
        raise FieldError(where, f"{text[:60]!r} is not an email address") from None


def _url(text: str, where: str) -> None:
    bad_url = FieldError(where, f"{text[:60]!r} is not a URL like https://example.com/path")
    if not _SCHEME.match(text):
        raise bad_url
    if text.split(":", 1)[0].lower() in _web_url.schemes:
        try:
            _web_url(text)
        except ValidationError:
            raise bad_url from None


def _phone(text: str, where: str) -> None:
    digits = sum(c.isdigit() for c in text)
    if not _PHONE.match(text) or not 4 <= digits <= 15:
        raise FieldError(where, f"{text[:40]!r} is not a phone number like +14155550123")


def _ip_address(text: str, where: str) -> None:
    try:
        ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text)
    except ValueError:
        raise FieldError(where, f"{text[:60]!r} is not an IPv4 or IPv6 address") from None


def _json_text(text: str, where: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise FieldError(where, f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None


# Scalars stored in another form than text, by type name.
_CONVERTED: dict[str, Callable[[str, Any, str], Any]] = {
    "Int": _whole,
    "AWSTimestamp": _whole,
    "Float": _float,
    "Boolean": _boolean,
}
# Text scalars, by type name; String (and any other) is text as it is.
_TEXT_CHECKS: dict[str, Callable[[str, str], None]] = {
    "ID": _id,
    "AWSDate": _date,
    "AWSTime": _time,
    "AWSDateTime": _datetime,
    "AWSEmail": _email_address,
    "AWSURL": _url,
    "AWSPhone": _phone,
    "AWSIPAddress": _ip_address,
    "AWSJSON": _json_text,
}


def _scalar(type_name: str, value: Any, where: str) -> Any:
    """One scalar value (already JSON-decoded or text) in its stored form."""
    if type_name in _CONVERTED:
        return _CONVERTED[type_name](type_name, value, where)
    if not isinstance(value, str):
        raise FieldError(where, f"must be text, not {json.dumps(value)[:40]}")
    if type_name in _TEXT_CHECKS:
        _TEXT_CHECKS[type_name](value, where)
    return value


def check_value(field: Field, value: Any, schema: DataSchema, *, where: str = "", depth: int = 0) -> Any:
    """A JSON-like value for `field` in its stored form; None for an absent optional value."""
    where = where or field.name
    if depth > MAX_NESTING:
        raise FieldError(where, "is nested too deeply")
    # A blank form field or CSV cell means no value; inside a JSON list or object an
    # empty string is written on purpose and kept.
    if value is None or (value == "" and depth == 0):
        # For a list, is_required speaks of its items (`[T!]`); the list itself is
        # required only when written `[T]!`.
        if field.value_required:
            raise FieldError(where, "is required")
        return None
    if field.is_array:
        if not isinstance(value, list):
            raise FieldError(where, 'must be a list (a JSON array such as ["a", "b"])')
        # Items of `[T!]` may not be null; items of `[T]` may.
        item = Field(name=field.name, type=field.type, kind=field.kind, is_required=field.is_required)
        checked = [check_value(item, v, schema, where=f"{where}[{i}]", depth=depth + 1) for i, v in enumerate(value)]
        return checked
    if field.kind == "enum":
        allowed = schema.enums[field.type].values if field.type in schema.enums else ()
        if value not in allowed:
            raise FieldError(where, f"{str(value)[:40]!r} is not one of {', '.join(allowed)}")
        return value
    if field.kind == "nonModel":
        return _check_object(field, value, schema, where, depth)
    if field.kind == "model":
        raise FieldError(where, "is a relationship; set the key fields instead")
    if field.type == "AWSJSON" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _scalar(field.type, value, where)


def _check_object(field: Field, value: Any, schema: DataSchema, where: str, depth: int) -> dict[str, Any]:
    custom = schema.non_models.get(field.type)
    if not isinstance(value, dict):
        raise FieldError(where, f"must be a JSON object with the fields of {field.type}")
    if custom is None:
        return value
    known = {f.name for f in custom.fields}
    unknown = sorted(set(value) - known)
    if unknown:
        raise FieldError(where, f"{field.type} has no field {unknown[0]!r} (it has {', '.join(sorted(known))})")
    result = {}
    for inner in custom.fields:
        checked = check_value(inner, value.get(inner.name), schema, where=f"{where}.{inner.name}", depth=depth + 1)
        if checked is not None:
            result[inner.name] = checked
    return result


def parse_text(field: Field, text: str | None, schema: DataSchema) -> Any:
    """A value typed in a form or read from a CSV cell: lists and custom types are
    JSON; everything else is the text itself. Blank means no value."""
    if text is None or text.strip() == "":
        return check_value(field, None, schema)
    if field.is_array or field.kind == "nonModel":
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError as error:
            raise FieldError(field.name, f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
        return check_value(field, decoded, schema)
    return check_value(field, text if field.type not in ("ID",) else text.strip(), schema)


def _plain(value: Any) -> Any:
    """Stored values as JSON-friendly ones (Decimals as int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def to_text(field: Field, value: Any) -> str:
    """A stored value as the text a form shows and a CSV cell holds (parse_text's inverse)."""
    if value is None:
        return ""
    if field.is_array or field.kind == "nonModel" or isinstance(value, (list, dict, set)):
        return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(_plain(value)) if field.type != "Float" else format(value, "f").rstrip("0").rstrip(".") or "0"
    return str(value)
