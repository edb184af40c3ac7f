"""Writing secrets. Every write is audited with the path, never the value."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from apps.secrets import ssm
from apps.secrets.paths import InvalidSecretName, branch_prefix, validate_name
from apps.secrets.scopes import Scope
from console.audit import audit_record
from console.aws_errors import AwsError


def _name(name: str) -> str:
    try:
        return validate_name(name)
    except InvalidSecretName as error:
        raise ValidationError({"name": str(error)}) from None


def secret_set(
    *, actor: Any, scope: Scope, name: str, value: str, kms_key_id: str = "", request: HttpRequest | None = None
) -> int:
    """Create or update one secret; returns its new version."""
    path = scope.path(_name(name))
    if value == "":
        raise ValidationError({"value": "Enter a value."})
    version = ssm.put_value(path, value, kms_key_id=kms_key_id)
    audit_record(
        actor=actor, action="secret.set", target_type="secret", target=path, message=f"version {version}", request=request
    )
    return version


def secret_remove(*, actor: Any, scope: Scope, name: str, request: HttpRequest | None = None) -> bool:
    path = scope.path(_name(name))
    existed = ssm.delete(path)
    audit_record(
        actor=actor, action="secret.remove", target_type="secret", target=path,
        message="removed" if existed else "was already gone", request=request,
    )  # fmt: skip
    return existed


def secrets_remove_branch(*, actor: Any, app_id: str, branch: str) -> int:
    """Remove every secret of one branch (a torn-down preview's); the shared ones stay.

    Returns how many were removed; each removal is audited by path."""
    removed = 0
    for parameter in list(ssm.list_parameters(branch_prefix(app_id, branch), recursive=True)):
        if ssm.delete(parameter.path):
            removed += 1
            audit_record(actor=actor, action="secret.remove", target_type="secret", target=parameter.path)
    return removed


def secret_reveal(*, actor: Any, scope: Scope, name: str, request: HttpRequest | None = None) -> str | None:
    """The value, for an admin who asked for it explicitly; every reveal is audited."""
    path = scope.path(_name(name))
    value = ssm.get_value(path)
    audit_record(
        actor=actor, action="secret.reveal", target_type="secret", target=path,
        outcome="success" if value is not None else "failure", message="" if value is not None else "no such secret",
        request=request,
    )  # fmt: skip
    return value


def secret_copy(
    *, actor: Any, source: Scope, target: Scope, overwrite: bool = False, request: HttpRequest | None = None
) -> list[str]:
    """Copy every secret of `source` to `target`; existing ones are kept unless `overwrite`."""
    values = ssm.values_under(source.prefix)
    existing = {info.name for info in ssm.list_parameters(target.prefix)}
    copied = []
    for name in sorted(values):
        if name in existing and not overwrite:
            continue
        ssm.put_value(target.path(name), values[name])
        copied.append(name)
    audit_record(
        actor=actor, action="secret.copy", target_type="secret", target=target.prefix,
        message=f"copied {len(copied)} from {source.prefix}: {', '.join(copied)}"[:500], request=request,
    )  # fmt: skip
    return copied


def _write_all(writes: list[tuple[str, str]]) -> None:
    """Write every (path, value), or none: a failure puts back what was already changed."""
    done: list[tuple[str, str | None]] = []  # (path, previous value or None)
    try:
        for path, value in writes:
            previous = ssm.get_value(path)
            ssm.put_value(path, value)
            done.append((path, previous))
    except AwsError:
        # Undo every step even if one undo fails; the first error is the one reported.
        for path, previous in reversed(done):
            with contextlib.suppress(AwsError):
                if previous is None:
                    ssm.delete(path)
                else:
                    ssm.put_value(path, previous)
        raise


def secret_set_scopes(*, actor: Any, scopes: list[Scope], name: str, value: str, request: HttpRequest | None = None) -> None:
    """One secret in several scopes (one parameter each), all or none."""
    _name(name)
    if value == "":
        raise ValidationError({"value": "Enter a value."})
    if len(scopes) == 1:
        secret_set(actor=actor, scope=scopes[0], name=name, value=value, request=request)
        return
    _write_all([(scope.path(name), value) for scope in scopes])
    for scope in scopes:
        audit_record(actor=actor, action="secret.set", target_type="secret", target=scope.path(name), request=request)


@dataclass(frozen=True)
class EnvEntry:
    line: int
    name: str
    value: str


# One import is a handful of secrets, not a dump: each is a write to every chosen scope.
MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_ENTRIES = 500


def parse_env(text: str) -> tuple[list[EnvEntry], list[str]]:
    """`.env` lines NAME=value (quotes stripped, `export ` allowed, # comments); errors by line."""
    entries: list[EnvEntry] = []
    errors: list[str] = []
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_IMPORT_BYTES:
        return [], [f"the text is {size:,} bytes; an import takes at most {MAX_IMPORT_BYTES // 1024} KB"]
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals:
            errors.append(f"line {number}: expected NAME=value")
            continue
        try:
            validate_name(name)
        except InvalidSecretName as error:
            errors.append(f"line {number}: {error}")
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()  # an unquoted value ends at a comment, as in dotenv
        if value == "":
            errors.append(f"line {number}: {name} has no value")
            continue
        if len(value.encode("utf-8")) > ssm.ADVANCED_TIER_MAX_BYTES:
            errors.append(f"line {number}: the value of {name} is longer than SSM allows ({ssm.ADVANCED_TIER_MAX_BYTES:,} bytes)")
            continue
        if name in seen:
            errors.append(f"line {number}: {name} was already given on line {seen[name]}")
            continue
        seen[name] = number
        entries.append(EnvEntry(number, name, value))
    if not entries and not errors:
        errors.append("no NAME=value lines found")
    if len(entries) > MAX_IMPORT_ENTRIES:
        errors.append(f"{len(entries):,} secrets in one import; at most {MAX_IMPORT_ENTRIES} at a time")
    return entries, errors


def secret_import(*, actor: Any, scopes: list[Scope], text: str, request: HttpRequest | None = None) -> list[str]:
    """Write every entry to every scope, or nothing: invalid input writes nothing, and a
    failed write puts back what this import had already changed."""
    entries, errors = parse_env(text)
    if errors:
        raise ValidationError({"text": errors})
    if not scopes:
        raise ValidationError({"scopes": "Choose where the secrets go."})
    _write_all([(scope.path(entry.name), entry.value) for scope in scopes for entry in entries])
    names = [entry.name for entry in entries]
    audit_record(
        actor=actor, action="secret.import", target_type="secret", target=", ".join(s.prefix for s in scopes)[:512],
        message=f"imported {len(names)} names: {', '.join(names)}"[:500], request=request,
    )  # fmt: skip
    return names
