"""Branch auto-detection patterns: which pushed branches an app picks up.

Amplify Hosting takes a comma-separated list of glob patterns, matched against
whole branch names (case-sensitively, as git compares them):

- `*` matches any run of characters except `/`: `feature/*` matches
  `feature/login` but not `feature/a/b`, and `*` alone matches `main` but not
  `feature/x`.
- `**` matches any run of characters including `/`, possibly empty. It is a
  plain wildcard, not a bash `globstar` path segment, so the slashes written
  around it stay literal: `*/**` needs at least one `/` (it matches
  `feature/x` and `feature/x/y`, not `main`), `feature/**` matches branches
  under `feature/` but not bare `feature`, and `**/hotfix` does not match bare
  `hotfix`. `**` alone matches every branch. Three or more stars act as `**`.
- `?` matches exactly one character except `/`.
- `[abc]`, `[a-z]` and `[!abc]` (or `[^abc]`, as git and bash spell it) are
  character classes as in fnmatch; a `]` right after the opening `[` (or `[!`)
  is a literal member. A class never matches `/`, even `[!a]` or `[+-0]`.
- Everything else is literal, including `.`, `+`, `(`, `#`, `@`, `\\` and
  non-ASCII letters. There is no brace expansion: a comma always separates
  patterns, so `a{1,2}` is the two patterns `a{1` and `2}`.
- Items are trimmed and empty items skipped, so `"main , dev,,feature/*"` is
  three patterns.
- `!pattern` excludes: a branch is picked up when it matches at least one
  inclusion and no exclusion. A list of only exclusions therefore picks up
  nothing, since there is nothing for the exclusions to subtract from.

Invalid patterns (an unclosed `[`, a reversed range such as `[z-a]`, a bare
`!`) raise `PatternError` naming the pattern, so a form can show it verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

# Cache sizes: a poll sees ~50 apps, each with a handful of patterns; these
# bounds keep every live pattern compiled while capping memory if users churn.
_PATTERN_CACHE_SIZE = 1024
_LIST_CACHE_SIZE = 256


class PatternError(ValueError):
    """A branch pattern that cannot be compiled; the message names it."""


@dataclass(frozen=True)
class BranchPatterns:
    """A parsed pattern list; compiled once, when constructed."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]
    # One alternation per side, so a match costs one `fullmatch` per side
    # instead of one per pattern. None means the side has no patterns.
    _include_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _exclude_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: object.__setattr__ is the sanctioned way to fill
        # derived fields; compiling here also validates direct construction.
        object.__setattr__(self, "_include_regex", _compile_any(tuple(self.include)))
        object.__setattr__(self, "_exclude_regex", _compile_any(tuple(self.exclude)))

    def matches(self, branch: str) -> bool:
        """True when the branch matches an inclusion and no exclusion."""
        if self._include_regex is None or not self._include_regex.fullmatch(branch):
            return False
        return self._exclude_regex is None or not self._exclude_regex.fullmatch(branch)

    def filter(self, branches: Iterable[str]) -> list[str]:
        """The matching branches, in the order given."""
        return [branch for branch in branches if self.matches(branch)]


@lru_cache(maxsize=_LIST_CACHE_SIZE)
def parse_patterns(text: str) -> BranchPatterns:
    """Split a comma-separated pattern list into inclusions and exclusions.

    Cached because the result is immutable and every poll re-reads the same
    few settings strings; errors are not cached, they are re-raised each time.
    """
    include: list[str] = []
    exclude: list[str] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("!"):
            exclude.append(_exclusion_body(item))
        else:
            include.append(item)
    # dict.fromkeys drops repeats but keeps the order the user wrote.
    return BranchPatterns(include=tuple(dict.fromkeys(include)), exclude=tuple(dict.fromkeys(exclude)))


def _exclusion_body(item: str) -> str:
    """`! feature/*` -> `feature/*`; a bare `!` is a mistake, not "exclude nothing"."""
    body = item[1:].strip()
    if not body:
        raise PatternError(f"Branch pattern {item!r} is an exclusion with no pattern after '!'.")
    return body


@lru_cache(maxsize=_LIST_CACHE_SIZE)
def _compile_any(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    # Each translation is self-contained (no capturing groups, no anchors), so
    # joining them with | and fullmatching is the same as any(fullmatch).
    return re.compile("|".join(f"(?:{_pattern_regex(pattern).pattern})" for pattern in patterns), re.DOTALL)


@lru_cache(maxsize=_PATTERN_CACHE_SIZE)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regex that fully matches the branch names one pattern names."""
    try:
        return re.compile(_translate(pattern), re.DOTALL)
    except re.error as exc:  # pragma: no cover - _translate emits only escaped literals
        raise PatternError(f"Branch pattern {pattern!r} is invalid: {exc}.") from exc


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            stars = _run_length(pattern, i, "*")
            out.append(".*" if stars > 1 else "[^/]*")
            i += stars
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            regex, i = _translate_class(pattern, i)
            out.append(regex)
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _run_length(pattern: str, start: int, char: str) -> int:
    end = start
    while end < len(pattern) and pattern[end] == char:
        end += 1
    return end - start


def _translate_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the `[...]` at `start`; returns the regex and the index after `]`."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    members: list[str] = []
    first = True
    while True:
        if i >= len(pattern):
            raise PatternError(f"Branch pattern {pattern!r} has an unclosed '[' at position {start + 1}.")
        char = pattern[i]
        # A `]` straight after `[` or `[!` is a member, as in fnmatch, so that
        # `[]a]` can name a bracket; anywhere else it closes the class.
        if char == "]" and not first:
            break
        first = False
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            members.append(_class_range(pattern, char, pattern[i + 2]))
            i += 3
        else:
            members.append(re.escape(char))
            i += 1
    body = "".join(members)
    # The lookahead keeps `/` out even when the set names it or a range or
    # negation spans it, so a class stays inside one path segment like `?`.
    return f"(?!/)[{'^' if negate else ''}{body}]", i + 1


def _class_range(pattern: str, low: str, high: str) -> str:
    # fnmatch silently drops a reversed range; a user typing `[z-a]` more
    # likely made a mistake they would want to hear about.
    if low > high:
        raise PatternError(f"Branch pattern {pattern!r} has a reversed character range {low}-{high}.")
    # re.escape escapes every character that is special inside a set (\ ] ^ -
    # and the & ~ | [ that newer Pythons warn about), so ends stay literal.
    return f"{re.escape(low)}-{re.escape(high)}"
