"""Every Cognito (cognito-idp) call of user management, each translated by `aws_errors`
and then given a message that says what Cognito refused in the page's words.

Lists come a page at a time with Cognito's own tokens (ListUsers' PaginationToken,
NextToken elsewhere); nothing lists a whole pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from apps.users.passwords import PasswordPolicy, policy_from_cognito
from apps.users.pool import EMAIL, PHONE, UserPool
from console.aws import aws_client
from console.aws_errors import AwsError, AwsNotFound, aws_errors

MAX_PAGE = 60  # ListUsers, ListGroups and ListUsersInGroup return at most 60 a page

# Cognito's error codes, said for a person; "{message}" is Cognito's own text.
MESSAGES = {
    "UsernameExistsException": "A user with that sign-in name already exists in this user pool.",
    "AliasExistsException": "Another user already has that email address or phone number.",
    "GroupExistsException": "A group with that name already exists in this user pool.",
    "InvalidPasswordException": "Cognito refused the password: {message}",
    "InvalidParameterException": "Cognito refused a value: {message}",
    "LimitExceededException": "A Cognito limit was reached ({message}); wait a while or ask AWS for a higher quota.",
    "TooManyRequestsException": "Cognito is receiving too many requests; try again in a moment.",
    "UserNotFoundException": "There is no such user in this user pool (any more).",
    "ResourceNotFoundException": "Cognito found no such group or user pool ({message}).",
    "NotAuthorizedException": "Cognito did not allow it: {message}",
    "InvalidLambdaResponseException": "A Lambda trigger of the user pool failed: {message}",
    "UserLambdaValidationException": "A Lambda trigger of the user pool refused it: {message}",
    "CodeDeliveryFailureException": "Cognito could not deliver the message: {message}",
}


# Cognito's UserStatus, in the words the pages use.
STATUS_WORDS = {
    "CONFIRMED": "Confirmed",
    "FORCE_CHANGE_PASSWORD": "Must change password",
    "RESET_REQUIRED": "Password reset required",
    "UNCONFIRMED": "Unconfirmed",
    "EXTERNAL_PROVIDER": "External provider",
    "ARCHIVED": "Archived",
    "COMPROMISED": "Compromised",
}


@dataclass(frozen=True)
class CognitoUser:
    username: str
    status: str  # UserStatus: CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED, ...
    enabled: bool
    created: datetime | None = None
    modified: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def status_text(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)

    @property
    def email(self) -> str:
        return self.attributes.get(EMAIL, "")

    @property
    def phone(self) -> str:
        return self.attributes.get(PHONE, "")


@dataclass(frozen=True)
class Group:
    name: str
    description: str = ""
    precedence: int | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_token: str | None


@dataclass(frozen=True)
class PoolSettings:
    """What DescribeUserPool says about signing up: the sign-in attributes and the policy."""

    name: str
    username_attributes: tuple[str, ...]
    policy: PasswordPolicy
    estimated_users: int | None = None


@contextmanager
def cognito_errors(action: str) -> Iterator[None]:
    """`aws_errors`, with Cognito's codes told in words (the error keeps its class)."""
    try:
        with aws_errors(f"cognito-idp:{action}"):
            yield
    except AwsError as error:
        template = MESSAGES.get(error.code)
        if template is None:
            raise
        cause = error.__cause__
        said = str(cause.response.get("Error", {}).get("Message", "")) if isinstance(cause, ClientError) else ""
        text = template.format(message=said.rstrip(".") or error.code)
        raise type(error)(text, action=error.action, code=error.code) from cause


def _client(pool: UserPool) -> Any:
    return aws_client("cognito-idp", region=pool.region)


def _user(raw: dict[str, Any]) -> CognitoUser:
    attributes = raw.get("Attributes", raw.get("UserAttributes", []))
    return CognitoUser(
        username=str(raw["Username"]),
        status=str(raw.get("UserStatus", "")),
        enabled=bool(raw.get("Enabled", True)),
        created=raw.get("UserCreateDate"),
        modified=raw.get("UserLastModifiedDate"),
        attributes={str(a["Name"]): str(a.get("Value", "")) for a in attributes},
    )


def _group(raw: dict[str, Any]) -> Group:
    precedence = raw.get("Precedence")
    return Group(
        name=str(raw["GroupName"]),
        description=str(raw.get("Description") or ""),
        precedence=int(precedence) if precedence is not None else None,
        created=raw.get("CreationDate"),
    )


def _limited(limit: int, token: str | None, token_name: str) -> dict[str, Any]:
    params: dict[str, Any] = {"Limit": min(max(limit, 1), MAX_PAGE)}
    if token:
        params[token_name] = token
    return params


# The pool


def describe_pool(pool: UserPool) -> PoolSettings:
    with cognito_errors("DescribeUserPool"):
        raw = _client(pool).describe_user_pool(UserPoolId=pool.user_pool_id)["UserPool"]
    attributes = tuple(name for name in (EMAIL, PHONE) if name in raw.get("UsernameAttributes", []))
    estimated = raw.get("EstimatedNumberOfUsers")
    return PoolSettings(
        name=str(raw.get("Name", "")),
        username_attributes=attributes,
        policy=policy_from_cognito(raw.get("Policies", {}).get("PasswordPolicy")),
        estimated_users=int(estimated) if estimated is not None else None,
    )


# Users


def list_users(pool: UserPool, *, limit: int, token: str | None = None, filter_expression: str = "") -> Page[CognitoUser]:
    params = {"UserPoolId": pool.user_pool_id, **_limited(limit, token, "PaginationToken")}
    if filter_expression:
        params["Filter"] = filter_expression
    with cognito_errors("ListUsers"):
        response = _client(pool).list_users(**params)
    return Page([_user(u) for u in response.get("Users", [])], response.get("PaginationToken") or None)


def get_user(pool: UserPool, username: str) -> CognitoUser | None:
    try:
        with cognito_errors("AdminGetUser"):
            return _user(_client(pool).admin_get_user(UserPoolId=pool.user_pool_id, Username=username))
    except AwsNotFound:
        return None


def create_user(pool: UserPool, *, username: str, attributes: dict[str, str], temporary_password: str) -> CognitoUser:
    """A user who must choose a new password at first sign-in. Cognito sends no invitation
    (MessageAction SUPPRESS): the admin hands over the temporary password."""
    with cognito_errors("AdminCreateUser"):
        response = _client(pool).admin_create_user(
            UserPoolId=pool.user_pool_id,
            Username=username,
            TemporaryPassword=temporary_password,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        )
    return _user(response["User"])


def update_attributes(pool: UserPool, username: str, attributes: dict[str, str]) -> None:
    with cognito_errors("AdminUpdateUserAttributes"):
        _client(pool).admin_update_user_attributes(
            UserPoolId=pool.user_pool_id,
            Username=username,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        )


def delete_attributes(pool: UserPool, username: str, names: list[str]) -> None:
    with cognito_errors("AdminDeleteUserAttributes"):
        _client(pool).admin_delete_user_attributes(UserPoolId=pool.user_pool_id, Username=username, UserAttributeNames=names)


def reset_password(pool: UserPool, username: str) -> None:
    with cognito_errors("AdminResetUserPassword"):
        _client(pool).admin_reset_user_password(UserPoolId=pool.user_pool_id, Username=username)


def set_password(pool: UserPool, username: str, password: str, *, permanent: bool) -> None:
    with cognito_errors("AdminSetUserPassword"):
        _client(pool).admin_set_user_password(
            UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=permanent
        )


def disable_user(pool: UserPool, username: str) -> None:
    with cognito_errors("AdminDisableUser"):
        _client(pool).admin_disable_user(UserPoolId=pool.user_pool_id, Username=username)


def enable_user(pool: UserPool, username: str) -> None:
    with cognito_errors("AdminEnableUser"):
        _client(pool).admin_enable_user(UserPoolId=pool.user_pool_id, Username=username)


def delete_user(pool: UserPool, username: str) -> None:
    with cognito_errors("AdminDeleteUser"):
        _client(pool).admin_delete_user(UserPoolId=pool.user_pool_id, Username=username)


def groups_of_user(pool: UserPool, username: str, *, limit: int = MAX_PAGE, token: str | None = None) -> Page[Group]:
    params = {"UserPoolId": pool.user_pool_id, "Username": username, **_limited(limit, token, "NextToken")}
    with cognito_errors("AdminListGroupsForUser"):
        response = _client(pool).admin_list_groups_for_user(**params)
    return Page([_group(g) for g in response.get("Groups", [])], response.get("NextToken") or None)


# Groups


def list_groups(pool: UserPool, *, limit: int, token: str | None = None) -> Page[Group]:
    with cognito_errors("ListGroups"):
        response = _client(pool).list_groups(UserPoolId=pool.user_pool_id, **_limited(limit, token, "NextToken"))
    return Page([_group(g) for g in response.get("Groups", [])], response.get("NextToken") or None)


def get_group(pool: UserPool, name: str) -> Group | None:
    try:
        with cognito_errors("GetGroup"):
            return _group(_client(pool).get_group(UserPoolId=pool.user_pool_id, GroupName=name)["Group"])
    except AwsNotFound:
        return None


def create_group(pool: UserPool, *, name: str, description: str, precedence: int | None) -> Group:
    params: dict[str, Any] = {"UserPoolId": pool.user_pool_id, "GroupName": name}
    if description:
        params["Description"] = description
    if precedence is not None:
        params["Precedence"] = precedence
    with cognito_errors("CreateGroup"):
        return _group(_client(pool).create_group(**params)["Group"])


def delete_group(pool: UserPool, name: str) -> None:
    with cognito_errors("DeleteGroup"):
        _client(pool).delete_group(UserPoolId=pool.user_pool_id, GroupName=name)


def list_members(pool: UserPool, group: str, *, limit: int, token: str | None = None) -> Page[CognitoUser]:
    params = {"UserPoolId": pool.user_pool_id, "GroupName": group, **_limited(limit, token, "NextToken")}
    with cognito_errors("ListUsersInGroup"):
        response = _client(pool).list_users_in_group(**params)
    return Page([_user(u) for u in response.get("Users", [])], response.get("NextToken") or None)


def add_to_group(pool: UserPool, username: str, group: str) -> None:
    with cognito_errors("AdminAddUserToGroup"):
        _client(pool).admin_add_user_to_group(UserPoolId=pool.user_pool_id, Username=username, GroupName=group)


def remove_from_group(pool: UserPool, username: str, group: str) -> None:
    with cognito_errors("AdminRemoveUserFromGroup"):
        _client(pool).admin_remove_user_from_group(UserPoolId=pool.user_pool_id, Username=username, GroupName=group)
