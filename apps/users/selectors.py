"""Reads for user management: the pool's rules, a page of users or groups, a user,
and people found by what an admin typed (email, phone number or username)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.users import cognito
from apps.users.cognito import CognitoUser, Group, Page, PoolSettings
from apps.users.inputs import Search, email_problem, phone_problem, quoted, username_problem
from apps.users.pool import EMAIL, PHONE, UserPool
from console.aws_errors import AwsAccessDenied


def pool_settings(pool: UserPool) -> PoolSettings:
    """DescribeUserPool's sign-in attributes and password policy; the outputs' when the
    console may not describe the pool (the outputs state both as deployed)."""
    try:
        return cognito.describe_pool(pool)
    except AwsAccessDenied:
        if pool.policy is None:
            raise
        return PoolSettings(name="", username_attributes=pool.username_attributes, policy=pool.policy)


@dataclass(frozen=True)
class UsersPage:
    users: list[CognitoUser]
    next_token: str | None
    left_out: int = 0  # returned by Cognito but not matching the search as typed


def users_page(pool: UserPool, *, search: Search | None, size: int, token: str | None) -> UsersPage:
    page = cognito.list_users(pool, limit=size, token=token, filter_expression=search.filter() if search else "")
    if search is None:
        return UsersPage(page.items, page.next_token)
    kept = [u for u in page.items if search.matches(u.username, u.attributes)]
    return UsersPage(kept, page.next_token, left_out=len(page.items) - len(kept))


@dataclass(frozen=True)
class UserDetail:
    user: CognitoUser
    groups: list[Group]
    more_groups: bool


def user_detail(pool: UserPool, username: str) -> UserDetail | None:
    user = cognito.get_user(pool, username) if username else None
    if user is None:
        return None
    groups = cognito.groups_of_user(pool, user.username)
    return UserDetail(user, groups.items, groups.next_token is not None)


def group_get(pool: UserPool, name: str) -> Group | None:
    return cognito.get_group(pool, name) if name else None


def groups_page(pool: UserPool, *, size: int, token: str | None) -> Page[Group]:
    return cognito.list_groups(pool, limit=size, token=token)


def members_page(pool: UserPool, group: str, *, size: int, token: str | None) -> Page[CognitoUser]:
    return cognito.list_members(pool, group, limit=size, token=token)


# Finding people by what was typed, one per line


@dataclass
class Found:
    users: dict[str, CognitoUser] = field(default_factory=dict)  # line -> the one user it names
    missing: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)  # names more than one user
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (line, why)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.ambiguous or self.invalid)


def _by_attribute(pool: UserPool, name: str, value: str) -> list[CognitoUser]:
    page = cognito.list_users(pool, limit=cognito.MAX_PAGE, filter_expression=f'{name} = "{quoted(value)}"')
    # Compared again here: only an exact match counts, however Cognito read the filter.
    return [u for u in page.items if u.attributes.get(name, "").casefold() == value.casefold()]


def find_users(pool: UserPool, lines: list[str]) -> Found:
    """Each line is an email address (has @), a phone number (starts with +) or a username."""
    found = Found()
    for line in lines:
        if "@" in line:
            problem, kind = email_problem(line), EMAIL
        elif line.startswith("+"):
            problem, kind = phone_problem(line), PHONE
        else:
            problem, kind = username_problem(line), "username"
        if problem:
            found.invalid.append((line, problem))
            continue
        if kind == "username":
            user = cognito.get_user(pool, line)
            matches = [user] if user is not None else []
        else:
            matches = _by_attribute(pool, kind, line)
        if not matches:
            found.missing.append(line)
        elif len({u.username for u in matches}) > 1:
            found.ambiguous.append(line)
        else:
            found.users[line] = matches[0]
    return found
