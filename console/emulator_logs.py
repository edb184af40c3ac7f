"""The emulator's CloudWatch Logs filter patterns, closer to CloudWatch's than moto's.

moto accepts any filter pattern and matches only one bare term or one quoted phrase
(anything else, `?ERROR ?WARN` included, matches every event). Here, in the emulator's
process only: a pattern CloudWatch would refuse (an unclosed quote, brace or bracket, a
term with characters that need quotes) is refused with InvalidParameterException, as
CloudWatch refuses it; text patterns match as documented (every term, `-term` none of
them, `?term` any of them, quoted phrases). JSON and space-delimited patterns are checked
for balance only and match every event, as moto does.
Importing this module does not import moto.
"""

from __future__ import annotations

import re
from typing import Any

_UNQUOTED_TERM = re.compile(r"^[-?]?[A-Za-z0-9_.*:/@#%+-]+$")


class PatternInvalid(ValueError):
    pass


def _terms(pattern: str) -> list[str]:
    """The pattern's terms, quoted phrases kept whole (with their quotes)."""
    terms: list[str] = []
    current = ""
    quoted = False
    for char in pattern:
        if char == '"':
            quoted = not quoted
            current += char
        elif char.isspace() and not quoted:
            if current:
                terms.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise PatternInvalid(f"Unbalanced quotes in filter pattern '{pattern}'")
    if current:
        terms.append(current)
    return terms


def check_pattern(pattern: str) -> None:
    """PatternInvalid with CloudWatch's kind of message when CloudWatch would refuse it."""
    text = pattern.strip()
    if not text:
        return
    for opening, closing in (("{", "}"), ("[", "]")):
        if text.startswith(opening):
            if not text.endswith(closing) or text.count(opening) != text.count(closing):
                raise PatternInvalid(f"Invalid filter pattern: unbalanced '{opening}' in '{pattern}'")
            if not text[1:-1].strip():
                raise PatternInvalid(f"Invalid filter pattern: nothing between '{opening}' and '{closing}'")
            if opening == "{" and not re.search(r"\$\S*\s*(=|!=|<|>|<=|>=|IS|NOT)", text[1:-1]):
                raise PatternInvalid(f"Invalid filter pattern: expected a selector such as $.key = value in '{pattern}'")
            return
    for term in _terms(text):
        bare = term.lstrip("?-")
        if bare.startswith('"') and bare.endswith('"') and len(bare) >= 2:
            continue
        if not _UNQUOTED_TERM.match(term):
            raise PatternInvalid(f"Invalid character(s) in term '{term}'")


class TextPattern:
    """CloudWatch's text pattern semantics (what moto's EventMessageFilter is replaced by)."""

    def __init__(self, pattern: str) -> None:
        text = (pattern or "").strip()
        self.match_all = not text or text[0] in "{["
        self.required: list[str] = []
        self.excluded: list[str] = []
        self.any_of: list[str] = []
        if self.match_all:
            return
        for term in _terms(text):
            kind, bare = (term[0], term[1:]) if term[0] in "?-" and len(term) > 1 else ("", term)
            if len(bare) >= 2 and bare.startswith('"') and bare.endswith('"'):
                bare = bare[1:-1]
            {"?": self.any_of, "-": self.excluded, "": self.required}[kind].append(bare)

    def matches(self, message: str) -> bool:
        if self.match_all:
            return True
        if self.any_of:
            return any(term in message for term in self.any_of)
        return all(t in message for t in self.required) and not any(t in message for t in self.excluded)


def fix_moto_logs() -> None:
    """Patch moto's CloudWatch Logs, in this process (see the module's docstring)."""
    from moto.logs import models
    from moto.logs.exceptions import InvalidParameterException

    backend = models.LogsBackend
    if getattr(backend.filter_log_events, "checks_patterns", False):
        return
    filter_events = backend.filter_log_events

    def checked(
        self: Any,
        log_group_name: str,
        log_stream_names: Any,
        start_time: Any,
        end_time: Any,
        limit: Any,
        next_token: Any,
        filter_pattern: str,
        interleaved: bool,
    ) -> Any:
        try:
            check_pattern(filter_pattern or "")
        except PatternInvalid as invalid:
            raise InvalidParameterException(str(invalid)) from None
        return filter_events(
            self, log_group_name, log_stream_names, start_time, end_time, limit, next_token, filter_pattern, interleaved
        )

    checked.checks_patterns = True  # type: ignore[attr-defined]
    backend.filter_log_events = checked  # type: ignore[method-assign]
    models.EventMessageFilter = TextPattern  # type: ignore[misc,assignment]
