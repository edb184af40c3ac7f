"""The Notifications page: admins add, change and remove subscriptions (audited, secrets shown
once), bad input shows why and writes nothing, everyone else reads."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.branches.models import App
from apps.notifications.models import Subscription
from apps.notifications.services import secret_of
from console.models import AuditEvent


def page(app: App) -> str:
    return f"/apps/{app.app_id}/notifications/"


def add(client: Client, app: App, **data: Any) -> Any:
    form = {"kind": "EMAIL", "target": "ops@example.com", "branch": "", "events": ["failed"]} | data
    return client.post(page(app), form)


def test_an_admin_adds_an_email_subscription_for_one_branch(admin_client: Client, shop: App) -> None:
    dev = shop.branches.get(name="dev")
    response = add(admin_client, shop, branch=str(dev.pk), events=["started", "failed"])
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert (subscription.kind, subscription.target, subscription.branch, subscription.events) == (
        "EMAIL",
        "ops@example.com",
        dev,
        ["started", "failed"],
    )
    assert subscription.secret_sealed == ""
    event = AuditEvent.objects.get(action="notification.create")
    assert event.actor_name == "ada"
    assert event.detail["target"] == "ops@example.com"
    assert "Notifications" in response.content.decode()


def test_a_webhook_secret_is_shown_once_sealed_and_never_audited(admin_client: Client, shop: App, loopback_allowed: None) -> None:
    response = add(admin_client, shop, kind="WEBHOOK", target="http://127.0.0.1:9/hook", events=["succeeded"])
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    secret = secret_of(subscription)
    assert secret is not None
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert secret not in subscription.secret_sealed
    assert secret not in str(list(AuditEvent.objects.values()))
    # Never again: not on the page, not on the subscription's own page.
    assert secret not in admin_client.get(page(shop)).content.decode()
    assert secret not in admin_client.get(f"{page(shop)}{subscription.pk}/").content.decode()


def test_rotating_a_secret_shows_the_new_one_once(admin_client: Client, shop: App, loopback_allowed: None) -> None:
    add(admin_client, shop, kind="WEBHOOK", target="http://127.0.0.1:9/hook")
    subscription = Subscription.objects.get()
    old = secret_of(subscription)
    assert old is not None
    response = admin_client.post(f"{page(shop)}{subscription.pk}/rotate-secret/")
    assert response.status_code == 200
    subscription.refresh_from_db()
    new = secret_of(subscription)
    assert new is not None
    assert new != old
    assert new in response.content.decode()
    assert old not in response.content.decode()
    event = AuditEvent.objects.get(action="notification.rotate_secret")
    assert new not in str(event.detail) + event.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "not-an-email"}, "is not an email address"),
        ({"kind": "WEBHOOK", "target": "ftp://example.com/x"}, "Enter an http:// or https:// URL"),
        ({"kind": "WEBHOOK", "target": "http://127.0.0.1:8000/x"}, "127.0.0.1 is a loopback address"),
        ({"kind": "WEBHOOK", "target": "http://10.0.0.7/x"}, "10.0.0.7 is a private address"),
        ({"kind": "WEBHOOK", "target": "http://169.254.169.254/"}, "metadata service"),
        ({"events": []}, "This field is required"),
        ({"events": ["deployed"]}, "not one of the available choices"),
        ({"branch": "999999"}, "not one of the available choices"),
    ],
)
def test_bad_input_shows_the_reason_and_writes_nothing(
    admin_client: Client, shop: App, data: dict[str, Any], message: str
) -> None:
    response = add(admin_client, shop, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscription.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="notification.").exists()


def test_an_admin_edits_a_subscription(admin_client: Client, shop: App) -> None:
    add(admin_client, shop)
    subscription = Subscription.objects.get()
    url = f"{page(shop)}{subscription.pk}/"
    assert admin_client.post(url, {"target": "bad", "branch": "", "events": ["failed"]}).status_code == 400
    subscription.refresh_from_db()
    assert subscription.target == "ops@example.com"
    response = admin_client.post(url, {"target": "team@example.com", "branch": "", "events": ["succeeded", "failed"]})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.target, subscription.events) == ("team@example.com", ["succeeded", "failed"])
    assert AuditEvent.objects.filter(action="notification.update").exists()


def test_removing_needs_the_target_typed(admin_client: Client, shop: App) -> None:
    add(admin_client, shop)
    subscription = Subscription.objects.get()
    url = f"{page(shop)}{subscription.pk}/delete/"
    refused = admin_client.post(url, {"confirm": "someone@else.com"})
    assert refused.status_code == 400
    assert "Type ops@example.com exactly" in refused.content.decode()
    assert Subscription.objects.exists()
    assert admin_client.post(url, {"confirm": "ops@example.com"}).status_code == 302
    assert not Subscription.objects.exists()
    assert AuditEvent.objects.filter(action="notification.delete").exists()


def test_viewers_read_the_page_without_forms(admin_client: Client, viewer_client: Client, shop: App) -> None:
    add(admin_client, shop)
    html = viewer_client.get(page(shop)).content.decode()
    assert "ops@example.com" in html
    assert "Add a subscription" not in html
    assert "Admins add and change subscriptions" in html


def test_the_app_pages_link_to_notifications(viewer_client: Client, shop: App) -> None:
    html = viewer_client.get(f"/apps/{shop.app_id}/hosting/monitoring/").content.decode()
    assert f'href="{page(shop)}"' in html
