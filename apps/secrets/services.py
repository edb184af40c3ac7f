"""Writing secrets. Every write is audited with the path, never the value."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

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
    *,
    actor: Any,
    scope: Scope,
    name: str,
    value: str,
    kms_key_id: str = "",
    create_only: bool = False,
) -> int:
    """Create or update one secret (only create, with `create_only`); returns its new version."""
    path = scope.path(_name(name))
    if value == "":
        raise ValidationError({"value": "Enter a value."})
    version = ssm.put_value(path, value, kms_key_id=kms_key_id, overwrite=not create_only)
    audit_record(actor=actor, action="secret.set", target_type="secret", target=path, message=f"version {version}")
    return version


def secret_remove(*, actor: Any, scope: Scope, name: str) -> bool:
    path = scope.path(_name(name))
    existed = ssm.delete(path)
    audit_record(
        actor=actor,
        action="secret.remove",
        target_type="secret",
        target=path,
        message="removed" if existed else "was already gone",
    )
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


def secret_reveal(*, actor: Any, scope: Scope, name: str) -> str | None:
    """The value, for an admin who asked for it explicitly; every reveal is audited."""
    path = scope.path(_name(name))
    value = ssm.get_value(path)
    audit_record(
        actor=actor,
        action="secret.reveal",
        target_type="secret",
        target=path,
        outcome="success" if value is not None else "failure",
        message="" if value is not None else "no such secret",
    )
    return value


def secret_copy(*, actor: Any, source: Scope, target: Scope, overwrite: bool = False) -> list[str]:
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
        actor=actor,
        action="secret.copy",
        target_type="secret",
        target=target.prefix,
        message=f"copied {len(copied)} from {source.prefix}: {', '.join(copied)}"[:500],
    )
    return copied


def _write_all(writes: list[tuple[str, str]], *, create_only: frozenset[str] = frozenset()) -> None:
    """Write every (path, value), or none: a failure puts back what was already changed.
    Paths in `create_only` must not exist yet (ssm.ParameterExists otherwise)."""
    done: list[tuple[str, str | None]] = []  # (path, previous value or None)
    try:
        for path, value in writes:
            previous = ssm.get_value(path)
            ssm.put_value(path, value, overwrite=path not in create_only)
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


class SecretChanged(ValidationError):
    """The secret is not what the admin saw in some scope: saved by someone else since, or
    there already. `current` maps each chosen scope's path to its version now (0: none).
    Values are never shown: only versions and times."""

    def __init__(self, name: str, changed: list[tuple[Scope, ssm.ParameterInfo]], current: dict[str, int]) -> None:
        where = "; ".join(
            f"{scope.label} (version {info.version}"
            + (f", saved {info.last_modified:%Y-%m-%d %H:%M:%S %Z}".rstrip() if info.last_modified else "")
            + ")"
            for scope, info in changed
        )
        super().__init__(
            {
                "value": f"{name} already has a value in {where}: someone saved it since you opened this "
                "form, or it was there before. Enter your value again and save to replace it."
            }
        )
        self.current = current


def secret_versions(scopes: list[Scope], name: str) -> dict[str, int]:
    """Each scope's version of the secret (0: none), by path: what an editor sees."""
    return {scope.path(name): (info.version if (info := ssm.version_of(scope.path(name))) else 0) for scope in scopes}


def _check_unchanged(scopes: list[Scope], name: str, replaces: dict[str, int]) -> frozenset[str]:
    """Raise SecretChanged unless every scope holds the version the editor saw (a secret
    removed since may be written again); the paths to create rather than overwrite."""
    changed, current = [], {}
    for scope in scopes:
        path = scope.path(name)
        info = ssm.version_of(path)
        current[path] = info.version if info else 0
        if info is not None and info.version != replaces.get(path, 0):
            changed.append((scope, info))
    if changed:
        raise SecretChanged(name, changed, current)
    return frozenset(path for path, version in current.items() if version == 0)


def secret_set_scopes(
    *,
    actor: Any,
    scopes: list[Scope],
    name: str,
    value: str,
    replaces: dict[str, int] | None = None,
) -> None:
    """One secret in several scopes (one parameter each), all or none. With `replaces` (the
    version the editor saw in each scope, by path; missing: none), nothing is written when
    any scope has changed since (SecretChanged), and one created meanwhile is not
    overwritten. Without it (imports, copies, scripts), the last save wins."""
    _name(name)
    if value == "":
        raise ValidationError({"value": "Enter a value."})
    create_only = _check_unchanged(scopes, name, replaces) if replaces is not None else frozenset()
    try:
        if len(scopes) == 1:
            path = scopes[0].path(name)
            secret_set(actor=actor, scope=scopes[0], name=name, value=value, create_only=path in create_only)
            return
        _write_all([(scope.path(name), value) for scope in scopes], create_only=create_only)
    except ssm.ParameterExists:
        # Someone created it between the check and the write: nothing of ours is left written.
        _check_unchanged(scopes, name, replaces or {})
        raise
    for scope in scopes:
        audit_record(actor=actor, action="secret.set", target_type="secret", target=scope.path(name))


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


def secret_import(*, actor: Any, scopes: list[Scope], text: str) -> list[str]:
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
        actor=actor,
        action="secret.import",
        target_type="secret",
        target=", ".join(s.prefix for s in scopes)[:512],
        message=f"imported {len(names)} names: {', '.join(names)}"[:500],
    )
    return names


def sandbox_secrets_delete(region: str, prefix: str) -> list[str]:
    """Delete every secret under a sandbox's prefix (the sandbox's deletion, which is
    audited as a whole); returns the names deleted."""
    deleted = []
    for info in list(ssm.list_parameters(prefix, region=region)):
        if ssm.delete(info.path, region=region):
            deleted.append(info.name)
    return sorted(deleted)


def sandbox_secrets_seed(package_name: str, identifier: str, values: dict[str, str]) -> list[str]:
    """Write a sandbox's secrets that are not there yet (the demo's; never overwrites one).

    Not audited: no person sets them, as `ampx sandbox secret set` on a developer's machine
    would not be either. The names written, in order."""
    written = []
    scope = Scope.sandbox(package_name, identifier)
    for name, value in values.items():
        path = scope.path(_name(name))
        if ssm.get_value(path) is None:
            ssm.put_value(path, value)
            written.append(name)
    return written
