"""Writing the audit trail. Every mutating service calls `audit_record`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from console.client_address import client_address
from console.models import AuditEvent

if TYPE_CHECKING:
    from console.roles import Role

# Keys whose values must never reach the trail, whatever a caller passes.
_SENSITIVE_KEY = re.compile(r"(value|secret|password|token|credential|key$)", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: REDACTED if _SENSITIVE_KEY.search(str(k)) else redact(v) for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        return [redact(item) for item in detail]
    return detail


def audit_record(
    *,
    actor: Any,
    action: str,
    target_type: str,
    target: str,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    message: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    # No actor is the console itself; an actor not signed in is a visitor (a failed sign-in).
    actor_name = actor.get_username() if authenticated else ("system" if actor is None else "anonymous")
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_name=actor_name,
        action=action,
        target_type=target_type,
        target=target[:1100],
        outcome=outcome,
        message=message[:500],
        detail=redact(detail or {}),
        ip_address=client_address(request) if request is not None else None,
    )


def audit_denied(request: HttpRequest, *, required: Role) -> AuditEvent:
    return audit_record(
        actor=request.user,
        action="permission.denied",
        target_type="page",
        target=request.path,
        outcome=AuditEvent.Outcome.DENIED,
        message=f"needs the {required.group_name} role",
        request=request,
    )
