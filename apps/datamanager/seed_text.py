"""Cheap seed text for the field kinds that fill most records: names, addresses, words and
prose, emails and IP addresses, drawn from Faker's own en_US word and name lists.

Faker expands each value from a format string (a regular expression pass and a method
call a token): 15-60 µs a value, most of a 100-row seed. A draw from the same lists
costs 1-3 µs. Faker still makes the rarer kinds (companies, jobs, countries...).

Emails and IP addresses come from the names and ranges set aside for documentation
(example.com, 192.0.2.0/24 and the like), so no seeded record points at a real mailbox
or host.
"""

from __future__ import annotations

import random
import re
from functools import cache

from faker.providers.address.en_US import Provider as Address
from faker.providers.lorem.en_US import Provider as Lorem
from faker.providers.person.en_US import Provider as Person

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
IPV4_DOCUMENTATION = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737
IPV6_DOCUMENTATION = "2001:db8"  # RFC 3849


@cache
def _lists() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """First names, last names and words, read once from Faker's providers."""
    return tuple(Person.first_names), tuple(Person.last_names), tuple(Lorem.word_list)


def first_name(rng: random.Random) -> str:
    return rng.choice(_lists()[0])


def last_name(rng: random.Random) -> str:
    return rng.choice(_lists()[1])


def person(rng: random.Random) -> str:
    return f"{first_name(rng)} {last_name(rng)}"


def word(rng: random.Random) -> str:
    return rng.choice(_lists()[2])


def _about(rng: random.Random, count: int) -> int:
    """`count` give or take 40%, at least 1, as Faker varies its sentence and paragraph lengths."""
    return max(1, count + rng.randint(-(count * 2 // 5), count * 2 // 5))


def sentence(rng: random.Random, words: int = 6) -> str:
    text = " ".join(rng.choices(_lists()[2], k=_about(rng, words)))
    return text[0].upper() + text[1:] + "."


def title(rng: random.Random) -> str:
    return sentence(rng, 4)[:-1]


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(_about(rng, sentences)))


def slug(rng: random.Random) -> str:
    return "-".join(rng.choices(_lists()[2], k=rng.randint(2, 4)))


def _handle(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def user_name(rng: random.Random) -> str:
    first, last = _handle(first_name(rng)), _handle(last_name(rng))
    return rng.choice((f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", f"{first}.{last}", f"{last}{first[0]}"))


def email(rng: random.Random) -> str:
    return f"{user_name(rng)}@{rng.choice(EMAIL_DOMAINS)}"


def street_address(rng: random.Random) -> str:
    name = first_name(rng) if rng.random() < 0.5 else last_name(rng)
    street = f"{rng.randint(1, 99999)} {name} {rng.choice(Address.street_suffixes)}"
    return street if rng.random() < 0.8 else f"{street} {rng.choice(('Apt.', 'Suite'))} {rng.randint(100, 999)}"


def city(rng: random.Random) -> str:
    first = first_name(rng)
    match rng.randrange(4):
        case 0:
            return f"{rng.choice(Address.city_prefixes)} {first}{rng.choice(Address.city_suffixes)}"
        case 1:
            return f"{rng.choice(Address.city_prefixes)} {first}"
        case 2:
            return f"{first}{rng.choice(Address.city_suffixes)}"
    return f"{last_name(rng)}{rng.choice(Address.city_suffixes)}"


def ipv4(rng: random.Random) -> str:
    return f"{rng.choice(IPV4_DOCUMENTATION)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    return ":".join([IPV6_DOCUMENTATION, *(f"{rng.getrandbits(16):x}" for _ in range(6))])
