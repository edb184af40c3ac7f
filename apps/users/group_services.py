"""Writes to a pool's groups: create, delete after the typed confirmation, add and
remove members. Adding is all or nothing: when any line names nobody (or more than one
person), nobody is added and the page lists those lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.users import cognito
from apps.users.cognito import Group
from apps.users.inputs import InputInvalid, description_problem, group_name_problem, precedence_value
from apps.users.pool import UserPool
from apps.users.selectors import Found, find_users
from apps.users.services import CONFIRMATION, audit
from console.aws_errors import AwsError

MAX_LINES = 50  # people added in one go
MAX_REMOVED = 60  # a page of members


class MembersNotFound(InputInvalid):
    """Some lines name nobody (or several people); `found` says which."""

    def __init__(self, found: Found) -> None:
        parts = []
        if found.missing:
            parts.append(f"no user has {_listed(found.missing)}")
        if found.ambiguous:
            parts.append(f"more than one user has {_listed(found.ambiguous)} (use the username)")
        if found.invalid:
            parts.append("; ".join(f"{line!r} is not valid: {why}" for line, why in found.invalid))
        super().__init__(f"Nobody was added: {'; '.join(parts)}. Correct or remove those lines.", "members")
        self.found = found


def _listed(lines: list[str]) -> str:
    return ", ".join(repr(line) for line in lines)


def group_create(*, actor: Any, pool: UserPool, name: str, description: str, precedence: str) -> Group:
    name, description = name.strip(), description.strip()
    if problem := group_name_problem(name):
        raise InputInvalid(problem, "name")
    if problem := description_problem(description):
        raise InputInvalid(problem, "description")
    rank = precedence_value(precedence)
    try:
        group = cognito.create_group(pool, name=name, description=description, precedence=rank)
    except AwsError as error:
        if error.code == "GroupExistsException":
            raise InputInvalid(str(error), "name") from error
        raise
    audit(
        actor=actor,
        action="group_create",
        pool=pool,
        target=f"group/{name}",
        detail={"group": name, "precedence": rank},
    )
    return group


def group_delete(*, actor: Any, pool: UserPool, name: str, confirmation: str) -> None:
    """Delete the group (its members stay in the pool) once `Delete` was typed."""
    if confirmation.strip() != CONFIRMATION:
        raise InputInvalid(f"Type {CONFIRMATION} to delete the group. Nothing was deleted.", "confirm")
    cognito.delete_group(pool, name)
    audit(actor=actor, action="group_delete", pool=pool, target=f"group/{name}", detail={"group": name})


def member_lines(text: str) -> list[str]:
    """The distinct non-empty lines of the textarea, in order."""
    lines = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if not lines:
        raise InputInvalid("Enter at least one email address, phone number or username, one per line.", "members")
    if len(lines) > MAX_LINES:
        raise InputInvalid(f"Add at most {MAX_LINES} people at once (there are {len(lines)} lines).", "members")
    return lines


@dataclass(frozen=True)
class Added:
    added: list[str]  # usernames
    already: list[str]  # usernames that were members before


def _is_member(pool: UserPool, username: str, group: str) -> bool:
    token: str | None = None
    while True:
        page = cognito.groups_of_user(pool, username, token=token)
        if any(g.name == group for g in page.items):
            return True
        if not page.next_token:
            return False
        token = page.next_token


def group_members_add(*, actor: Any, pool: UserPool, group: str, text: str) -> Added:
    lines = member_lines(text)
    if cognito.get_group(pool, group) is None:
        raise InputInvalid("There is no such group in this user pool (any more).")
    found = find_users(pool, lines)
    if not found.complete:
        raise MembersNotFound(found)
    named: dict[str, str] = {}  # username -> the line that named them; a person named twice is added once
    for line, user in found.users.items():
        named.setdefault(user.username, line)
    already = [name for name in named if _is_member(pool, name, group)]
    added: list[str] = []
    try:
        for name in named:
            if name not in already:
                cognito.add_to_group(pool, name, group)
                added.append(name)
    except AwsError as error:
        failed = next(n for n in named if n not in already and n not in added)
        undo_failed = _undo(cognito.remove_from_group, pool, added, group)
        raise AwsError(
            f"Nobody was added: adding {named[failed]} failed ({error})."
            + (f" Taking back {', '.join(named[n] for n in undo_failed)} failed too." if undo_failed else ""),
            action=error.action,
            code=error.code,
        ) from error
    audit(
        actor=actor,
        action="group_members_add",
        pool=pool,
        target=f"group/{group}",
        detail={"group": group, "added": added, "already": already},
    )
    return Added(added, already)


def group_members_remove(*, actor: Any, pool: UserPool, group: str, usernames: list[str]) -> int:
    usernames = list(dict.fromkeys(u for u in usernames if u))
    if not usernames:
        raise InputInvalid("Select the members to remove first.")
    if len(usernames) > MAX_REMOVED:
        raise InputInvalid(f"Remove at most {MAX_REMOVED} members at once.")
    removed: list[str] = []
    try:
        for name in usernames:
            cognito.remove_from_group(pool, name, group)
            removed.append(name)
    except AwsError as error:
        undo_failed = _undo(cognito.add_to_group, pool, removed, group)
        raise AwsError(
            f"Nobody was removed: removing {usernames[len(removed)]} failed ({error})."
            + (f" Adding back {', '.join(undo_failed)} failed too." if undo_failed else ""),
            action=error.action,
            code=error.code,
        ) from error
    audit(
        actor=actor,
        action="group_members_remove",
        pool=pool,
        target=f"group/{group}",
        detail={"group": group, "removed": removed},
    )
    return len(removed)


def _undo(call: Any, pool: UserPool, usernames: list[str], group: str) -> list[str]:
    """Call add_to_group or remove_from_group for each; the usernames it failed for."""
    failed = []
    for name in usernames:
        try:
            call(pool, name, group)
        except AwsError:
            failed.append(name)
    return failed
