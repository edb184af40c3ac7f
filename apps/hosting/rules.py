"""Amplify Hosting's rewrite and redirect rules (an app's `customRules`): parse, export, evaluate.

The semantics are Amplify's, as documented in
  https://docs.aws.amazon.com/amplify/latest/userguide/redirects.html (types, order, query parameters)
  https://docs.aws.amazon.com/amplify/latest/userguide/redirect-rewrite-examples.html (the examples
    that tests/test_rules.py replays: wildcards, placeholders, query strings, SPA regex, 404, region)
  https://docs.aws.amazon.com/amplify/latest/APIReference/API_CustomRule.html (fields, limits, 404-200)
and, where the documentation is silent, as decided next to the code that decides it:

- Rules apply top down; the first that matches wins.
- 200, 301 and 302 apply whether or not the requested file exists (that is why the documented SPA
  rule is a regex that leaves asset extensions alone); 404 and 404-200 only when it does not
  ("404 redirects occur when a request points to an address that doesn't exist"). A 404 rule whose
  file exists does not apply, and the next rules are tried.
- `<*>` matches anything, `/` included, also nothing; `<name>` one path segment ("at a given level
  of a folder structure"). Both carry their value to the target. A `</regex/>` source is searched in
  the path; nothing of it reaches the target (Amplify passes no regex group on: amplify-hosting#570).
- A source's query (`/docs?id=<v>`) must be present in the request (other parameters may be too).
  301 and 302 forward the request's query string unless the source has a query or the target has its
  own (the documented exceptions); rewrites serve a file, which takes no query but the target's.
- Paths match with or without one trailing slash (`/docs` matches `/docs/`, and the other way round),
  Amplify's clean URLs treating both as one address; a redirect that would send a request to the very
  URL it came from is skipped, as following it could only loop.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from console.schemas import SCHEMA_TYPE_WORDS, json_type_word

MAX_RULES = 500
# A longer expression is refused: every request runs each rule's expression on its path.
MAX_REGEX_LENGTH = 1000
MAX_FIELD_LENGTH = 2048  # Amplify's own limit on source, target and condition

STATUS_LABELS = {
    "200": "Rewrite (200)",
    "301": "Permanent redirect (301)",
    "302": "Temporary redirect (302)",
    "404": "Not found (404)",
    "404-200": "Not found rewrite (404-200)",
}
REDIRECTS = frozenset({"301", "302"})
ONLY_IF_MISSING = frozenset({"404", "404-200"})
FIELDS = ("source", "target", "status", "condition")

# What a path or a query may hold unencoded (RFC 3986 pchar): a placeholder's value is quoted with these.
_PATH_SAFE = "/!$&'()*+,;=:@~"
_QUERY_SAFE = "/!$'()*,;:@~?"
_NAME = re.compile(r"\*|[A-Za-z0-9_.-]+")
_COUNTRY = re.compile(r"<[A-Za-z]{2}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_SCHEMA_VALIDATOR = Draft202012Validator(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "source": {"type": "string", "minLength": 1, "maxLength": MAX_FIELD_LENGTH},
                "target": {"type": "string", "minLength": 1, "maxLength": MAX_FIELD_LENGTH},
                "status": {"type": "string"},
                "condition": {"type": ["string", "null"], "maxLength": MAX_FIELD_LENGTH},
            },
            "required": ["source", "target", "status"],
            "additionalProperties": False,
        },
    }
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of one rule (number is 1-based; None: the whole document)."""

    number: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.number is None:
            return self.message
        return f"Rule {self.number}, {self.field}: {self.message}" if self.field else f"Rule {self.number}: {self.message}"


class RulesInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.errors = [str(p) for p in problems]
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class Rule:
    source: str
    target: str
    status: str
    condition: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {"source": self.source, "target": self.target, "status": self.status, "condition": self.condition}


@dataclass(frozen=True)
class Outcome:
    """redirect: answer `status` (301/302) with Location `location`. Otherwise serve the file at
    `location` with `status` (200 or 404). Either way `location` is in URL form: a path (or, for a
    redirect, an http(s) URL) percent-encoded, then maybe "?" and a query; unquote the path to find a file."""

    status: int
    location: str
    redirect: bool


class _FieldError(ValueError):
    pass


Tokens = tuple[tuple[bool, str], ...]  # (is a placeholder, literal text or placeholder name)


def _tokens(text: str) -> Tokens:
    """`/docs/<year>/<*>` -> literal "/docs/", name "year", literal "/", name "*"."""
    parts: list[tuple[bool, str]] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        end = text.find(">", start)
        name = text[start + 1 : end]
        if end == -1 or "<" in name:
            raise _FieldError(f"the '<' of {text[start:][:40]!r} is not closed by '>'")
        if not _NAME.fullmatch(name):
            raise _FieldError(f"<{name}> is not a placeholder: write <*> or a name of letters, digits, '-', '_' and '.'")
        if start > position:
            parts.append((False, text[position:start]))
        parts.append((True, name))
        position = end + 1
    if position < len(text):
        parts.append((False, text[position:]))
    return tuple(parts)


@dataclass(frozen=True)
class _QueryTest:
    key: str
    value: str | None  # the literal value the request must have, if any
    placeholder: str | None  # the name its value is carried in, if any


@dataclass(frozen=True)
class _Source:
    pattern: re.Pattern[str]
    groups: tuple[str, ...]  # the path's placeholders: group i + 1 carries groups[i]
    regex: bool
    query: tuple[_QueryTest, ...]
    # The decoded path's text before the first placeholder: a cheap test that rules most rules out.
    prefix: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return self.groups + tuple(t.placeholder for t in self.query if t.placeholder is not None)


def _parse_source(source: str) -> _Source:
    if source.startswith("</") and source.endswith("/>") and len(source) >= 4:
        expression = source[2:-2]
        if len(expression) > MAX_REGEX_LENGTH:
            raise _FieldError(f"the regular expression is longer than {MAX_REGEX_LENGTH} characters")
        try:
            return _Source(re.compile(expression), (), True, ())
        except re.error as error:
            raise _FieldError(f"not a valid regular expression: {error}") from None
    if urlsplit(source).scheme in ("http", "https"):
        raise _FieldError(
            "a whole-domain source (https://…) is not supported here: write a path starting with / "
            "(each branch is served at its own address)"
        )
    if not source.startswith("/"):
        raise _FieldError("must be a path starting with / or a regular expression written </…/>")
    path, _, query = source.partition("?")
    pattern, names = "", []
    for is_placeholder, text in _tokens(path):
        if not is_placeholder:
            pattern += re.escape(unquote(text))  # written as a URL; matched against the decoded path
        elif text == "*":
            if "*" in names:
                raise _FieldError("<*> may appear only once")
            names.append(text)
            pattern += "(.*)"
        else:
            if text in names:
                raise _FieldError(f"<{text}> appears twice")
            names.append(text)
            pattern += "([^/]+)"
    groups = tuple(names)
    tests = []
    for item in filter(None, query.split("&")):
        key, equals, value = item.partition("=")
        value_tokens = _tokens(value)
        if not key or "<" in key:
            raise _FieldError(f"the query parameter {item!r} needs a literal name before '='")
        if any(is_placeholder for is_placeholder, _ in value_tokens):
            if len(value_tokens) != 1 or value_tokens[0][1] == "*":
                raise _FieldError(f"in the query, a placeholder is the whole value, as in {key}=<value> (not {item!r})")
            name = value_tokens[0][1]
            if name in names:
                raise _FieldError(f"<{name}> appears twice")
            names.append(name)
            tests.append(_QueryTest(unquote_plus(key), None, name))
        else:
            tests.append(_QueryTest(unquote_plus(key), unquote_plus(value) if equals else None, None))
    prefix = unquote("".join(text for _, text in itertools.takewhile(lambda part: not part[0], _tokens(path))))
    return _Source(re.compile(pattern, re.DOTALL), groups, False, tuple(tests), prefix)


@dataclass(frozen=True)
class _Target:
    path: Tokens  # before the first "?"
    query: Tokens | None  # None: the target has no query of its own


def _parse_target(target: str, status: str, source: _Source) -> _Target:
    if any(c.isspace() for c in target) or _CONTROL.search(target):
        raise _FieldError("must not contain spaces or control characters (write a space as %20)")
    scheme = urlsplit(target).scheme.lower()
    if scheme in ("http", "https"):
        if status not in REDIRECTS:
            raise _FieldError(
                f"a {STATUS_LABELS[status].lower()} cannot fetch another site ({target}): this console is no open "
                "proxy. Send visitors there with a 301 or 302 redirect, or rewrite to a path of the deployment."
            )
        if not urlsplit(target).netloc:
            raise _FieldError(f"{target!r} names no host")
    elif not target.startswith("/"):
        where = "a path starting with / or an http(s):// URL" if status in REDIRECTS else "a path starting with /"
        raise _FieldError(f"must be {where}")
    elif target.startswith("//") or "\\" in target:
        raise _FieldError("a path cannot start with // or hold a backslash (browsers read both as another host)")
    path, has_query, query = target.partition("?")
    parsed = _Target(_tokens(path), _tokens(query) if has_query else None)
    for is_placeholder, name in parsed.path + (parsed.query or ()):
        if not is_placeholder or name in source.names:
            continue
        if source.regex:
            raise _FieldError(f"<{name}>: a regular-expression source has no placeholders (Amplify passes no group on)")
        has = ", ".join(f"<{n}>" for n in source.names) or "none"
        raise _FieldError(f"<{name}> is not a placeholder of the source (it has {has})")
    return parsed


@dataclass(frozen=True)
class _Compiled:
    status: str
    condition: str | None
    source: _Source
    target: _Target

    def values(self, path: str, alternate: str | None) -> dict[str, str] | None:
        """The placeholders' values if the path matches (see the module's note on trailing slashes)."""
        if self.source.regex:
            return {} if self.source.pattern.search(path) else None
        prefix = self.source.prefix
        if not (path.startswith(prefix) or (alternate is not None and alternate.startswith(prefix))):
            return None
        for candidate in (path, alternate):
            if candidate is not None and (found := self.source.pattern.fullmatch(candidate)):
                return dict(zip(self.source.groups, found.groups(), strict=True))
        return None

    def query_matches(self, request_query: dict[str, str], values: dict[str, str]) -> bool:
        for test in self.source.query:
            if test.key not in request_query or (test.value is not None and request_query[test.key] != test.value):
                return False
            if test.placeholder is not None:
                values[test.placeholder] = request_query[test.key]
        return True

    def outcome(self, values: dict[str, str], query: str) -> Outcome:
        path = _fill(self.target.path, values, _PATH_SAFE)
        own_query = None if self.target.query is None else _fill(self.target.query, values, _QUERY_SAFE)
        if self.status in REDIRECTS:
            # Amplify's documented exceptions to forwarding the query: the source has one, or the target has its own.
            if own_query is None and not self.source.query and query:
                own_query = query
            return Outcome(int(self.status), path if own_query is None else f"{path}?{own_query}", True)
        status = 404 if self.status == "404" else 200
        return Outcome(status, path if own_query is None else f"{path}?{own_query}", False)


def _fill(tokens: Tokens, values: dict[str, str], safe: str) -> str:
    return "".join(quote(values[text], safe=safe) if is_placeholder else text for is_placeholder, text in tokens)


def _compile(rule: Rule) -> _Compiled:
    source = _parse_source(rule.source)
    return _Compiled(rule.status, rule.condition, source, _parse_target(rule.target, rule.status, source))


def _shape_problem(error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    number = path[0] + 1 if path and isinstance(path[0], int) else None
    field = str(path[1]) if len(path) > 1 else ""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(FIELDS))
        return Problem(number, extra[0] if extra else "", "unknown field; a rule has source, target, status and condition")
    if error.validator == "required":
        missing = next((f for f in FIELDS if f"'{f}'" in error.message), "")
        return Problem(number, missing, "is missing")
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(SCHEMA_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        return Problem(number, field, f"must be {words}, not {json_type_word(error.instance)}")
    if error.validator == "minLength":
        return Problem(number, field, "is empty")
    if error.validator == "maxLength":
        return Problem(number, field, f"is longer than {MAX_FIELD_LENGTH} characters")
    return Problem(number, field, error.message)


def _rule_problems(number: int, item: dict[str, Any]) -> tuple[Rule | None, list[Problem]]:
    problems = []
    for field in FIELDS:
        value = item.get(field)
        if isinstance(value, str) and (value != value.strip() or _CONTROL.search(value)):
            # Amplify keeps such a rule and it then never matches (amplify-hosting#2129): say so instead.
            problems.append(Problem(number, field, "has leading or trailing spaces or control characters"))
    bad = {p.field for p in problems}
    status = item["status"]
    if status not in STATUS_LABELS:
        problems.append(Problem(number, "status", f"{status!r} is not one of {', '.join(STATUS_LABELS)}"))
    condition = item.get("condition") or None
    if condition is not None and not _COUNTRY.fullmatch(condition) and "condition" not in bad:
        problems.append(Problem(number, "condition", f"{condition!r} is not a two-letter country code written like <US>"))
    source = None
    if "source" not in bad:
        try:
            source = _parse_source(item["source"])
        except _FieldError as error:
            problems.append(Problem(number, "source", str(error)))
    # Which targets are allowed depends on the status, and its placeholders on the source.
    if source is not None and status in STATUS_LABELS and "target" not in bad:
        try:
            _parse_target(item["target"], status, source)
        except _FieldError as error:
            problems.append(Problem(number, "target", str(error)))
    return (None if problems else Rule(item["source"], item["target"], status, condition)), problems


def parse_rules(data: object) -> list[Rule]:
    """Amplify's customRules JSON (already decoded) as rules; RulesInvalid names each rule and field at fault."""
    if not isinstance(data, list):
        raise RulesInvalid([Problem(None, "", f"The rules must be a JSON array of rule objects, not {json_type_word(data)}.")])
    if len(data) > MAX_RULES:
        raise RulesInvalid([Problem(None, "", f"At most {MAX_RULES} rules are allowed; these are {len(data)}.")])
    problems = [_shape_problem(e) for e in sorted(_SCHEMA_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))]
    if problems:
        raise RulesInvalid(problems)
    rules = []
    for number, item in enumerate(data, 1):
        rule, found = _rule_problems(number, item)
        problems += found
        if rule is not None:
            rules.append(rule)
    if problems:
        raise RulesInvalid(problems)
    return rules


def rules_json(rules: Sequence[Rule]) -> str:
    """The Amplify console's text-editor format: parse_rules(json.loads(...)) gives the rules back."""
    return json.dumps([rule.as_json() for rule in rules], indent=4, ensure_ascii=False)


@lru_cache(maxsize=256)
def _compiled(rules: tuple[Rule, ...]) -> tuple[_Compiled, ...]:
    # Keyed by the rules themselves (frozen, hashable): each distinct list compiles once per process.
    return tuple(_compile(rule) for rule in rules)


# The same tuple of rules (serving keeps one per app) is found by identity, without hashing its
# rules again: that costs more than matching them. The entry holds the tuple, so its id stays its own.
_BY_IDENTITY: dict[int, tuple[tuple[Rule, ...], tuple[_Compiled, ...]]] = {}


def _compiled_for(rules: Sequence[Rule]) -> tuple[_Compiled, ...]:
    if type(rules) is not tuple:  # a list may change between calls: look it up by value
        return _compiled(tuple(rules))
    found = _BY_IDENTITY.get(id(rules))
    if found is not None and found[0] is rules:
        return found[1]
    compiled = _compiled(rules)
    if len(_BY_IDENTITY) >= 256:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(rules)] = (rules, compiled)
    return compiled


def _first_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, value)
    return values


def first_match(rules: Sequence[Rule], path: str, query: str, exists: Callable[[str], bool]) -> tuple[int, Outcome] | None:
    """(1-based number of the rule that applies, its outcome), or None: see evaluate()."""
    alternate = None if path == "/" else (path[:-1] if path.endswith("/") else path + "/")
    request_query: dict[str, str] | None = None
    missing: bool | None = None
    for number, rule in enumerate(_compiled_for(rules), 1):
        if rule.condition is not None:
            # Amplify reads the visitor's country from its CDN (CloudFront). This console serves
            # branches itself, with no CDN and no GeoIP database: a request has no country, so a
            # rule for one country never applies (applying it to everyone would be the worse lie).
            continue
        values = rule.values(path, alternate)
        if values is None:
            continue
        if rule.source.query:
            request_query = _first_values(query) if request_query is None else request_query
            if not rule.query_matches(request_query, values):
                continue
        if rule.status in ONLY_IF_MISSING:
            missing = (not exists(path)) if missing is None else missing
            if not missing:
                continue
        outcome = rule.outcome(values, query)
        if outcome.redirect and outcome.location == quote(path, safe=_PATH_SAFE) + (f"?{query}" if query else ""):
            continue  # a redirect to the very URL requested: following it could only loop
        return number, outcome
    return None


def evaluate(rules: Sequence[Rule], path: str, query: str, exists: Callable[[str], bool]) -> Outcome | None:
    """What the first applicable rule makes of a request, or None: serve the path as it is.

    `path` is the decoded request path (starting with /), `query` the raw query string without
    "?", `exists(path)` whether the deployment serves a file at that path; it is asked at most
    once, and only when a 404 or 404-200 rule matches."""
    found = first_match(rules, path, query, exists)
    return found[1] if found else None
