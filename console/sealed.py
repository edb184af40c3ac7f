"""Values the console must read back but never keep in the clear (API key secrets,
repository credentials): encrypted with a key derived from SECRET_KEY and a purpose
(Fernet: AES with an HMAC), so a copy of the database alone does not give them away.
Rotating SECRET_KEY makes sealed values unreadable: they must be entered again."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet(purpose: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(purpose: str, value: str) -> str:
    return _fernet(purpose).encrypt(value.encode()).decode()


def unseal(purpose: str, sealed: str) -> str | None:
    """The value, or None when it cannot be read (SECRET_KEY changed, or tampered with)."""
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
