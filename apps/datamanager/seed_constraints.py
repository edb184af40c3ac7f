"""The constraints an operator may put on a seeded field, and their check: each field's
FieldConstraint becomes a Plan the seeder draws from, or a ConstraintInvalid saying why not."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from apps.datamanager.schema import DataSchema, Field
from apps.datamanager.seed_names import FLOAT_RANGES, INT_RANGES, by_name
from apps.datamanager.values import INT_MAX, INT_MIN, MAX_ID_LENGTH

MAX_TEXT_LENGTH = 10_000
MAX_LIST_LENGTH = 100
MAX_CUSTOM_DEPTH = 3  # optional custom types nested deeper than this are left empty
DYNAMODB_NUMBER = 1e125  # the largest size of number DynamoDB stores (and 1e-130 the smallest)
KEY_TRIES = 100
PARENT_TRIES = 8
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_FROM, DEFAULT_TO = datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)
DEFAULT_SPAN = timedelta(days=5 * 365)  # the other end of a date range given by one end only
DAY = 86_400
DATE_TYPES = ("AWSDate", "AWSDateTime", "AWSTimestamp", "AWSTime")


class SeedError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConstraintInvalid(SeedError):
    """A constraint that cannot apply to its field, or a schema field no value fits."""


class ParentKeysInvalid(SeedError):
    """Parent keys that do not fit the relationship they were given for."""


class KeysExhausted(SeedError):
    """No key left that the generated rows have not used already."""


@dataclass(frozen=True)
class FieldConstraint:
    min_length: int | None = None  # String, ID
    max_length: int | None = None
    minimum: int | float | Decimal | None = None  # Int, Float, AWSTimestamp
    maximum: int | float | Decimal | None = None
    date_from: date | time | str | None = None  # AWSDate, AWSDateTime, AWSTimestamp; times of day for AWSTime
    date_to: date | time | str | None = None  # inclusive: a date means until the end of that day
    true_ratio: float | None = None  # Boolean
    enum_values: tuple[str, ...] | list[str] | None = None  # a subset of the enum's values
    null_ratio: float = 0.0  # optional fields only
    list_min: int | None = None  # lists
    list_max: int | None = None


@dataclass(frozen=True)
class Plan:
    """A field's constraints, checked and resolved into what the generators draw from."""

    length: tuple[int, int] | None = None
    int_range: tuple[int, int] = (0, 1000)  # Int; AWSTimestamp in seconds
    float_range: tuple[float, float] = (0.0, 1000.0)
    moments: tuple[int, int] = (0, 0)  # epoch seconds for dates; seconds since midnight for AWSTime
    true_ratio: float = 0.5
    enum_values: tuple[str, ...] = ()
    null_ratio: float = 0.0
    list_range: tuple[int, int] = (0, 3)


class Checker:
    """Turns one field's FieldConstraint into a Plan, refusing what cannot apply."""

    def __init__(self, field: Field, constraint: FieldConstraint, schema: DataSchema) -> None:
        self.field, self.c, self.schema = field, constraint, schema

    def refuse(self, message: str) -> ConstraintInvalid:
        return ConstraintInvalid(self.field.name, message)

    def plan(self) -> Plan:
        f, c = self.field, self.c
        kind = f.type if f.kind == "scalar" else f.kind
        applies = (
            ((c.min_length, c.max_length), ("String", "ID"), "length bounds apply to String and ID fields"),
            ((c.minimum, c.maximum), ("Int", "Float", "AWSTimestamp"), "minimum and maximum apply to numbers and timestamps"),
            ((c.date_from, c.date_to), DATE_TYPES, "a date range applies to dates, times and timestamps"),
            ((c.true_ratio,), ("Boolean",), "a true ratio applies to Boolean fields"),
            ((c.enum_values,), ("enum",), "enum values apply to enum fields"),
        )
        for given, kinds, message in applies:
            if any(v is not None for v in given) and kind not in kinds:
                raise self.refuse(f"{message}, not {f.type}")
        if (c.list_min, c.list_max) != (None, None) and not f.is_array:
            raise self.refuse("list lengths apply to list fields only")
        null_ratio = self.ratio("null_ratio", c.null_ratio)
        if null_ratio and f.value_required:
            raise self.refuse("is required, so it cannot be left empty")
        if f.type == "AWSTimestamp" and (c.minimum, c.maximum) != (None, None) and (c.date_from, c.date_to) != (None, None):
            raise self.refuse("give a timestamp either minimum and maximum or a date range, not both")
        return Plan(
            length=self.length() if kind in ("String", "ID") else None,
            int_range=self.int_range(),
            float_range=self.float_range(),
            moments=self.moments() if kind in DATE_TYPES else (0, 0),
            true_ratio=0.5 if c.true_ratio is None else self.ratio("true_ratio", c.true_ratio),
            enum_values=self.enum_values() if f.kind == "enum" else (),
            null_ratio=null_ratio,
            list_range=self.list_range(),
        )

    def ratio(self, label: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not 0 <= float(value) <= 1:
            raise self.refuse(f"{label} must be between 0 and 1, not {value!r}")
        return float(value)

    def count(self, label: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.refuse(f"{label} must be a whole number of at least 0, not {value!r}")
        return value

    def ordered[N: (int, float)](self, low: N, high: N, what: str) -> tuple[N, N]:
        if low > high:
            raise self.refuse(f"the {what} minimum {low} is greater than its maximum {high}")
        return low, high

    def length(self) -> tuple[int, int]:
        cap = MAX_ID_LENGTH if self.field.type == "ID" else MAX_TEXT_LENGTH
        low = 1 if self.c.min_length is None else max(1, self.count("min_length", self.c.min_length))
        high = cap if self.c.max_length is None else self.count("max_length", self.c.max_length)
        if high < 1 or high > cap:
            raise self.refuse(f"max_length must be between 1 and {cap}, not {high}")
        return self.ordered(low, high, "length")

    def list_range(self) -> tuple[int, int]:
        c, default_low = self.c, (1 if self.field.value_required else 0)
        low = default_low if c.list_min is None else self.count("list_min", c.list_min)
        high = max(low, 3) if c.list_max is None else self.count("list_max", c.list_max)
        if c.list_min is None:
            low = min(low, high)
        if high > MAX_LIST_LENGTH:
            raise self.refuse(f"a list here holds at most {MAX_LIST_LENGTH} items, not {high}")
        return self.ordered(low, high, "list length")

    def number(self, label: str, value: object, whole: bool) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise self.refuse(f"{label} must be a number, not {value!r}")
        exact = Decimal(str(value))
        if not exact.is_finite() or not math.isfinite(float(exact)):
            raise self.refuse(f"{label} must be a finite number")
        if not whole and exact and not Decimal("1e-130") <= abs(exact) <= Decimal(DYNAMODB_NUMBER):
            raise self.refuse(f"{label} {value} is outside the sizes DynamoDB stores (1e-130 to 1e125)")
        if whole and exact != exact.to_integral_value():
            raise self.refuse(f"{label} must be a whole number for {self.field.type}, not {value}")
        return int(exact) if whole else float(exact)

    def bounded(self, default: tuple[float, float], limits: tuple[float, float], whole: bool) -> tuple[float, float]:
        """The given bounds; a missing one from the default range, moved past the given one if needed."""
        c, (low_limit, high_limit) = self.c, limits
        given = [
            None if v is None else self.number(label, v, whole) for label, v in (("minimum", c.minimum), ("maximum", c.maximum))
        ]
        for label, value in zip(("minimum", "maximum"), given, strict=True):
            if value is not None and not low_limit <= value <= high_limit:
                raise self.refuse(f"{label} {value} is outside what {self.field.type} holds ({low_limit} to {high_limit})")
        low, high = given
        span = default[1] - default[0]
        if low is None:
            low = max(low_limit, default[0] if high is None or default[0] <= high else high - span)
        if high is None:
            high = min(high_limit, default[1] if default[1] >= low else low + span)
        return self.ordered(low, high, "value")

    def int_range(self) -> tuple[int, int]:
        f = self.field
        if f.type == "AWSTimestamp":
            if (self.c.minimum, self.c.maximum) == (None, None):
                return self.moments()
            low, high = self.bounded((DEFAULT_FROM.timestamp(), DEFAULT_TO.timestamp()), (0, 253_402_300_799), whole=True)
        elif f.type == "Int":
            low, high = self.bounded(by_name(f.name, INT_RANGES, (0, 1000)), (INT_MIN, INT_MAX), whole=True)
        else:
            return (0, 1000)
        return int(low), int(high)

    def float_range(self) -> tuple[float, float]:
        if self.field.type != "Float":
            return (0.0, 1000.0)
        low, high, _ = by_name(self.field.name, FLOAT_RANGES, (0.0, 1000.0, 2))
        return self.bounded((low, high), (-DYNAMODB_NUMBER, DYNAMODB_NUMBER), whole=False)

    def moments(self) -> tuple[int, int]:
        c = self.c
        if self.field.type == "AWSTime":
            low = 0 if c.date_from is None else self.time_of_day("date_from", c.date_from)
            high = DAY - 1 if c.date_to is None else self.time_of_day("date_to", c.date_to)
            return self.ordered(low, high, "time")
        start = None if c.date_from is None else self.moment("date_from", c.date_from, end=False)
        end = None if c.date_to is None else self.moment("date_to", c.date_to, end=True)
        if start is not None and end is not None and start > end:
            raise self.refuse(f"date_from {start.isoformat()} is after date_to {end.isoformat()}")
        start = start or (DEFAULT_FROM if end is None else shift(end, -DEFAULT_SPAN))
        end = end or (DEFAULT_TO if c.date_from is None else shift(start, DEFAULT_SPAN))
        low, high = seconds(start), seconds(end)
        if self.field.type == "AWSTimestamp":
            if (c.date_from is not None and low < 0) or high < 0:
                raise self.refuse("a timestamp cannot be before 1970 (values.check_value refuses negative ones)")
            low = max(low, 0)
        return low, high

    def moment(self, label: str, value: object, *, end: bool) -> datetime:
        if isinstance(value, str):
            text = value.strip()
            try:
                value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
            except ValueError:
                raise self.refuse(f"{label} {text[:40]!r} is not a date like 2026-11-26 or 2026-11-26T14:30:00Z") from None
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime.combine(value, time(23, 59, 59) if end else time.min, UTC)
        raise self.refuse(f"{label} must be a date or a date and time, not {value!r}")

    def time_of_day(self, label: str, value: object) -> int:
        if isinstance(value, str):
            text = value.strip()
            try:
                value = time.fromisoformat(text)
            except ValueError:
                raise self.refuse(f"{label} {text[:40]!r} is not a time of day like 09:00 or 17:30:00") from None
        if not isinstance(value, time):
            raise self.refuse(f"{label} must be a time of day like 09:00 for an AWSTime field, not {value!r}")
        return value.hour * 3600 + value.minute * 60 + value.second

    def enum_values(self) -> tuple[str, ...]:
        enum = self.schema.enums.get(self.field.type)
        allowed = enum.values if enum else ()
        if not allowed and self.field.value_required and not self.field.is_array:
            raise self.refuse(f"enum {self.field.type} has no values to choose from")
        if self.c.enum_values is None:
            return allowed
        if isinstance(self.c.enum_values, str) or not self.c.enum_values:
            raise self.refuse(f"enum_values must be a non-empty list of values of {self.field.type}")
        for value in self.c.enum_values:
            if value not in allowed:
                raise self.refuse(f"{value!r} is not a value of {self.field.type} ({', '.join(allowed) or 'it has none'})")
        return tuple(dict.fromkeys(self.c.enum_values))


def shift(moment: datetime, by: timedelta) -> datetime:
    try:
        return moment + by
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if by > timedelta(0) else datetime.min.replace(tzinfo=UTC)


def seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())
