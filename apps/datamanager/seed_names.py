"""What a field's name (and its model's or custom type's) says about the values to seed:
which text generator suits it, which number range, how many decimal places."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from functools import lru_cache
from itertools import pairwise

from faker import Faker

from apps.datamanager import seed_text

STATUSES = ("active", "pending", "inactive", "archived", "draft")
PERSON_WORDS = frozenset(
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


@lru_cache(maxsize=4096)
def name_words(name: str) -> frozenset[str]:
    """The words of a camelCase or snake_case name, with adjacent pairs joined ("firstname")."""
    tokens = re.findall(r"[a-z]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).lower())
    return frozenset([*tokens, *(a + b for a, b in pairwise(tokens)), "".join(tokens)])


def last_word(name: str) -> str:
    tokens = re.findall(r"[a-z]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower())
    return tokens[-1] if tokens else ""


TEXT_RULES: tuple[tuple[str, str], ...] = (
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
TEXT_RULE_WORDS = tuple((frozenset(words.split()), kind) for words, kind in TEXT_RULES)


def phone(rng: random.Random) -> str:
    """E.164 numbers from ranges set aside for fiction, so no real line is seeded."""
    if rng.random() < 0.7:  # North America: 555-0100 to 555-0199
        return f"+1{rng.randint(201, 989)}555{rng.randint(100, 199):04d}"
    return f"+44207946{rng.randint(0, 999):04d}"  # UK: 020 7946 0000 to 0999


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# The common kinds, drawn straight from word and name lists (see seed_text: ~10x cheaper).
QUICK_TEXT: dict[str, Callable[[random.Random], str]] = {
    "uuid": random_uuid,
    "email": seed_text.email,
    "phone": phone,
    "first_name": seed_text.first_name,
    "last_name": seed_text.last_name,
    "user_name": seed_text.user_name,
    "person": seed_text.person,
    "ipv4": seed_text.ipv4,
    "street_address": seed_text.street_address,
    "city": seed_text.city,
    "status": lambda rng: rng.choice(STATUSES),
    "slug": seed_text.slug,
    "word": seed_text.word,
    "title": seed_text.title,
    "description": lambda rng: seed_text.paragraph(rng, 2),
    "content": lambda rng: seed_text.paragraph(rng, 4),
    "sentence": seed_text.sentence,
}
# The rarer kinds, made by Faker.
FAKER_TEXT: dict[str, Callable[[Faker], str]] = {
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
def text_kind(context: str, name: str) -> str:
    """Which generator suits a text field, by its name, else by its model or custom type's
    name (a `number` in a `Phone`, a `line1` in an `Address`)."""
    if last_word(name) in ("id", "uuid", "guid"):
        return "uuid"
    words, around = name_words(name), name_words(context)
    if "name" in words and not words & {"firstname", "lastname", "username", "fullname", "displayname", "companyname"}:
        if (words | around) & PERSON_WORDS:
            return "person"
        return "word" if around & {"tag", "label", "category", "genre", "topic"} else "thing"
    for candidates in (words, around):
        kind = next((kind for rule, kind in TEXT_RULE_WORDS if candidates & rule), None)
        if kind:
            return kind
    return "sentence"


INT_RANGES: tuple[tuple[str, tuple[int, int]], ...] = (
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
FLOAT_RANGES: tuple[tuple[str, tuple[float, float, int]], ...] = (
    ("latitude lat", (-90, 90, 6)),
    ("longitude lng", (-180, 180, 6)),
    ("rating stars", (1, 5, 1)),
    ("percent percentage progress", (0, 100, 1)),
    ("price cost amount total balance salary fee", (1, 1000, 2)),
    ("weight height width length depth distance size", (0.1, 100, 1)),
    ("temperature temp", (-20, 40, 1)),
)


def by_name[T](name: str, table: tuple[tuple[str, T], ...], default: T) -> T:
    words = name_words(name)
    return next((value for names, value in table if words & set(names.split())), default)


@lru_cache(maxsize=4096)
def float_places(name: str) -> int:
    return by_name(name, FLOAT_RANGES, (0.0, 1000.0, 2))[2]
