"""Amplify's custom headers: the customHeaders YAML, its patterns, and customHttp.yml.

The format (https://docs.aws.amazon.com/amplify/latest/userguide/custom-header-YAML-format.html):

    customHeaders:
      - pattern: '**/*'
        headers:
          - key: 'X-Frame-Options'
            value: 'DENY'

or, for a monorepo, `applications: [{appRoot, customHeaders}]`, of which the app's own
appRoot counts. A repository's customHttp.yml wins over the app's setting
(https://docs.aws.amazon.com/amplify/latest/userguide/setting-custom-headers.html).

Patterns are globs over the URL path (Amplify documents no grammar; this is the reading
its examples and users' reports agree on):
- `*` is any run of characters within one path segment, `?` one such character;
- `**` as a whole segment is any number of segments, none included: `**/*` and `**` match
  every path, `/**/*.js` every script;
- a pattern with a `/` is anchored at the site's root (the leading `/` is optional);
  one without (`*.json`, `robots.txt`) matches the file name at any depth;
- everything else is literal: Amplify does not expand braces (`*.{woff,ttf}`, see
  https://github.com/aws-amplify/amplify-hosting/issues/3937) and neither does this.
Every matching rule applies, in order; when two set the same header the later one wins
(https://github.com/aws-amplify/amplify-hosting/issues/198).

Refused headers, because the server owns them or because a hosted site is also shown on
the console's own origin (/sites/): see FORBIDDEN_HEADERS.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from console.schemas import dotted_path
from console.yaml_checks import AliasLoop, expanded_size, line_of

MAX_TEXT_BYTES = 64 * 1024
MAX_RULES = 100
MAX_HEADERS_PER_RULE = 50
MAX_APPLICATIONS = 50
MAX_NAME_LENGTH = 256
MAX_VALUE_BYTES = 8 * 1024
MAX_PATTERN_LENGTH = 1024
# Values the document may hold once YAML aliases are expanded: a few hundred bytes of
# nested aliases expand to millions, which validating would walk for minutes.
MAX_YAML_VALUES = 20_000
CUSTOM_HTTP_FILE = "customHttp.yml"

_HOP_BY_HOP = "a hop-by-hop header (RFC 9110 section 7.6.1): the server manages the connection"
_FRAMING = "the server frames the response (RFC 9112 section 6) from the file it sends"
_CONSOLE_ORIGIN = "a site is also shown on the console's own origin (/sites/), where it must not touch the console's cookies"

# Amplify documents no restriction; these are refused because honouring them would break
# the response or reach beyond the site. Names compare case-insensitively.
FORBIDDEN_HEADERS: dict[str, str] = {
    "connection": _HOP_BY_HOP,
    "keep-alive": _HOP_BY_HOP,
    "te": _HOP_BY_HOP,
    "trailer": _HOP_BY_HOP,
    "upgrade": _HOP_BY_HOP,
    "transfer-encoding": _FRAMING,
    "content-length": _FRAMING,
    "content-encoding": "the server picks the encoding (br, gzip) of the bytes it sends; another would garble them",
    "host": "a request header",
    "date": "the server sets it",
    "www-authenticate": "password protection sets it",
    "set-cookie": _CONSOLE_ORIGIN,
    "set-cookie2": _CONSOLE_ORIGIN,
    "clear-site-data": _CONSOLE_ORIGIN,
}
FORBIDDEN_PREFIXES: dict[str, str] = {"proxy-": "a header between client and proxy, never a site's"}

# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Control characters end or split a header line somewhere: C0 but tab, DEL, C1 and the
# Unicode line separators some stacks honour.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class HeadersInvalid(ValueError):
    """What is wrong and where: `line 3, column 7: ...` or `customHeaders[2].headers[0].key: ...`."""


@dataclass(frozen=True)
class HeaderRule:
    pattern: str
    headers: tuple[tuple[str, str], ...]


def _header_list(max_items: int) -> dict[str, Any]:
    header = {
        "type": "object",
        "required": ["key", "value"],
        "properties": {"key": {"type": "string"}, "value": {"type": ["string", "integer"]}},
        "additionalProperties": False,
    }
    return {"type": "array", "maxItems": max_items, "items": header}


_RULES: dict[str, Any] = {
    "type": ["array", "null"],
    "maxItems": MAX_RULES,
    "items": {
        "type": "object",
        "required": ["pattern", "headers"],
        "properties": {
            "pattern": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_LENGTH},
            "headers": _header_list(MAX_HEADERS_PER_RULE),
        },
        "additionalProperties": False,
    },
}
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "customHeaders": _RULES,
        "applications": {
            "type": "array",
            "maxItems": MAX_APPLICATIONS,
            "items": {
                "type": "object",
                "required": ["appRoot"],
                "properties": {"appRoot": {"type": "string"}, "customHeaders": _RULES},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
_VALIDATOR = Draft202012Validator(_SCHEMA)

_TYPE_WORDS = {"string": "text", "integer": "a whole number", "array": "a list", "object": "a mapping", "null": "empty"}


def _kind(value: object) -> str:
    for kind, word in ((bool, "true or false"), (dict, "a mapping"), (list, "a list"), (str, "text"), (int, "a number")):
        if isinstance(value, kind):
            return word
    return "empty" if value is None else f"a {type(value).__name__}"


class _Bad(Exception):
    """A problem at a path of the document; _parse adds the line it is on."""

    def __init__(self, path: list[str | int], message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _schema_problem(error: ValidationError) -> _Bad:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next(p for p in error.validator_value if p not in error.instance)
        return _Bad([*path, missing], "is required")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in known)
        return _Bad([*path, extra[0]], f"unknown key; expected {' or '.join(known)}")
    if error.validator == "type":
        wanted = [error.validator_value] if isinstance(error.validator_value, str) else error.validator_value
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        hint = " (put the value in quotes)" if path and path[-1] == "value" else ""
        return _Bad(path, f"must be {words}, not {_kind(error.instance)}{hint}")
    if error.validator == "maxItems":
        return _Bad(path, f"at most {error.validator_value} entries")
    return _Bad(path, error.message)


def _check_expansion(root: yaml.Node | None) -> None:
    """Refuse a document whose aliases expand past MAX_YAML_VALUES values, or contain themselves."""
    try:
        values = expanded_size(root, MAX_YAML_VALUES)
    except AliasLoop as loop:
        raise HeadersInvalid(str(loop)) from None
    if values > MAX_YAML_VALUES:
        raise HeadersInvalid(f"the headers expand to more than {MAX_YAML_VALUES:,} values through YAML aliases")


def _load(text: str) -> tuple[yaml.Node | None, Any]:
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise HeadersInvalid(f"the custom headers are larger than {MAX_TEXT_BYTES // 1024} KiB")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _check_expansion(node)
        return node, yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        context = error.context_mark
        # "found unexpected end of stream" alone hides where the unclosed quote began.
        started = (
            f" ({error.context} at line {context.line + 1}, column {context.column + 1})" if context and error.context else ""
        )
        raise HeadersInvalid(f"{where}not valid YAML: {error.problem or error.context or error}{started}") from None
    except yaml.YAMLError as error:
        raise HeadersInvalid(f"not valid YAML: {error}") from None
    except RecursionError:
        raise HeadersInvalid("the YAML is nested too deeply") from None


def _forbidden_reason(name: str) -> str | None:
    lower = name.lower()
    if lower in FORBIDDEN_HEADERS:
        return FORBIDDEN_HEADERS[lower]
    return next((why for prefix, why in FORBIDDEN_PREFIXES.items() if lower.startswith(prefix)), None)


def _header(path: list[str | int], entry: dict[str, Any]) -> tuple[str, str]:
    name, value = entry["key"], entry["value"]
    if len(name) > MAX_NAME_LENGTH or not _TOKEN.fullmatch(name):
        raise _Bad([*path, "key"], f"{name[:80]!r} is not a header name (letters, digits and !#$%&'*+.^_`|~-)")
    if reason := _forbidden_reason(name):
        raise _Bad([*path, "key"], f"{name} cannot be set: {reason}")
    text = str(value).strip(" \t")
    if _CONTROL.search(text):
        raise _Bad([*path, "value"], "control characters (line breaks among them) are not allowed in a header")
    if len(text.encode("utf-8")) > MAX_VALUE_BYTES:
        raise _Bad([*path, "value"], f"longer than {MAX_VALUE_BYTES // 1024} KiB")
    return name, text


def _rules(path: list[str | int], entries: list[dict[str, Any]] | None) -> tuple[HeaderRule, ...]:
    rules = []
    for index, entry in enumerate(entries or []):
        if _CONTROL.search(entry["pattern"]):
            raise _Bad([*path, index, "pattern"], "control characters are not allowed")
        headers = tuple(_header([*path, index, "headers", n], h) for n, h in enumerate(entry["headers"]))
        rules.append(HeaderRule(pattern=entry["pattern"], headers=headers))
    return tuple(rules)


def _same_root(a: str, b: str) -> bool:
    return a.strip("/") == b.strip("/")


def _select(document: dict[str, Any], app_root: str | None) -> tuple[HeaderRule, ...]:
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise _schema_problem(errors[0])
    if "customHeaders" in document and "applications" in document:
        raise _Bad(["applications"], "use customHeaders or applications (a monorepo), not both")
    if "applications" not in document:
        return _rules(["customHeaders"], document.get("customHeaders"))
    # Every application is checked, so a mistake is found whichever app saves the file.
    per_root = [
        (app["appRoot"], _rules(["applications", n, "customHeaders"], app.get("customHeaders")))
        for n, app in enumerate(document["applications"])
    ]
    if app_root is None:
        if len(per_root) == 1:
            return per_root[0][1]
        roots = ", ".join(root for root, _ in per_root)
        raise _Bad(["applications"], f"lists several appRoots ({roots}); set AMPLIFY_MONOREPO_APP_ROOT to one")
    return next((rules for root, rules in per_root if _same_root(root, app_root)), ())


@lru_cache(maxsize=64)
def _parse(text: str, app_root: str | None) -> tuple[HeaderRule, ...]:
    node, document = _load(text)
    if document is None:
        return ()
    try:
        return _select(document, app_root)
    except _Bad as bad:
        line = line_of(node, bad.path)
        where = f"line {line}, " if line else ""
        raise HeadersInvalid(f"{where}{dotted_path(bad.path, empty='(top level)')}: {bad.message}") from None


def parse_custom_headers(text: str, *, app_root: str | None = None) -> list[HeaderRule]:
    """The rules of Amplify's customHeaders YAML ("" or only comments: none).

    In the monorepo form only the application whose appRoot is `app_root` counts (none
    listed: no rules); without `app_root`, a single application counts. Raises
    HeadersInvalid naming the line and column, or the path of the bad entry."""
    return list(_parse(text, app_root))


def monorepo_app_root(app: Any) -> str | None:
    """The app's AMPLIFY_MONOREPO_APP_ROOT, which picks its entry of a monorepo's headers."""
    variable = app.environment_variables.filter(name="AMPLIFY_MONOREPO_APP_ROOT", branch__isnull=True).first()
    return str(variable.value) if variable is not None else None


def _segment(segment: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment)


@lru_cache(maxsize=4096)
def _matcher(pattern: str) -> re.Pattern[str]:
    segments = pattern.lstrip("/").split("/")
    parts = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:.*/)?")
        else:
            parts.append(_segment(segment) + ("" if last else "/"))
    anywhere = "" if "/" in pattern else "(?:.*/)?"
    return re.compile(anywhere + "".join(parts), re.DOTALL)


def pattern_matches(pattern: str, path: str) -> bool:
    return _matcher(pattern).fullmatch(path.lstrip("/")) is not None


def headers_for(rules: Sequence[HeaderRule], path: str) -> list[tuple[str, str]]:
    """The headers for the served path ("/docs/index.html"): every matching rule in order,
    a later value replacing an earlier one of the same name (any case), in first-set order."""
    chosen: dict[str, tuple[str, str]] = {}
    for rule in rules:
        if pattern_matches(rule.pattern, path):
            for name, value in rule.headers:
                chosen[name.lower()] = (name, value)
    return list(chosen.values())


_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _read_regular(folder: Path, name: str) -> str | None:
    path = folder / name
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise HeadersInvalid(f"{name} is a symbolic link: only a regular file is read") from None
        raise HeadersInvalid(f"{name} cannot be read: {error.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise HeadersInvalid(f"{name} is not a regular file")
        data = handle.read(MAX_TEXT_BYTES + 1)
    if info.st_size > MAX_TEXT_BYTES or len(data) > MAX_TEXT_BYTES:
        raise HeadersInvalid(f"{name} is larger than {MAX_TEXT_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HeadersInvalid(f"{name} is not UTF-8 text") from None


def read_custom_http(project_dir: Path, app_root: str) -> str | None:
    """The text of customHttp.yml, or None when the repository has none.

    `project_dir` is the repository's checkout, `app_root` the monorepo appRoot in it ("" for
    none). The app root's own file is read first, then the repository root's (where Amplify
    keeps a monorepo's one file, in the `applications` form). The build wrote these folders:
    a symlink on the way out of them, a FIFO or a file over 64 KiB raises HeadersInvalid."""
    root = project_dir.resolve()
    folders = [root]
    if app_root.strip("/"):
        relative = Path(app_root.strip("/"))
        folder = root / relative
        # Every folder on the way must be itself, not a symlink (out of the checkout or not).
        if ".." in relative.parts or folder.resolve() != folder:
            raise HeadersInvalid(f"appRoot {app_root!r} is not a folder of the repository")
        if folder.is_dir():
            folders.insert(0, folder)
    for folder in folders:
        text = _read_regular(folder, CUSTOM_HTTP_FILE)
        if text is not None:
            return text
    return None


def branches_overriding_headers(app: Any) -> list[Any]:
    """The app's branches whose live deployment brought its own customHttp.yml, which wins."""
    live = app.branches.filter(live_deployment__isnull=False).exclude(live_deployment__custom_headers="")
    return list(live.select_related("live_deployment").order_by("name"))
