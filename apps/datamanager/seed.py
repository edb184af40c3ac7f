"""Rows of realistic fake data for the Seed action: one value per editable stored field,
chosen by type and field name (Faker), kept within per-field constraints, with belongsTo
keys (and those a Gen 1 hasOne keeps on this side) taken from existing parent records.
Custom primary and sort keys are unique across a Seeder's rows. Every value passes
values.check_value.

Rows are JSON-like (floats, not Decimals): what a form or an import would submit.
"""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from itertools import pairwise
from typing import Any

from faker import Faker

from apps.datamanager import seed_text
from apps.datamanager.schema import DataSchema, Field, Model
from apps.datamanager.values import INT_MAX, INT_MIN, MAX_ID_LENGTH, MAX_NESTING, FieldError, check_value

MAX_TEXT_LENGTH = 10_000
MAX_LIST_LENGTH = 100
MAX_CUSTOM_DEPTH = 3  # optional custom types nested deeper than this are left empty
DYNAMODB_NUMBER = 1e125  # the largest size of number DynamoDB stores (and 1e-130 the smallest)
KEY_TRIES = 100
PARENT_TRIES = 8
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_FROM, DEFAULT_TO = datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)
DEFAULT_SPAN = timedelta(days=5 * 365)  # the other end of a date range given by one end only
_DAY = 86_400
_DATE_TYPES = ("AWSDate", "AWSDateTime", "AWSTimestamp", "AWSTime")
_STATUSES = ("active", "pending", "inactive", "archived", "draft")
_PERSON_WORDS = frozenset(
    (
        "user",
        "person",
        "people",
        "customer",
        "author",
        "employee",
        "member",
        "contact",
        "owner",
        "student",
        "teacher",
        "profile",
        "account",
        "client",
        "patient",
        "player",
        "driver",
        "friend",
        "guest",
        "staff",
        "admin",
        "manager",
        "artist",
    )
)


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
class _Plan:
    """A field's constraints, checked and resolved into what the generators draw from."""

    length: tuple[int, int] | None = None
    int_range: tuple[int, int] = (0, 1000)  # Int; AWSTimestamp in seconds
    float_range: tuple[float, float] = (0.0, 1000.0)
    moments: tuple[int, int] = (0, 0)  # epoch seconds for dates; seconds since midnight for AWSTime
    true_ratio: float = 0.5
    enum_values: tuple[str, ...] = ()
    null_ratio: float = 0.0
    list_range: tuple[int, int] = (0, 3)


@lru_cache(maxsize=4096)
def _words(name: str) -> frozenset[str]:
    """The words of a camelCase or snake_case name, with adjacent pairs joined ("firstname")."""
    tokens = re.findall(r"[a-z]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).lower())
    return frozenset([*tokens, *(a + b for a, b in pairwise(tokens)), "".join(tokens)])


def _last_word(name: str) -> str:
    tokens = re.findall(r"[a-z]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower())
    return tokens[-1] if tokens else ""


_TEXT_RULES: tuple[tuple[str, str], ...] = (
    ("email mail emailaddress", "email"),
    ("phone mobile telephone tel fax cell phonenumber", "phone"),
    ("avatar image photo picture thumbnail logo icon", "image_url"),
    ("url uri website homepage link href", "url"),
    ("firstname givenname forename", "first_name"),
    ("lastname surname familyname", "last_name"),
    ("username login handle nickname screenname", "user_name"),
    ("fullname displayname author owner contact customer person", "person"),
    ("company organization organisation employer business vendor brand", "company"),
    ("job occupation profession jobtitle", "job"),
    ("ip ipaddress", "ipv4"),
    ("street address addressline", "street_address"),
    ("city town", "city"),
    ("state province region", "state"),
    ("countrycode", "country_code"),
    ("country nationality", "country"),
    ("zip zipcode postal postcode postalcode", "postcode"),
    ("latitude lat", "latitude"),
    ("longitude lng", "longitude"),
    ("color colour", "color"),
    ("status", "status"),
    ("currency", "currency"),
    ("language lang locale", "language"),
    ("timezone tz", "timezone"),
    ("slug", "slug"),
    ("password secret", "password"),
    ("token hash checksum", "sha1"),
    ("sku code reference ref serial", "code"),
    ("tag tags label category categories type kind genre topic keyword keywords", "word"),
    ("title subject headline heading caption", "title"),
    ("description summary bio about excerpt abstract overview", "description"),
    ("content body text message comment comments note notes details review instructions feedback", "content"),
)
_TEXT_RULE_WORDS = tuple((frozenset(words.split()), kind) for words, kind in _TEXT_RULES)


def _phone(rng: random.Random) -> str:
    """E.164 numbers from ranges set aside for fiction, so no real line is seeded."""
    if rng.random() < 0.7:  # North America: 555-0100 to 555-0199
        return f"+1{rng.randint(201, 989)}555{rng.randint(100, 199):04d}"
    return f"+44207946{rng.randint(0, 999):04d}"  # UK: 020 7946 0000 to 0999


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# The common kinds, drawn straight from word and name lists (see seed_text: ~10x cheaper).
_QUICK_TEXT: dict[str, Callable[[random.Random], str]] = {
    "uuid": _uuid,
    "email": seed_text.email,
    "phone": _phone,
    "first_name": seed_text.first_name,
    "last_name": seed_text.last_name,
    "user_name": seed_text.user_name,
    "person": seed_text.person,
    "ipv4": seed_text.ipv4,
    "street_address": seed_text.street_address,
    "city": seed_text.city,
    "status": lambda rng: rng.choice(_STATUSES),
    "slug": seed_text.slug,
    "word": seed_text.word,
    "title": seed_text.title,
    "description": lambda rng: seed_text.paragraph(rng, 2),
    "content": lambda rng: seed_text.paragraph(rng, 4),
    "sentence": seed_text.sentence,
}
# The rarer kinds, made by Faker.
_FAKER_TEXT: dict[str, Callable[[Faker], str]] = {
    "image_url": lambda f: f.image_url(),
    "url": lambda f: f.uri(),
    "company": lambda f: f.company(),
    "job": lambda f: f.job(),
    "state": lambda f: f.state(),
    "country_code": lambda f: f.country_code(),
    "country": lambda f: f.country(),
    "postcode": lambda f: f.postcode(),
    "latitude": lambda f: str(f.latitude()),
    "longitude": lambda f: str(f.longitude()),
    "color": lambda f: f.color_name(),
    "currency": lambda f: f.currency_code(),
    "language": lambda f: f.language_code(),
    "timezone": lambda f: f.timezone(),
    "password": lambda f: f.password(),
    "sha1": lambda f: f.sha1(),
    "code": lambda f: f.bothify("??-#####").upper(),
    "thing": lambda f: f.catch_phrase(),
}


@lru_cache(maxsize=4096)
def _text_kind(context: str, name: str) -> str:
    """Which generator suits a text field, by its name, else by its model or custom type's
    name (a `number` in a `Phone`, a `line1` in an `Address`)."""
    if _last_word(name) in ("id", "uuid", "guid"):
        return "uuid"
    words, around = _words(name), _words(context)
    if "name" in words and not words & {"firstname", "lastname", "username", "fullname", "displayname", "companyname"}:
        if (words | around) & _PERSON_WORDS:
            return "person"
        return "word" if around & {"tag", "label", "category", "genre", "topic"} else "thing"
    for candidates in (words, around):
        kind = next((kind for rule, kind in _TEXT_RULE_WORDS if candidates & rule), None)
        if kind:
            return kind
    return "sentence"


_INT_RANGES: tuple[tuple[str, tuple[int, int]], ...] = (
    ("age", (18, 90)),
    ("year", (1990, 2030)),
    ("month", (1, 12)),
    ("day", (1, 28)),
    ("hour hours", (0, 23)),
    ("minute minutes second seconds", (0, 59)),
    ("rating stars priority level", (1, 5)),
    ("percent percentage progress score points", (0, 100)),
    ("port", (1024, 65535)),
    ("quantity qty count stock inventory total", (0, 500)),
    ("price cost amount", (1, 1000)),
    ("duration", (1, 3600)),
    ("order position rank index sort", (0, 100)),
    ("id", (1, 1_000_000)),
)
_FLOAT_RANGES: tuple[tuple[str, tuple[float, float, int]], ...] = (
    ("latitude lat", (-90, 90, 6)),
    ("longitude lng", (-180, 180, 6)),
    ("rating stars", (1, 5, 1)),
    ("percent percentage progress", (0, 100, 1)),
    ("price cost amount total balance salary fee", (1, 1000, 2)),
    ("weight height width length depth distance size", (0.1, 100, 1)),
    ("temperature temp", (-20, 40, 1)),
)


def _by_name[T](name: str, table: tuple[tuple[str, T], ...], default: T) -> T:
    words = _words(name)
    return next((value for names, value in table if words & set(names.split())), default)


@lru_cache(maxsize=4096)
def _float_places(name: str) -> int:
    return _by_name(name, _FLOAT_RANGES, (0.0, 1000.0, 2))[2]


class _Checker:
    """Turns one field's FieldConstraint into a _Plan, refusing what cannot apply."""

    def __init__(self, field: Field, constraint: FieldConstraint, schema: DataSchema) -> None:
        self.field, self.c, self.schema = field, constraint, schema

    def refuse(self, message: str) -> ConstraintInvalid:
        return ConstraintInvalid(self.field.name, message)

    def plan(self) -> _Plan:
        f, c = self.field, self.c
        kind = f.type if f.kind == "scalar" else f.kind
        applies = (
            ((c.min_length, c.max_length), ("String", "ID"), "length bounds apply to String and ID fields"),
            ((c.minimum, c.maximum), ("Int", "Float", "AWSTimestamp"), "minimum and maximum apply to numbers and timestamps"),
            ((c.date_from, c.date_to), _DATE_TYPES, "a date range applies to dates, times and timestamps"),
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
        return _Plan(
            length=self.length() if kind in ("String", "ID") else None,
            int_range=self.int_range(),
            float_range=self.float_range(),
            moments=self.moments() if kind in _DATE_TYPES else (0, 0),
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
            low, high = self.bounded(_by_name(f.name, _INT_RANGES, (0, 1000)), (INT_MIN, INT_MAX), whole=True)
        else:
            return (0, 1000)
        return int(low), int(high)

    def float_range(self) -> tuple[float, float]:
        if self.field.type != "Float":
            return (0.0, 1000.0)
        low, high, _ = _by_name(self.field.name, _FLOAT_RANGES, (0.0, 1000.0, 2))
        return self.bounded((low, high), (-DYNAMODB_NUMBER, DYNAMODB_NUMBER), whole=False)

    def moments(self) -> tuple[int, int]:
        c = self.c
        if self.field.type == "AWSTime":
            low = 0 if c.date_from is None else self.time_of_day("date_from", c.date_from)
            high = _DAY - 1 if c.date_to is None else self.time_of_day("date_to", c.date_to)
            return self.ordered(low, high, "time")
        start = None if c.date_from is None else self.moment("date_from", c.date_from, end=False)
        end = None if c.date_to is None else self.moment("date_to", c.date_to, end=True)
        if start is not None and end is not None and start > end:
            raise self.refuse(f"date_from {start.isoformat()} is after date_to {end.isoformat()}")
        start = start or (DEFAULT_FROM if end is None else _shift(end, -DEFAULT_SPAN))
        end = end or (DEFAULT_TO if c.date_from is None else _shift(start, DEFAULT_SPAN))
        low, high = _seconds(start), _seconds(end)
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


def _shift(moment: datetime, by: timedelta) -> datetime:
    try:
        return moment + by
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if by > timedelta(0) else datetime.min.replace(tzinfo=UTC)


def _seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def _fit(text: str, low: int, high: int, more: Callable[[], str]) -> str:
    """Text within length bounds: padded with more words, cut at a word when it can be."""
    parts, length = [text], len(text)
    while length < low:
        parts.append(more())
        length += 1 + len(parts[-1])
    text = " ".join(parts)
    if len(text) > high:
        cut = text[:high]
        space = cut.rfind(" ")
        text = cut[:space] if space >= low else cut
    return text[:-1] + "." if text.endswith(" ") else text


@dataclass(frozen=True)
class _Reference:
    """A relationship as this model's fields to fill from one parent's (related record's) key."""

    name: str
    targets: tuple[Field, ...]
    parents: tuple[dict[str, Any], ...]  # target field name -> value, one per parent record
    null_ratio: float
    in_key: bool  # some target is part of this model's own key


class Seeder:
    def __init__(
        self,
        schema: DataSchema,
        model: Model,
        *,
        constraints: dict[str, FieldConstraint] | None = None,
        parent_keys: dict[str, list[dict[str, Any]]] | None = None,
        seed: int | None = None,
    ) -> None:
        self._schema, self._model = schema, model
        self._rng = random.Random(seed)  # noqa: S311 - fake data, not secrets
        self._faker_seed = self._rng.getrandbits(64)
        # The writer gives a record without one a new UUID `id` (dynamo.stamp_new).
        self._fields = tuple(
            f for f in model.editable_fields if not (f.name == "id" and f.type == "ID" and model.primary_key == "id")
        )
        names = {f.name for f in self._fields}
        constraints = constraints or {}
        for name in constraints:
            if name not in names:
                writer_fills = name in {f.name for f in model.editable_fields}
                raise ConstraintInvalid(
                    name,
                    "is filled in by the writer (a new UUID)"
                    if writer_fills
                    else f"{model.name} has no editable field of that name",
                )
        self._plans = {f.name: _Checker(f, constraints.get(f.name) or FieldConstraint(), schema).plan() for f in self._fields}
        self._nested_plans: dict[tuple[str, str], _Plan] = {}
        self._key_names = model.key_fields if model.primary_key in names else ()
        self._references = self._build_references(parent_keys or {})
        targets = {t.name for r in self._references for t in r.targets}
        self._plain = tuple(f for f in self._fields if f.name not in targets and f.name not in self._key_names)
        self._key_only = tuple(f for f in self._fields if f.name not in targets and f.name in self._key_names)
        self._decks: dict[str, list[int]] = {}
        self._seen: set[tuple[Any, ...]] = set()

    @cached_property
    def _fake(self) -> Faker:
        """Made on first use: many models need none of the kinds Faker makes, and it costs a millisecond or more."""
        fake = Faker(use_weighting=False)  # weighted choices are ~10x slower; realism barely differs
        fake.seed_instance(self._faker_seed)
        return fake

    def _text(self, kind: str) -> str:
        quick = _QUICK_TEXT.get(kind)
        return quick(self._rng) if quick else _FAKER_TEXT[kind](self._fake)

    def rows(self, n: int) -> list[dict[str, Any]]:
        if n < 0:
            raise ValueError(f"cannot generate {n} rows")
        return [self.row() for _ in range(n)]

    def row(self) -> dict[str, Any]:
        """One record's editable values (None for an empty optional one), its key new among this seeder's rows."""
        values = {f.name: self._top(f) for f in self._plain}
        for _ in range(KEY_TRIES):
            candidate = values | {f.name: self._top(f) for f in self._key_only}
            for reference in self._references:
                candidate |= self._reference(reference, candidate)
            key = self._key(candidate)
            if key not in self._seen:
                if self._key_names:
                    self._seen.add(key)
                return {f.name: candidate.get(f.name) for f in self._fields}
        raise KeysExhausted(
            " + ".join(self._key_names),
            f"no unused key found in {KEY_TRIES} tries after {len(self._seen)} rows; widen the key fields' constraints",
        )

    def _key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values.get(name) for name in self._key_names)

    def _build_references(self, parent_keys: dict[str, list[dict[str, Any]]]) -> tuple[_Reference, ...]:
        # belongsTo, and a Gen 1 hasOne that keeps the related record's key on this side.
        relationships = {
            r.name: r
            for r in self._model.relationships
            if r.association
            and (
                r.association.connection_type == "BELONGS_TO"
                or (r.association.connection_type == "HAS_ONE" and r.association.target_names)
            )
        }
        for name in parent_keys:
            if name not in relationships:
                raise ParentKeysInvalid(name, f"{self._model.name} has no belongsTo (or hasOne keeping keys here) of that name")
        fields = {f.name: f for f in self._fields}
        references = []
        for rel in relationships.values():
            names = rel.association.target_names if rel.association else ()
            # Older schemas may name a target field the model does not declare: nothing to fill.
            targets = [(i, fields[n]) for i, n in enumerate(names) if n in fields]
            if not targets:
                continue
            parents = tuple(self._parent(rel, names, targets, record) for record in parent_keys.get(rel.name) or [])
            optional = all(not t.value_required for _, t in targets)
            references.append(
                _Reference(
                    name=rel.name,
                    targets=tuple(t for _, t in targets),
                    parents=parents,
                    null_ratio=max(self._plans[t.name].null_ratio for _, t in targets) if optional else 0.0,
                    in_key=any(t.name in self._key_names for _, t in targets),
                )
            )
        return tuple(references)

    def _parent(self, rel: Field, names: tuple[str, ...], targets: list[tuple[int, Field]], record: object) -> dict[str, Any]:
        """A parent's key values by target field: by the parent model's key order when the
        record names its key fields, else by the record's own order."""
        if not isinstance(record, dict):
            raise ParentKeysInvalid(rel.name, f"a parent key must be a dict of key fields, not {record!r}")
        parent_model = self._schema.model(rel.type)
        if parent_model and all(k in record for k in parent_model.key_fields):
            values = [record[k] for k in parent_model.key_fields]
        else:
            values = list(record.values())
        if len(values) < len(names):
            raise ParentKeysInvalid(rel.name, f"parent key {record!r} has {len(values)} values for {', '.join(names)}")
        checked = {}
        for position, target in targets:
            try:
                checked[target.name] = check_value(target, values[position], self._schema)
            except FieldError as error:
                raise ParentKeysInvalid(rel.name, f"parent key {record!r} does not fit {error}") from None
        return checked

    def _reference(self, reference: _Reference, row: dict[str, Any]) -> dict[str, Any]:
        if reference.null_ratio and self._rng.random() < reference.null_ratio:
            return dict.fromkeys(t.name for t in reference.targets)
        if reference.parents and not reference.in_key:
            return dict(self._rng.choice(reference.parents))
        # A parent whose key would repeat a row's key is used up; each is dealt once before any repeats.
        for _ in range(min(PARENT_TRIES, len(reference.parents))):
            parent = reference.parents[self._deal(reference)]
            if self._key(row | parent) not in self._seen:
                return dict(parent)
        return {t.name: self._top(t) if t.value_required else None for t in reference.targets}

    def _deal(self, reference: _Reference) -> int:
        deck = self._decks.setdefault(reference.name, [])
        if not deck:
            deck.extend(range(len(reference.parents)))
            self._rng.shuffle(deck)
        return deck.pop()

    def _top(self, field: Field) -> Any:
        return self._value(field, self._plans[field.name], self._model.name, 0)

    def _value(self, field: Field, plan: _Plan, context: str, depth: int) -> Any:
        if plan.null_ratio and self._rng.random() < plan.null_ratio:
            return None
        if field.kind == "enum" and not plan.enum_values:  # optional, or a list (the plan refuses the rest)
            return [] if field.value_required else None
        if field.kind == "nonModel" and depth >= MAX_CUSTOM_DEPTH:
            if not field.value_required:
                return None
            if field.is_array:
                return []
            if depth >= MAX_NESTING - 1:
                raise ConstraintInvalid(field.name, f"custom type {field.type} requires itself; no finite value has it")
        if field.is_array:
            return [self._one(field, plan, context, depth + 1) for _ in range(self._rng.randint(*plan.list_range))]
        return self._one(field, plan, context, depth)

    def _one(self, field: Field, plan: _Plan, context: str, depth: int) -> Any:
        rng = self._rng
        if field.kind == "enum":
            return rng.choice(plan.enum_values)
        if field.kind == "nonModel":
            return self._custom(field, depth)
        match field.type:
            case "ID":
                if plan.length and not plan.length[0] <= 36 <= plan.length[1]:
                    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=rng.randint(*plan.length)))
                return _uuid(rng)
            case "Int" | "AWSTimestamp":
                return rng.randint(*plan.int_range)
            case "Float":
                low, high = plan.float_range
                share = rng.random()
                number = low * (1 - share) + high * share  # not low + (high - low) * share: that can overflow
                rounded = round(number, _float_places(field.name))
                return rounded if low <= rounded <= high else min(max(number, low), high)
            case "Boolean":
                return rng.random() < plan.true_ratio
            case "AWSDate":
                low, high = ((EPOCH + timedelta(seconds=s)).date().toordinal() for s in plan.moments)
                return date.fromordinal(rng.randint(low, high)).isoformat()
            case "AWSDateTime":
                moment = EPOCH + timedelta(seconds=rng.randint(*plan.moments))
                return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            case "AWSTime":
                second = rng.randint(*plan.moments)
                return f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"
            case "AWSEmail":
                return seed_text.email(rng)
            case "AWSJSON":
                document = {seed_text.word(rng): seed_text.word(rng), "count": rng.randint(0, 100), "enabled": rng.random() < 0.5}
                return json.dumps(document, separators=(",", ":"))
            case "AWSPhone":
                return _phone(rng)
            case "AWSURL":
                return self._text("image_url" if _text_kind(context, field.name) == "image_url" else "url")
            case "AWSIPAddress":
                return seed_text.ipv4(rng) if rng.random() < 0.75 else seed_text.ipv6(rng)
        kind = _text_kind(context, field.name)
        text = self._text(kind)
        if plan.length is None:
            return text
        low, high = plan.length
        for _ in range(3):  # a shorter or longer name of the same kind reads better than a cut one
            if low <= len(text) <= high:
                return text
            text = self._text(kind)
        return _fit(text, low, high, lambda: seed_text.word(rng))

    def _custom(self, field: Field, depth: int) -> dict[str, Any]:
        custom = self._schema.non_models.get(field.type)
        if custom is None:
            return {}  # an undeclared custom type: check_value takes any object
        result = {}
        for inner in custom.fields:
            key = (custom.name, inner.name)
            if key not in self._nested_plans:
                self._nested_plans[key] = _Checker(inner, FieldConstraint(), self._schema).plan()
            value = self._value(inner, self._nested_plans[key], custom.name, depth + 1)
            if value is not None:
                result[inner.name] = value
        return result
