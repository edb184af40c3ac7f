"""The checks made before any Cognito call: phone numbers, emails, names, the ListUsers
filter a search becomes, the password policy, the pool an outputs document names, and
the signed page cursor."""

from __future__ import annotations

import re

import pytest

from apps.users import paging
from apps.users.inputs import (
    InputInvalid,
    Search,
    email_problem,
    group_name_problem,
    phone_problem,
    search_from,
    username_problem,
)
from apps.users.passwords import PasswordPolicy, policy_from_cognito, policy_from_outputs
from apps.users.pool import pool_from_outputs
from console.cursors import MAX_TRAIL

# One comparison of Cognito's filter grammar: attribute, operator, one quoted string
# in which \\ and \" stand for a backslash and a quote. Anything after it is a second clause.
_COMPARISON = re.compile(r'^(?P<attr>[\w:]+) (?P<op>\^?=) "(?P<value>(?:[^"\\]|\\.)*)"(?P<rest>.*)$', re.DOTALL)


def parsed(expression: str) -> tuple[str, str, str, str]:
    match = _COMPARISON.match(expression)
    assert match is not None, expression
    value = re.sub(r"\\(.)", r"\1", match["value"])
    return match["attr"], match["op"], value, match["rest"]


@pytest.mark.parametrize("phone", ["+14155550123", "+447911123456", "+4930123456", "+1234567"])
def test_e164_phone_numbers_pass(phone: str) -> None:
    assert phone_problem(phone) == ""


@pytest.mark.parametrize(
    "phone",
    ["4155550123", "+0155550123", "+1 415 555 0123", "+1-415-555-0123", "+123456", "+1234567890123456", "+1415555O123", ""],
)
def test_malformed_phone_numbers_are_refused(phone: str) -> None:
    assert "E.164" in phone_problem(phone)


@pytest.mark.parametrize("email", ["a@example.com", "first.last+tag@sub.example.org"])
def test_email_addresses_pass(email: str) -> None:
    assert email_problem(email) == ""


@pytest.mark.parametrize("email", ["a@", "no-at-sign", "a@example.com\n", "a b@example.com", "x" * 250 + "@example.com"])
def test_malformed_email_addresses_are_refused(email: str) -> None:
    assert email_problem(email)


def test_usernames_and_group_names_follow_cognitos_pattern() -> None:
    assert username_problem("ana_lima-1.x@y") == ""
    assert username_problem("Zoë") == ""
    assert username_problem("two words")
    assert username_problem("tab\there")
    assert username_problem("x" * 129)
    assert group_name_problem("Editors") == ""
    assert group_name_problem("Power users")
    assert group_name_problem("")


@pytest.mark.parametrize("text", ['a" or email ^= "', 'x"', "back\\slash", '\\"', 'a\\" or username ^= \\"', '" or "" = "', "\\"])
def test_a_search_stays_one_comparison_with_the_text_as_typed(text: str) -> None:
    search = search_from("email", text)
    assert search is not None
    assert parsed(search.filter()) == ("email", "^=", text, "")


@pytest.mark.parametrize("text", ["a\nb", "a\rb", "a\x00b", "a\u2028b", "a\x1bb"])
def test_a_search_with_control_characters_is_refused(text: str) -> None:
    with pytest.raises(InputInvalid, match="control characters") as refused:
        search_from("email", text)
    assert refused.value.field == "q"


def test_searches_that_cannot_be_made_are_refused() -> None:
    with pytest.raises(InputInvalid, match=r"E\.164"):
        search_from("phone_number", "555 0123")
    with pytest.raises(InputInvalid, match="Choose email"):
        search_from("custom:role", "admin")
    with pytest.raises(InputInvalid, match="too long"):
        search_from("email", '"' * 130)
    assert search_from("email", "   ") is None


def test_only_users_that_really_match_are_kept() -> None:
    search = Search(field="email", text='a" or email ^= "')
    assert not search.matches("u1", {"email": "a@example.com"})
    assert search.matches("u2", {"email": 'A" or email ^= "x@example.com'})
    assert Search(field="username", text="ana").matches("Ana.Lima", {})


def test_the_password_policy_is_checked_like_cognito() -> None:
    policy = PasswordPolicy(min_length=10)
    assert policy.problems("Str0ng!password") == []
    assert policy.problems("short1!A") == ["It needs at least 10 characters (it has 8)."]
    assert policy.problems("alllowercase1!") == ["It needs an uppercase letter (A-Z)."]
    assert policy.problems("NoDigitsHere!") == ["It needs a digit (0-9)."]
    assert policy.problems("NoSymbols123") == ["It needs a symbol such as ! @ # $ % ^ & * - _ + =."]
    assert policy.problems("Inner space 12") == []  # a space inside counts as a symbol
    assert "It may not start or end with a space." in policy.problems(" Leading!12a")
    assert "It may not hold control or invisible formatting characters." in policy.problems("Ctrl\x07Char!12")
    relaxed = PasswordPolicy(min_length=6, require_symbols=False, require_uppercase=False)
    assert relaxed.problems("simple1") == []
    assert policy.rules()[0] == "at least 10 characters"


def test_policies_are_read_from_outputs_and_from_cognito() -> None:
    outputs = {
        "min_length": 12,
        "require_numbers": False,
        "require_lowercase": True,
        "require_uppercase": True,
        "require_symbols": False,
    }
    assert policy_from_outputs(outputs) == PasswordPolicy(12, True, True, False, False)
    assert policy_from_outputs(None) is None
    described = {
        "MinimumLength": 9,
        "RequireUppercase": False,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": False,
    }
    assert policy_from_cognito(described) == PasswordPolicy(9, True, False, True, False)


def test_the_pool_comes_from_the_outputs_auth_section() -> None:
    auth = {
        "aws_region": "eu-west-1",
        "user_pool_id": "eu-west-1_abc",
        "user_pool_client_id": "c",
        "username_attributes": ["phone_number", "email"],
    }
    pool = pool_from_outputs({"version": "1.4", "auth": auth})
    assert pool is not None
    assert (pool.user_pool_id, pool.region, pool.username_attributes) == ("eu-west-1_abc", "eu-west-1", ("email", "phone_number"))
    assert pool.signs_in_with == "email address or phone number"
    assert pool.policy is None
    usernames = pool_from_outputs({"auth": {**auth, "username_attributes": ["username"]}})
    assert usernames is not None
    assert usernames.signs_in_with == "username"
    assert pool_from_outputs({"version": "1.4", "storage": {}}) is None
    assert pool_from_outputs(None) is None
    assert pool_from_outputs({"auth": {"aws_region": "us-east-1"}}) is None


def test_page_cursors_are_signed_and_bound_to_their_list() -> None:
    scope = ["pool", "email", "a", 20]
    cursor = paging.Cursor().next("token-1").next("token-2")
    signed = paging.sign(cursor, scope)
    assert paging.unsign(signed, scope) == cursor
    assert cursor.page_number == 3
    assert cursor.previous() == paging.Cursor(trail=("token-1",))
    with pytest.raises(paging.BadCursor, match="another list"):
        paging.unsign(signed, ["pool", "email", "b", 20])
    with pytest.raises(paging.BadCursor, match="damaged"):
        paging.unsign(signed[:-3] + "xyz", scope)
    long = paging.Cursor()
    for number in range(15):
        long = long.next(f"t{number}")
    assert len(long.trail) == MAX_TRAIL
    assert long.page_number == 16
