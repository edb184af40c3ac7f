"""Writing the audit trail. Every mutating service calls `audit_record`.

Where a change came from (the client's address, its user agent) is the audit context:
AuditContextMiddleware sets it once per request, so services take no request to pass
along; work outside a request (a task, a command) has none, and records none."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse

from console.client_address import client_address
from console.models import AuditEvent

if TYPE_CHECKING:
    from console.roles import Role

# Keys whose values must never reach the trail, whatever a caller passes.
_SENSITIVE_KEY = re.compile(r"(value|secret|password|token|credential|key$)", re.IGNORECASE)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class AuditContext:
    address: str | None = None
    user_agent: str = ""


_CONTEXT: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext())  # noqa: B039 (frozen, never mutated)


@contextmanager
def audit_context(context: AuditContext) -> Iterator[None]:
    token = _CONTEXT.set(context)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def context_of(request: HttpRequest) -> AuditContext:
    return AuditContext(address=client_address(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])


class AuditContextMiddleware:
    """Every audit event written while a request is served says where it came from."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(context_of(request)):
            return self.get_response(request)


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
) -> AuditEvent:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    # No actor is the console itself; an actor not signed in is a visitor (a failed sign-in).
    actor_name = actor.get_username() if authenticated else ("system" if actor is None else "anonymous")
    context = _CONTEXT.get()
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_name=actor_name,
        action=action,
        target_type=target_type,
        target=target[:1100],
        outcome=outcome,
        message=message[:500],
        detail=redact(detail or {}),
        ip_address=context.address,
        user_agent=context.user_agent,
    )


def audit_denied(request: HttpRequest, *, required: Role) -> AuditEvent:
    return audit_record(
        actor=request.user,
        action="permission.denied",
        target_type="page",
        target=request.path,
        outcome=AuditEvent.Outcome.DENIED,
        message=f"needs the {required.group_name} role",
    )
