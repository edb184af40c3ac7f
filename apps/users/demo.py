"""Users and groups for the demo branch's user pool: six people at example.com, two of
them disabled and one still to choose a password, in the groups Admins, Editors and
Readers.

`seed_demo_users` is idempotent: it creates only the users (found by email) and groups
the pool lacks, and puts people in groups only when it has just created the person or
the group, so memberships an admin changed by hand stay as they are.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from apps.users import cognito
from apps.users.inputs import quoted
from apps.users.pool import EMAIL, UserPool, pool_from_outputs
from console.aws_errors import AwsError


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    groups: tuple[str, ...] = ()
    enabled: bool = True
    confirmed: bool = True  # False: still has to replace the temporary password


DEMO_GROUPS = (
    ("Admins", "Manage the app's content and its people", 0),
    ("Editors", "Write and publish todos", 10),
    ("Readers", "Read shared todo lists", 20),
)
DEMO_USERS = (
    DemoUser("ana.lima@example.com", "Ana Lima", ("Admins", "Editors")),
    DemoUser("ben.okafor@example.com", "Ben Okafor", ("Editors",)),
    DemoUser("chloe.martin@example.com", "Chloé Martin", ("Editors", "Readers")),
    DemoUser("dev.patel@example.com", "Dev Patel", ("Readers",), confirmed=False),
    DemoUser("emma.schmidt@example.com", "Emma Schmidt", ("Readers",), enabled=False),
    DemoUser("farid.haddad@example.com", "Farid Haddad", (), enabled=False),
)


def _password() -> str:
    # Random, and meets any Cognito policy (up to 99 characters): never shown or kept.
    return secrets.token_urlsafe(24) + "Aa1!"


def _existing(pool: UserPool, email: str) -> str | None:
    """The username of the user with `email`, if the pool has one."""
    page = cognito.list_users(pool, limit=cognito.MAX_PAGE, filter_expression=f'email = "{quoted(email)}"')
    return next((u.username for u in page.items if u.email.casefold() == email.casefold()), None)


def _create(pool: UserPool, person: DemoUser, email_signs_in: bool) -> str:
    sign_in = person.email if email_signs_in else person.email.split("@")[0]
    attributes = {"email": person.email, "email_verified": "true", "name": person.name}
    user = cognito.create_user(pool, username=sign_in, attributes=attributes, temporary_password=_password())
    if person.confirmed:
        cognito.set_password(pool, user.username, _password(), permanent=True)
    if not person.enabled:
        cognito.disable_user(pool, user.username)
    return user.username


def seed_demo_users(user_pool_id: str, region: str) -> int:
    """Create the demo's missing users and groups; how many were created (0: all there)."""
    pool = UserPool(user_pool_id=user_pool_id, region=region)
    email_signs_in = EMAIL in cognito.describe_pool(pool).username_attributes
    new_groups = set()
    for name, description, precedence in DEMO_GROUPS:
        if cognito.get_group(pool, name) is None:
            cognito.create_group(pool, name=name, description=description, precedence=precedence)
            new_groups.add(name)
    new_users = 0
    for person in DEMO_USERS:
        username = _existing(pool, person.email)
        created = username is None
        if username is None:
            username = _create(pool, person, email_signs_in)
            new_users += 1
        for group in person.groups:
            if created or group in new_groups:
                cognito.add_to_group(pool, username, group)
    return new_users + len(new_groups)


def ensure_demo_users(outputs: dict[str, object] | None, say: Callable[[str], None]) -> None:
    """Seed the user pool the outputs name, saying so only when something was created."""
    pool = pool_from_outputs(outputs)
    if pool is None:
        return
    try:
        created = seed_demo_users(pool.user_pool_id, pool.region)
    except AwsError as error:
        say(f"no demo users in {pool.user_pool_id}: {error}")
    else:
        if created:
            say(f"demo users: {created} users and groups created in {pool.user_pool_id}")
