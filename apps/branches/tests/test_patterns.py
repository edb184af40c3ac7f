"""Branch auto-detection patterns: Amplify's glob semantics plus exclusions."""

from __future__ import annotations

import time

import pytest

from apps.branches.patterns import BranchPatterns, PatternError, parse_patterns

# (patterns, branch, expected)
TABLE: list[tuple[str, str, bool]] = [
    # Literal names match only themselves.
    ("main", "main", True),
    ("main", "mainline", False),
    ("main", "xmain", False),
    # `*` is any run within one segment.
    ("*", "main", True),
    ("*", "feature/x", False),
    ("feature/*", "feature/login", True),
    ("feature/*", "feature/a/b", False),
    ("feature/*", "feature", False),
    ("feature*", "feature-login", True),
    ("feature*", "feature", True),
    ("feature*", "feature/login", False),
    ("*-hotfix", "prod-hotfix", True),
    # `**` spans slashes, and may be empty.
    ("**", "main", True),
    ("**", "feature/a/b/c", True),
    ("*/**", "feature/x", True),
    ("*/**", "feature/x/y", True),
    ("*/**", "main", False),
    ("feature/**", "feature/x", True),
    ("feature/**", "feature/x/y", True),
    ("feature/**", "feature", False),
    ("feature/**", "features/x", False),
    ("**/hotfix", "release/2/hotfix", True),
    ("**/hotfix", "hotfix", False),
    ("release**", "release", True),
    ("release**", "release/1.0/rc", True),
    ("***", "a/b", True),
    # `?` is exactly one character, never `/`.
    ("v?", "v1", True),
    ("v?", "v12", False),
    ("v?", "v", False),
    ("a?b", "a/b", False),
    # Character classes, fnmatch style, never matching `/`.
    ("v[123]", "v2", True),
    ("v[123]", "v4", False),
    ("v[0-9].x", "v7.x", True),
    ("v[0-9].x", "va.x", False),
    ("v[!0-9]", "va", True),
    ("v[!0-9]", "v5", False),
    ("v[^0-9]", "va", True),
    ("a[!x]b", "a/b", False),
    ("a[+-0]b", "a/b", False),
    ("a[+-0]b", "a.b", True),
    ("a[/]b", "a/b", False),
    ("[]]x", "]x", True),
    ("x[a-]", "x-", True),
    # Everything else is literal, regex metacharacters included.
    ("release-1.0", "release-1.0", True),
    ("release-1.0", "release-1x0", False),
    ("release-1.0+(beta)", "release-1.0+(beta)", True),
    ("release-1.0+(beta)", "release-1.00(beta)", False),
    ("fix#12", "fix#12", True),
    ("user@host", "user@host", True),
    # No brace expansion: a comma always separates patterns, even inside {}.
    ("a{1,2}", "a1", False),
    ("a{1,2}", "a{1", True),
    ("$x^|y", "$x^|y", True),
    ("fonctionnalité/*", "fonctionnalité/été", True),
    ("機能/*", "機能/ログイン", True),
    ("功能", "功", False),
    # Lists: spaces around commas and empty items are ignored.
    ("main , dev,feature/*", "dev", True),
    ("main , dev,feature/*", "feature/x", True),
    ("main , dev,feature/*", "staging", False),
    ("main,,dev", "dev", True),
    (" , ,", "main", False),
    ("", "main", False),
    # Case-sensitive, as git branch names are.
    ("main", "Main", False),
    ("Feature/*", "feature/x", False),
    ("v[a-z]", "vA", False),
    # Exclusions subtract from the inclusions.
    ("feature/*, !feature/wip-*", "feature/login", True),
    ("feature/*, !feature/wip-*", "feature/wip-login", False),
    ("**, !dependabot/**", "main", True),
    ("**, !dependabot/**", "dependabot/npm/lodash", False),
    ("**,! main", "main", False),
    ("!feature/wip-*, feature/*", "feature/wip-x", False),
    # A list of only exclusions matches nothing.
    ("!main", "dev", False),
    ("!main", "main", False),
    ("!main, !dev", "feature", False),
]


@pytest.mark.parametrize(("patterns", "branch", "expected"), TABLE)
def test_matches(patterns: str, branch: str, expected: bool) -> None:
    assert parse_patterns(patterns).matches(branch) is expected


def test_parse_splits_inclusions_and_exclusions() -> None:
    parsed = parse_patterns(" main , !feature/wip-*,, feature/* ,main, !  old ")

    assert parsed.include == ("main", "feature/*")
    assert parsed.exclude == ("feature/wip-*", "old")


def test_filter_keeps_input_order() -> None:
    branches = ["zeta", "feature/b", "main", "feature/wip-a", "feature/a", "dev"]

    kept = parse_patterns("main, feature/*, !feature/wip-*, dev").filter(branches)

    assert kept == ["feature/b", "main", "feature/a", "dev"]


def test_filter_accepts_any_iterable() -> None:
    assert parse_patterns("*").filter(name for name in ("main", "a/b", "dev")) == ["main", "dev"]


def test_direct_construction_compiles_and_validates() -> None:
    patterns = BranchPatterns(include=("release/*",), exclude=("release/old",))

    assert patterns.filter(["release/new", "release/old", "main"]) == ["release/new"]
    with pytest.raises(PatternError, match=r"'v\[1'"):
        BranchPatterns(include=("v[1",), exclude=())


def test_equal_lists_compare_equal() -> None:
    assert parse_patterns("main, !dev") == BranchPatterns(include=("main",), exclude=("dev",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("main, feature/[abc", r"Branch pattern 'feature/\[abc' has an unclosed '\[' at position 9"),
        ("v[", r"'v\[' has an unclosed '\['"),
        ("v[!]", r"'v\[!\]' has an unclosed '\['"),
        ("!release/[", r"'release/\[' has an unclosed '\['"),
        ("v[z-a]", r"'v\[z-a\]' has a reversed character range z-a"),
        ("main, !", r"Branch pattern '!' is an exclusion with no pattern"),
    ],
)
def test_invalid_pattern_names_it(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_patterns(text)


def test_pattern_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        parse_patterns("[")


def test_poll_sized_workload_is_fast() -> None:
    # One poll: 50 apps x 200 branches. Compiling once makes this milliseconds;
    # the bound is loose so a slow CI machine does not flake.
    branches = [f"feature/team-{n}/task-{n}" for n in range(100)] + [f"release-{n}.0" for n in range(100)]
    texts = [f"main, release-*, feature/**, !feature/team-{app}/*" for app in range(50)]

    start = time.perf_counter()
    total = sum(len(parse_patterns(text).filter(branches)) for text in texts)
    elapsed = time.perf_counter() - start

    assert total == 50 * 200 - 50
    assert elapsed < 1.0
