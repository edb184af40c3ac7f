"""The Cognito user pool a branch's amplify_outputs.json names (its `auth` section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.users.passwords import PasswordPolicy, policy_from_outputs

# What people sign in with: Cognito's UsernameAttributes, or a username when there are none.
EMAIL = "email"
PHONE = "phone_number"
SIGN_IN_WORDS = {EMAIL: "email address", PHONE: "phone number"}


@dataclass(frozen=True)
class UserPool:
    user_pool_id: str
    region: str
    # "email" and/or "phone_number"; empty when people sign in with a username.
    username_attributes: tuple[str, ...] = ()
    policy: PasswordPolicy | None = None  # as the outputs state it; DescribeUserPool's wins

    @property
    def signs_in_with(self) -> str:
        return sign_in_words(self.username_attributes)


def sign_in_words(username_attributes: tuple[str, ...]) -> str:
    """ "email address", "email address or phone number", or "username"."""
    return " or ".join(SIGN_IN_WORDS[a] for a in username_attributes) or "username"


def _username_attributes(raw: Any) -> tuple[str, ...]:
    # The outputs say "email", "phone_number" or "username" (older tools: upper case, "phone").
    names = [str(item).lower() for item in raw] if isinstance(raw, list) else []
    found = [PHONE if name in ("phone", PHONE) else name for name in names]
    return tuple(name for name in (EMAIL, PHONE) if name in found)


def pool_from_outputs(outputs: dict[str, Any] | None) -> UserPool | None:
    """The user pool of an outputs document, or None when it has no auth (or no pool id)."""
    auth = (outputs or {}).get("auth")
    if not isinstance(auth, dict) or not auth.get("user_pool_id") or not auth.get("aws_region"):
        return None
    return UserPool(
        user_pool_id=str(auth["user_pool_id"]),
        region=str(auth["aws_region"]),
        username_attributes=_username_attributes(auth.get("username_attributes")),
        policy=policy_from_outputs(auth.get("password_policy")),
    )
