"""Where a change came from is recorded once per request (AuditContextMiddleware), so
services take no request: a page's change carries the client's address and user agent,
work outside a request carries none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.test import Client

from apps.branches import services
from console.audit import AuditContext, audit_context, audit_record
from console.models import AuditEvent


def test_a_change_made_through_a_page_records_the_clients_address_and_agent(
    db: None, make_repo: Callable[..., Path], admin_client: Client
) -> None:
    repo = make_repo(("main",))
    response = admin_client.post(
        "/apps/new/",
        {"name": "Shop", "repository": str(repo), "production_branch": "main", "platform": "WEB"},
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT="Mozilla/5.0 (audit test)",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="app.create")
    assert (event.actor_name, event.ip_address, event.user_agent) == ("ada", "198.51.100.23", "Mozilla/5.0 (audit test)")


def test_work_outside_a_request_records_no_address(db: None, make_repo: Callable[..., Path]) -> None:
    services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    event = AuditEvent.objects.get(action="app.create")
    assert (event.actor_name, event.ip_address, event.user_agent) == ("system", None, "")


def test_the_context_ends_with_its_block(db: None) -> None:
    with audit_context(AuditContext(address="203.0.113.5", user_agent="cli")):
        inside = audit_record(actor=None, action="x.inside", target_type="t", target="1")
    after = audit_record(actor=None, action="x.after", target_type="t", target="1")
    assert (inside.ip_address, inside.user_agent) == ("203.0.113.5", "cli")
    assert (after.ip_address, after.user_agent) == (None, "")
