"""Writes to a pool's users, each checked before Cognito is called and audited after.

Audit events name the user and what changed (attribute names, never their values,
and never a password). A write that needs two calls undoes the first when the second
fails, so a refused request leaves the pool as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.users import cognito
from apps.users.cognito import CognitoUser
from apps.users.demo import ensure_demo_users as ensure_demo_users
from apps.users.inputs import (
    InputInvalid,
    attribute_name_problem,
    attribute_value_problem,
    email_problem,
    group_name_problem,
    phone_problem,
    username_problem,
)
from apps.users.pool import EMAIL, PHONE, SIGN_IN_WORDS, UserPool, sign_in_words
from apps.users.selectors import pool_settings
from console.audit import audit_record
from console.aws_errors import AwsError

CONFIRMATION = "Delete"  # typed to delete a user or a group
VERIFIED_FLAGS = ("email_verified", "phone_number_verified")
READ_ONLY_ATTRIBUTES = ("sub", "identities")


def audit(
    *,
    actor: Any,
    action: str,
    pool: UserPool,
    target: str,
    detail: dict[str, Any],
    outcome: str = "success",
    message: str = "",
) -> None:
    audit_record(
        actor=actor,
        action=f"users.{action}",
        target_type="cognito",
        target=f"{pool.user_pool_id}/{target}",
        outcome=outcome,
        message=message,
        detail={"user_pool": pool.user_pool_id, **detail},
    )


@dataclass(frozen=True)
class NewUser:
    email: str = ""
    phone: str = ""
    username: str = ""
    temporary_password: str = field(default="", repr=False)
    verified: bool = True  # mark the email address or phone number as verified
    group: str = ""


def _sign_in(username_attributes: tuple[str, ...], new: NewUser) -> tuple[str, dict[str, str]]:
    """(Username for AdminCreateUser, attributes) from the form, by the pool's sign-in rules."""
    email, phone, username = new.email.strip(), new.phone.strip(), new.username.strip()
    for name, value, check in (("email", email, email_problem), ("phone", phone, phone_problem)):
        if value and (problem := check(value)):
            raise InputInvalid(problem, name)
    if not username_attributes:
        if problem := username_problem(username):
            raise InputInvalid(problem, "username")
        sign_in = username
    elif username:
        raise InputInvalid(
            f"People sign in to this pool with their {sign_in_words(username_attributes)}; it has no usernames.", "username"
        )
    else:
        given = {EMAIL: email, PHONE: phone}
        sign_in = next((given[a] for a in username_attributes if given[a]), "")
        if not sign_in:
            wanted = username_attributes[0]
            raise InputInvalid(
                f"Enter the {sign_in_words(username_attributes)} the person signs in with.",
                "email" if wanted == EMAIL else "phone",
            )
    attributes: dict[str, str] = {}
    if email:
        attributes |= {"email": email, "email_verified": "true" if new.verified else "false"}
    if phone:
        attributes |= {"phone_number": phone, "phone_number_verified": "true" if new.verified else "false"}
    return sign_in, attributes


# Cognito's refusals that belong to one field of the form ("sign_in": the one signed in with).
FIELD_OF_ERROR = {
    "UsernameExistsException": "sign_in",
    "AliasExistsException": "email",  # another user has the email address as an alias
    "InvalidPasswordException": "temporary_password",
}


def _sign_in_field(username_attributes: tuple[str, ...], sign_in: str, field_name: str) -> str:
    if field_name != "sign_in":
        return field_name
    if not username_attributes:
        return "username"
    return "phone" if sign_in.startswith("+") else "email"


def user_create(*, actor: Any, pool: UserPool, new: NewUser) -> CognitoUser:
    """Create the user (and put it in `new.group`); if joining the group fails, the user is
    deleted again and the error raised: no half-made user stays behind."""
    rules = pool_settings(pool)
    sign_in, attributes = _sign_in(rules.username_attributes, new)
    if problems := rules.policy.problems(new.temporary_password):
        raise InputInvalid(" ".join(problems), "temporary_password")
    group = new.group.strip()
    if group:  # checked first, so that joining it is unlikely to fail after the user exists
        if problem := group_name_problem(group):
            raise InputInvalid(problem, "group")
        if cognito.get_group(pool, group) is None:
            raise InputInvalid("There is no such group in this user pool.", "group")
    try:
        user = cognito.create_user(pool, username=sign_in, attributes=attributes, temporary_password=new.temporary_password)
    except AwsError as error:
        if field_name := FIELD_OF_ERROR.get(error.code):
            raise InputInvalid(str(error), _sign_in_field(rules.username_attributes, sign_in, field_name)) from error
        raise
    detail = {"username": user.username, "sign_in": sign_in, "group": group}
    if group:
        try:
            cognito.add_to_group(pool, user.username, group)
        except AwsError as error:
            undone = _undo_create(pool, user.username)
            audit(
                actor=actor,
                action="user_create",
                pool=pool,
                target=user.username,
                detail=detail,
                outcome="failure",
                message=f"adding to {group} failed; {'deleted again' if undone else 'NOT deleted'}",
            )
            raise AwsError(
                f"Adding the user to {group} failed ({error}), so the user was deleted again; nothing was created."
                if undone
                else f"Adding the user to {group} failed ({error}), and deleting the half-made user {user.username} failed "
                "too: delete it by hand.",
                action=error.action,
                code=error.code,
            ) from error
    audit(actor=actor, action="user_create", pool=pool, target=user.username, detail=detail)
    return user


def _undo_create(pool: UserPool, username: str) -> bool:
    try:
        cognito.delete_user(pool, username)
    except AwsError:
        return False
    return True


def _attribute_changes(pool: UserPool, user: CognitoUser, values: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(attributes to set, attributes to remove): what differs from the user's, checked."""
    sign_in = pool_settings(pool).username_attributes
    updates: dict[str, str] = {}
    removals: list[str] = []
    for name, raw in values.items():
        value = raw if name in VERIFIED_FLAGS else raw.strip()
        if name in READ_ONLY_ATTRIBUTES or value == user.attributes.get(name, ""):
            continue
        if name not in user.attributes and (problem := attribute_name_problem(name)):
            raise InputInvalid(problem, "new_name")
        if problem := attribute_value_problem(name, value):
            raise InputInvalid(problem, name)
        if value:
            updates[name] = value
        elif name in sign_in:
            raise InputInvalid(f"People sign in with their {SIGN_IN_WORDS[name]}: it cannot be removed.", name)
        else:
            removals.append(name)
    return updates, removals


def user_attributes_update(*, actor: Any, pool: UserPool, username: str, values: dict[str, str]) -> list[str]:
    """Set changed attributes and remove emptied ones; the names changed ([] for none)."""
    user = cognito.get_user(pool, username)
    if user is None:
        raise InputInvalid("There is no such user in this user pool (any more).")
    updates, removals = _attribute_changes(pool, user, values)
    if updates:
        cognito.update_attributes(pool, user.username, updates)
    if removals:
        try:
            cognito.delete_attributes(pool, user.username, removals)
        except AwsError as error:
            _restore_attributes(pool, user, list(updates))
            raise AwsError(
                f"Nothing was changed: removing {', '.join(removals)} failed ({error}).", action=error.action, code=error.code
            ) from error
    changed = sorted([*updates, *removals])
    if changed:
        audit(
            actor=actor,
            action="user_attributes",
            pool=pool,
            target=user.username,
            detail={"username": user.username, "set": sorted(updates), "removed": removals},
        )
    return changed


def _restore_attributes(pool: UserPool, user: CognitoUser, names: list[str]) -> None:
    """Put back what an update changed before a later call failed (best effort)."""
    old = {n: user.attributes[n] for n in names if n in user.attributes}
    added = [n for n in names if n not in user.attributes]
    try:
        if old:
            cognito.update_attributes(pool, user.username, old)
        if added:
            cognito.delete_attributes(pool, user.username, added)
    except AwsError:
        pass  # the error that started this is the one reported


def user_password_reset(*, actor: Any, pool: UserPool, username: str) -> None:
    """AdminResetUserPassword: Cognito sends the user a code to choose a new password."""
    cognito.reset_password(pool, username)
    audit(actor=actor, action="user_password_reset", pool=pool, target=username, detail={"username": username})


def user_password_set(*, actor: Any, pool: UserPool, username: str, password: str) -> None:
    """A new temporary password (Permanent=false): the user chooses their own at next sign-in."""
    if problems := pool_settings(pool).policy.problems(password):
        raise InputInvalid(" ".join(problems), "password")
    try:
        cognito.set_password(pool, username, password, permanent=False)
    except AwsError as error:
        if error.code == "InvalidPasswordException":
            raise InputInvalid(str(error), "password") from error
        raise
    audit(
        actor=actor,
        action="user_temporary_password",
        pool=pool,
        target=username,
        detail={"username": username, "permanent": False},
    )


def user_enabled_set(*, actor: Any, pool: UserPool, username: str, enabled: bool) -> None:
    (cognito.enable_user if enabled else cognito.disable_user)(pool, username)
    audit(
        actor=actor,
        action="user_enable" if enabled else "user_disable",
        pool=pool,
        target=username,
        detail={"username": username},
    )


def user_delete(*, actor: Any, pool: UserPool, username: str, confirmation: str) -> None:
    if confirmation.strip() != CONFIRMATION:
        raise InputInvalid(f"Type {CONFIRMATION} to delete the user. Nothing was deleted.", "confirm")
    cognito.delete_user(pool, username)
    audit(actor=actor, action="user_delete", pool=pool, target=username, detail={"username": username})
