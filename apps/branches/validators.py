"""Rules for values users type, shared by forms, services and the API."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from apps.branches.git import is_valid_branch_name

APP_ID_PATTERN = re.compile(r"^d[a-z0-9]{13}$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_NAME_MAX_LENGTH = 255
ENV_VALUE_MAX_LENGTH = 5500
PACKAGE_NAME_PATTERN = re.compile(r"^(@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$")


def validate_env_name(name: str) -> None:
    if not name:
        raise ValidationError("Enter a variable name.", code="required")
    if len(name) > ENV_NAME_MAX_LENGTH:
        raise ValidationError(f"Variable names are at most {ENV_NAME_MAX_LENGTH} characters.", code="too_long")
    if name.upper().startswith("AWS"):
        raise ValidationError(
            f"{name!r} starts with AWS; names starting with AWS are reserved for Amplify's own build variables.",
            code="reserved",
        )
    if not ENV_NAME_PATTERN.match(name):
        raise ValidationError(
            f"{name!r} is not a valid name: use letters, digits and underscores, not starting with a digit.",
            code="invalid",
        )


def validate_env_value(value: str) -> None:
    if len(value) > ENV_VALUE_MAX_LENGTH:
        raise ValidationError(
            f"The value is {len(value):,} characters long; the limit is {ENV_VALUE_MAX_LENGTH:,}.",
            code="too_long",
        )


def validate_branch_name(name: str) -> None:
    if not is_valid_branch_name(name):
        raise ValidationError(f"{name!r} is not a valid git branch name.", code="invalid")


def validate_package_name(name: str) -> None:
    if name and (len(name) > 214 or not PACKAGE_NAME_PATTERN.match(name)):
        raise ValidationError(
            f"{name!r} is not a valid package.json name (lowercase, digits, - . _ ~, optional @scope/).",
            code="invalid",
        )


NODE_VERSION_PATTERN = re.compile(r"^[1-9][0-9]{0,2}$")


def validate_node_version(value: str) -> None:
    """A Node.js major (22), as the app and branch settings take it; "" is the default."""
    if value and not NODE_VERSION_PATTERN.match(value):
        raise ValidationError(
            f"{value!r} is not a Node.js major version: enter a number such as 22, or leave it empty for the default.",
            code="invalid",
        )
