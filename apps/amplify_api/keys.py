"""Access keys for the Amplify-compatible API: create (the secret is shown once),
revoke, and read back a key's secret for signature checks.

Secrets are encrypted with a key derived from SECRET_KEY (Fernet: AES with an HMAC),
so a copy of the database alone does not give them away. Rotating SECRET_KEY makes
every existing key unusable: create new ones after a rotation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.amplify_api.models import AccessKey
from console.audit import audit_record
from console.roles import user_role
from console.sealed import seal, unseal

# AWS key ids are 20 upper-case letters and digits; ours start with AKCN so they are
# easy to tell from real AWS keys (AKIA...) in a script's configuration.
KEY_ID_PREFIX = "AKCN"
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
MAX_ACTIVE_KEYS_PER_USER = 2  # as AWS IAM: enough to rotate without downtime


@dataclass(frozen=True)
class NewKey:
    key: AccessKey
    secret_access_key: str  # shown once, never stored in the clear


_SEALED_AS = "amplify-api-access-keys"


def secret_of(key: AccessKey) -> str | None:
    """The key's secret, or None if it cannot be decrypted (SECRET_KEY changed)."""
    return unseal(_SEALED_AS, key.secret_encrypted)


def _new_key_id() -> str:
    while True:
        key_id = KEY_ID_PREFIX + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))
        if not AccessKey.objects.filter(access_key_id=key_id).exists():
            return key_id


def key_create(*, actor: Any, username: str, description: str = "") -> NewKey:
    """A new key for the user named `username`; ValidationError for an unknown user, a user
    without a console role, or one who already has the most active keys allowed."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"user": f"There is no console user named {username!r}."})
    if not user.is_active or user_role(user) is None:
        raise ValidationError({"user": f"{username!r} has no console role (or is inactive): give them one first."})
    secret = secrets.token_urlsafe(30)[:40]
    with transaction.atomic():
        # Locks the user's row so two concurrent creations cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if AccessKey.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_KEYS_PER_USER:
            raise ValidationError(
                {"user": f"{username!r} already has {MAX_ACTIVE_KEYS_PER_USER} active keys: revoke one before creating another."}
            )
        key = AccessKey.objects.create(
            access_key_id=_new_key_id(),
            secret_encrypted=seal(_SEALED_AS, secret),
            user=user,
            description=description.strip()[:200],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="apikey.create",
            target_type="apikey",
            target=key.access_key_id,
            message=f"created an API access key for {username}",
            detail={"user": username},
        )
    return NewKey(key=key, secret_access_key=secret)


def key_revoke(*, actor: Any, access_key_id: str) -> AccessKey:
    """Revoke the key at once (requests signed with it are refused); harmless if already revoked.
    ValidationError for an unknown key id."""
    key = AccessKey.objects.filter(access_key_id=access_key_id.strip()).select_related("user").first()
    if key is None:
        raise ValidationError({"access_key_id": f"There is no access key {access_key_id.strip()!r}."})
    if key.revoked_at is not None:
        return key
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
        key.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor,
            action="apikey.revoke",
            target_type="apikey",
            target=key.access_key_id,
            message=f"revoked an API access key of {key.user.get_username()}",
            detail={"user": key.user.get_username()},
        )
    return key
