"""Backend identifiers exactly as `@aws-amplify/platform-core` computes them.

stack name = amplify-<namespace>-<name>-<type>-<hash>; the hash is taken over the
raw strings, the visible parts are sanitized and cut. Secrets paths (branch and
sandbox) reuse the same pieces, so this is the one implementation.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

DeploymentType = Literal["branch", "sandbox", "standalone"]
DEPLOYMENT_TYPES: tuple[DeploymentType, ...] = ("branch", "sandbox", "standalone")

MAX_STACK_NAME_LENGTH = 128
PREFIX = "amplify"
NUM_DASHES = 4
HASH_LENGTH = 10
MAX_NAME_LENGTH = 50

_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def sanitize(value: str) -> str:
    return _UNSAFE.sub("", value)


def backend_hash(namespace: str, name: str) -> str:
    digest = hashlib.sha512()
    digest.update(namespace.encode("utf-8"))
    digest.update(name.encode("utf-8"))
    return digest.hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class BackendIdentifier:
    namespace: str
    name: str
    type: DeploymentType

    @property
    def hash(self) -> str:
        return backend_hash(self.namespace, self.name)

    @property
    def sanitized_name(self) -> str:
        return sanitize(self.name)[:MAX_NAME_LENGTH]

    @property
    def sanitized_namespace(self) -> str:
        room = MAX_STACK_NAME_LENGTH - len(PREFIX) - len(self.type) - len(self.sanitized_name) - NUM_DASHES - HASH_LENGTH
        return sanitize(self.namespace)[: room - 1]

    @property
    def stack_name(self) -> str:
        return "-".join([PREFIX, self.sanitized_namespace, self.sanitized_name, self.type, self.hash])


def branch_stack_name(app_id: str, branch: str) -> str:
    return BackendIdentifier(app_id, branch, "branch").stack_name


def sandbox_stack_name(package_name: str, identifier: str) -> str:
    return BackendIdentifier(package_name, identifier, "sandbox").stack_name


@dataclass(frozen=True)
class ParsedStackName:
    namespace: str
    name: str
    type: DeploymentType
    hash: str


def parse_stack_name(stack_name: str) -> ParsedStackName | None:
    """The toolchain's reverse mapping: only names of exactly five parts parse."""
    parts = stack_name.split("-")
    if len(parts) != 5 or parts[0] != PREFIX:
        return None
    _, namespace, name, kind, digest = parts
    if kind not in DEPLOYMENT_TYPES:
        return None
    return ParsedStackName(namespace=namespace, name=name, type=kind, hash=digest)  # type: ignore[arg-type]


def deployment_status(stack_status: str) -> str:
    """The toolchain's mapping of a CloudFormation stack status to a deployment status."""
    if stack_status == "DELETE_COMPLETE":
        return "DELETED"
    if stack_status == "DELETE_IN_PROGRESS":
        return "DELETING"
    if stack_status.endswith("_FAILED") or stack_status.endswith("ROLLBACK_COMPLETE"):
        return "FAILED"
    if stack_status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"):
        return "DEPLOYED"
    if stack_status.endswith("_IN_PROGRESS"):
        return "DEPLOYING"
    return "UNKNOWN"
