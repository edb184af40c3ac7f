"""The audit trail: written by services, readable and filterable by admins only."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from console.audit import REDACTED, audit_record, redact
from console.models import AuditEvent


def test_sensitive_detail_keys_are_redacted(admin_user: Any) -> None:
    event = audit_record(
        actor=admin_user,
        action="secret.update",
        target_type="secret",
        target="/amplify/shared/d123/API_KEY",
        detail={"name": "API_KEY", "value": "s3cr3t", "nested": {"password": "p", "token": "t"}, "items": [{"secret": "x"}]},
    )
    event.refresh_from_db()
    assert event.detail == {
        "name": "API_KEY",
        "value": REDACTED,
        "nested": {"password": REDACTED, "token": REDACTED},
        "items": [{"secret": REDACTED}],
    }
    assert "s3cr3t" not in str(AuditEvent.objects.values_list("detail", "message"))


def test_redact_leaves_plain_values_alone() -> None:
    assert redact({"stage": "BETA", "count": 3}) == {"stage": "BETA", "count": 3}


def test_system_actions_are_recorded_as_system(db: None) -> None:
    event = audit_record(actor=None, action="app.create", target_type="app", target="d1")
    assert event.actor_name == "system"
    assert event.actor is None


def test_admin_can_browse_and_filter_the_audit_log(admin_client: Client, admin_user: Any, viewer_user: Any) -> None:
    audit_record(actor=admin_user, action="app.create", target_type="app", target="dapp1")
    audit_record(actor=viewer_user, action="permission.denied", target_type="page", target="/apps/new/", outcome="denied")
    page = admin_client.get("/audit/")
    assert page.status_code == 200
    assert b"dapp1" in page.content
    assert b"/apps/new/" in page.content
    filtered = admin_client.get("/audit/", {"outcome": "denied"})
    assert b"/apps/new/" in filtered.content
    assert b"dapp1" not in filtered.content
    by_actor = admin_client.get("/audit/", {"actor": "ada"}, headers={"HX-Request": "true"})
    assert b"dapp1" in by_actor.content
    assert b"<html" not in by_actor.content  # htmx gets the table fragment only


def test_audit_log_pages_fifty_events(admin_client: Client, admin_user: Any) -> None:
    for i in range(60):
        audit_record(actor=admin_user, action="app.update", target_type="app", target=f"dapp{i:02d}")
    first = admin_client.get("/audit/")
    assert b"Page 1 of 2" in first.content
    assert b"dapp59" in first.content
    assert b"dapp00" not in first.content
    second = admin_client.get("/audit/", {"page": 2})
    assert b"dapp00" in second.content


def test_viewers_and_operators_cannot_read_the_audit_log(viewer_client: Client, operator_client: Client) -> None:
    assert viewer_client.get("/audit/").status_code == 403
    assert operator_client.get("/audit/").status_code == 403


def test_empty_filters_say_so(admin_client: Client) -> None:
    assert b"No events match these filters." in admin_client.get("/audit/", {"target": "nothing-here"}).content


def test_who_filter_offers_system_and_users_seen_in_the_trail(admin_client: Client, admin_user: Any) -> None:
    audit_record(actor=None, action="app.create", target_type="app", target="dseeded")
    page = admin_client.get("/audit/").content.decode()
    assert re.search(r"<option\s*>system</option>", page)
    assert "dseeded" in admin_client.get("/audit/", {"actor": "system"}).content.decode()
