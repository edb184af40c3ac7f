"""Signing in, with failed attempts limited per username and per client address.

LOGIN_MAX_FAILURES failures for one username, or from one address, within
LOGIN_FAILURE_WINDOW_SECONDS lock that username and that address out for
LOGIN_LOCKOUT_SECONDS: every attempt is refused then, even with the right password,
so guessing gains nothing by going on. Counters live in the cache (Redis in
production, shared by every web process) and count with `add` + `incr`, which are
atomic there. Failures, lockouts and attempts refused during one are audited, never
with the password.

While Redis is unreachable the cache drops writes (console/cache.py), so the limit
fails open for that time, as the webhook rate limit does.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest

from console.audit import audit_record
from console.client_address import client_address
from console.models import AuditEvent

LOCKED_MESSAGE = "Too many failed sign-ins for this user or address. Try again in {wait}."


def _keys(username: str, address: str | None) -> list[str]:
    """The counters' names: the username (case-folded, so "Ada" and "ada" share one;
    hashed, since it is whatever a visitor typed) and the address."""
    digest = hashlib.sha256(username.casefold().encode()).hexdigest()
    return [f"signin:user:{digest}"] + ([f"signin:address:{address}"] if address else [])


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def locked_for(username: str, address: str | None) -> float:
    """Seconds until the username and the address may try again (0: they may now)."""
    now = time.time()
    unlocks = [cache.get(f"{key}:locked-until") or 0.0 for key in _keys(username, address)]
    return max(0.0, *(unlock - now for unlock in unlocks))


def record_failure(username: str, address: str | None) -> bool:
    """Count a failed sign-in; True when it locks the username or the address out."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    locked = False
    for key in _keys(username, address):
        counter = f"{key}:failures"
        # The window starts at the first failure; incr keeps the counter's expiry.
        cache.add(counter, 0, timeout=window)
        try:
            failures = cache.incr(counter)
        except ValueError:  # the window ended between add and incr
            cache.set(counter, 1, timeout=window)
            failures = 1
        if failures >= settings.LOGIN_MAX_FAILURES:
            lockout = settings.LOGIN_LOCKOUT_SECONDS
            cache.set(f"{key}:locked-until", time.time() + lockout, timeout=lockout)
            # Once the lockout is over, the full number of attempts is allowed again.
            cache.delete(counter)
            locked = True
    return locked


def forget_failures(username: str) -> None:
    """A successful sign-in clears its username's failures (not its address's: one
    account of an attacker's own must not reset the limit on guessing others)."""
    cache.delete(f"{_keys(username, None)[0]}:failures")


class SignInForm(AuthenticationForm):
    locked_out = False  # the template shows the lockout's own message instead of "didn't match"

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # a required field is missing: nothing was tried
        address = client_address(self.request) if self.request is not None else None
        wait = locked_for(username, address)
        if wait > 0:
            self._audit("signin.refused", username, AuditEvent.Outcome.DENIED, "refused: too many failed sign-ins")
            self.locked_out = True
            raise forms.ValidationError(LOCKED_MESSAGE.format(wait=_minutes(wait)), code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            locked = record_failure(username, address)
            self._audit("signin.failure", username, AuditEvent.Outcome.FAILURE, "wrong username or password, or inactive")
            if locked:
                lockout = settings.LOGIN_LOCKOUT_SECONDS
                self._audit(
                    "signin.lockout",
                    username,
                    AuditEvent.Outcome.DENIED,
                    f"locked out for {lockout} s after {settings.LOGIN_MAX_FAILURES} failed sign-ins",
                )
            raise
        forget_failures(username)
        return cleaned

    def _audit(self, action: str, username: str, outcome: str, message: str) -> None:
        request: HttpRequest | None = self.request
        audit_record(
            actor=getattr(request, "user", None) if request is not None else None,
            action=action,
            target_type="user",
            target=username[:150],
            outcome=outcome,
            message=message,
        )


class SignInView(LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True
