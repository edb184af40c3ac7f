"""An app's build path filters: which changed files are worth an automatic build.

One glob per line (or comma-separated), matched against paths relative to the repository
root, with the branch patterns' wildcards (`*` and `?` stay inside one folder, `**` crosses
folders, `[...]` classes):

- `apps/web/` (a trailing `/`) and `apps/web` (no wildcard) name a folder: every file under
  it (the latter also a file of that name);
- a leading `**/` also matches at the root: `**/*.md` matches `README.md` and `docs/a.md`;
- `!glob` excludes; a file counts when it matches an inclusion (any file, if there are only
  exclusions) and no exclusion.

An empty filter means "build always".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from apps.branches.patterns import PatternError, _translate

MAX_FILTERS = 50
MAX_FILTER_LENGTH = 300
_WILDCARDS = re.compile(r"[*?\[]")


class PathFilterError(ValueError):
    """A filter line that cannot be used; the message names it."""


@dataclass(frozen=True)
class PathFilter:
    include: tuple[str, ...]
    exclude: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.include and not self.exclude

    def matches(self, path: str) -> bool:
        path = path.lstrip("/")
        if self.include and not any(_regex(p).fullmatch(path) for p in self.include):
            return False
        return not any(_regex(p).fullmatch(path) for p in self.exclude)

    def describe(self) -> str:
        return ", ".join([*self.include, *(f"!{p}" for p in self.exclude)])


def folder_filter(folder: str) -> PathFilter:
    """Every file under one folder (a monorepo app's appRoot)."""
    folder = folder.strip().strip("/")
    return PathFilter(include=(f"{folder}/",) if folder else (), exclude=())


@lru_cache(maxsize=256)
def parse_path_filters(text: str) -> PathFilter:
    include: list[str] = []
    exclude: list[str] = []
    items = [item.strip() for line in text.splitlines() for item in line.split(",")]
    for item in filter(None, items):
        negated = item.startswith("!")
        body = item[1:].strip() if negated else item
        if not body.lstrip("/"):
            raise PathFilterError(f"Path filter {item!r} names no path.")
        if len(body) > MAX_FILTER_LENGTH:
            raise PathFilterError(f"Path filter {item[:40]!r}… is longer than {MAX_FILTER_LENGTH} characters.")
        if ".." in body.split("/"):
            raise PathFilterError(f"Path filter {item!r} leaves the repository (..): paths are relative to its root.")
        try:
            _regex(body)
        except PatternError as error:
            raise PathFilterError(str(error).replace("Branch pattern", "Path filter")) from None
        (exclude if negated else include).append(body)
    if len(include) + len(exclude) > MAX_FILTERS:
        raise PathFilterError(f"At most {MAX_FILTERS} path filters.")
    return PathFilter(include=tuple(dict.fromkeys(include)), exclude=tuple(dict.fromkeys(exclude)))


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.lstrip("/")
    if pattern.endswith("/"):
        return re.compile(re.escape(pattern) + ".*" if not _WILDCARDS.search(pattern) else _translate(pattern) + ".*", re.DOTALL)
    if not _WILDCARDS.search(pattern):
        return re.compile(re.escape(pattern) + "(?:/.*)?", re.DOTALL)
    if pattern.startswith("**/"):
        return re.compile("(?:.*/)?" + _translate(pattern[3:]), re.DOTALL)
    return re.compile(_translate(pattern), re.DOTALL)
