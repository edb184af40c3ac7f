"""The emulator's CloudWatch filter patterns (console/emulator_logs.py): what CloudWatch
refuses is refused, text patterns match as CloudWatch documents them."""

from __future__ import annotations

import pytest

from console.emulator_logs import PatternInvalid, TextPattern, check_pattern


@pytest.mark.parametrize(
    "pattern", ["", "ERROR", '"two words"', "?ERROR ?WARN", "ERROR -timeout", '{ $.level = "error" }', "[ip, user, ...]"]
)
def test_patterns_cloudwatch_takes_pass(pattern: str) -> None:
    check_pattern(pattern)


@pytest.mark.parametrize("pattern", ['"unclosed', "{ $.level = ", "{ }", "[ip, user", "{ level }", "user:pass}", "a(b)"])
def test_patterns_cloudwatch_refuses_are_refused(pattern: str) -> None:
    with pytest.raises(PatternInvalid):
        check_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ("ERROR", "ERROR in handler", True),
        ("ERROR handler", "ERROR in handler", True),
        ("ERROR handler", "ERROR somewhere", False),
        ("?ERROR ?WARN", "WARN slow", True),
        ("?ERROR ?WARN", "INFO fine", False),
        ("ERROR -timeout", "ERROR timeout", False),
        ('"in handler"', "ERROR in handler", True),
        ('"in handler"', "handler in", False),
        ('{ $.level = "x" }', "anything", True),
    ],
)
def test_text_patterns_match_as_documented(pattern: str, message: str, matches: bool) -> None:
    assert TextPattern(pattern).matches(message) is matches
