"""SSM parameter paths exactly where the real `ampx` toolchain reads secrets.

shared:  /amplify/shared/<appId>/<NAME>
branch:  /amplify/<appId>/<branch>-branch-<hash>/<NAME>
sandbox: /amplify/<package>/<identifier>-sandbox-<hash>/<NAME>

The branch and sandbox parts are the stack name's parts (sanitized, cut and hashed
the same way), so `console.amplify_names` is the one source of both.
"""

from __future__ import annotations

import re

from console.amplify_names import BackendIdentifier

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
# SSM allows 1011 characters for a parameter name's last part; keep a margin for the prefix.
MAX_NAME_LENGTH = 512


class InvalidSecretName(ValueError):
    pass


def validate_name(name: str) -> str:
    if not name:
        raise InvalidSecretName("Enter a secret name.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidSecretName(f"Secret names are at most {MAX_NAME_LENGTH} characters.")
    if not NAME_PATTERN.match(name):
        raise InvalidSecretName(f"{name!r} is not a valid secret name: use letters, digits, '_', '.' and '-' only.")
    return name


def shared_prefix(app_id: str) -> str:
    return f"/amplify/shared/{app_id}/"


def _backend_prefix(identifier: BackendIdentifier) -> str:
    return f"/amplify/{identifier.sanitized_namespace}/{identifier.sanitized_name}-{identifier.type}-{identifier.hash}/"


def branch_prefix(app_id: str, branch: str) -> str:
    return _backend_prefix(BackendIdentifier(app_id, branch, "branch"))


def sandbox_prefix(package_name: str, identifier: str) -> str:
    return _backend_prefix(BackendIdentifier(package_name, identifier, "sandbox"))


def shared_path(app_id: str, name: str) -> str:
    return shared_prefix(app_id) + validate_name(name)


def branch_path(app_id: str, branch: str, name: str) -> str:
    return branch_prefix(app_id, branch) + validate_name(name)


def sandbox_path(package_name: str, identifier: str, name: str) -> str:
    return sandbox_prefix(package_name, identifier) + validate_name(name)
