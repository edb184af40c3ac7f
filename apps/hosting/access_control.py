"""Changing who may see a site and what headers it sends: password protection and the
app's custom headers. Re-exported by services.py; every change leaves one audit event,
and no audit event ever holds a password or its hash."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.branches.models import App, Branch
from apps.hosting.custom_headers import HeadersInvalid, monorepo_app_root, parse_custom_headers
from apps.hosting.models import BasicAuth, SiteSettings
from apps.hosting.protection import validate_password, validate_username
from console.audit import audit_record


def _target(app: App, branch: Branch | None) -> tuple[str, str]:
    return ("branch", f"{app.app_id}/{branch.name}") if branch is not None else ("app", app.app_id)


def set_basic_auth(
    *,
    actor: Any,
    app: App,
    branch: Branch | None = None,
    enabled: bool,
    username: str | None = None,
    password: str | None = None,
) -> BasicAuth:
    """Turn protection of the app's branches (branch None) or of one branch on or off.

    None keeps the stored username or password; turning it on needs both."""
    if branch is not None and branch.app_id != app.pk:
        raise ValidationError("That branch belongs to another app.")
    errors: dict[str, str] = {}
    if username is not None:
        try:
            validate_username(username)
        except ValueError as error:
            errors["username"] = str(error)
    if password is not None:
        try:
            validate_password(password)
        except ValueError as error:
            errors["password"] = str(error)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = BasicAuth.objects.select_for_update().filter(app=app, branch=branch).first()
        if row is None:
            row = BasicAuth(app=app, branch=branch)
        before = (row.enabled, row.username, row.password_hash)
        row.enabled = enabled
        row.username = username if username is not None else row.username
        if password is not None:
            row.password_hash = make_password(password)
        if enabled and not row.username:
            raise ValidationError({"username": "Set a username to turn password protection on."})
        if enabled and not row.password_hash:
            raise ValidationError({"password": "Set a password to turn password protection on."})
        row.save()
        changed = [
            name
            for name, old, new in zip(
                ("enabled", "username", "password"), before, (row.enabled, row.username, row.password_hash), strict=True
            )
            if old != new
        ]
        target_type, target = _target(app, branch)
        audit_record(
            actor=actor,
            action="hosting.basic_auth.update",
            target_type=target_type,
            target=target,
            message=f"password protection {'on' if enabled else 'off'}",
            # What changed, by name: never the password nor its hash.
            detail={"enabled": enabled, "username": row.username, "changed": changed},
        )
    return row


def clear_branch_basic_auth(*, actor: Any, branch: Branch) -> bool:
    """Drop the branch's own setting: the app's applies to it again. False if it had none."""
    with transaction.atomic():
        deleted, _ = BasicAuth.objects.filter(branch=branch).delete()
        if deleted:
            audit_record(
                actor=actor,
                action="hosting.basic_auth.clear",
                target_type="branch",
                target=f"{branch.app.app_id}/{branch.name}",
                message="the branch follows the app's password protection",
            )
    return bool(deleted)


def set_custom_headers(*, actor: Any, app: App, text: str) -> SiteSettings:
    """Save the app's customHeaders YAML as written, once it parses; "" removes them."""
    text = text.replace("\r\n", "\n")
    try:
        rules = parse_custom_headers(text, app_root=monorepo_app_root(app))
    except HeadersInvalid as error:
        raise ValidationError({"custom_headers": str(error)}) from None
    with transaction.atomic():
        found, _ = SiteSettings.objects.select_for_update().get_or_create(app=app)
        found.custom_headers = text
        found.save(update_fields=["custom_headers", "updated_at"])
        audit_record(
            actor=actor,
            action="hosting.custom_headers.update",
            target_type="app",
            target=app.app_id,
            detail={"rules": len(rules), "bytes": len(text.encode("utf-8"))},
        )
    return found
