"""An admin wires a build's failures to a receiver in real Chromium: add a webhook, copy the
secret shown once, a failed build's delivery arrives signed with it and is listed on the page,
then the webhook is removed after typing its URL."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.branches import services as branch_services
from apps.builds import jobs
from apps.builds.models import Job
from apps.notifications.models import Subscription
from apps.notifications.tests.conftest import Receiver, receiver
from tests.browser.steps import sign_in

__all__ = ["receiver"]

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its users


def test_admin_adds_a_webhook_a_failed_build_reaches_it_signed_then_it_is_removed(
    page: Page, live_server: Any, admin_user: Any, make_repo: Any, receiver: Receiver, settings: Any
) -> None:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    base = live_server.url
    sign_in(page, base, admin_user.username, PASSWORD)
    page.goto(f"{base}/apps/{app.app_id}/")
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()

    page.get_by_role("radio", name="Webhook").check()
    page.get_by_label("Email address or webhook URL").fill("http://10.1.2.3/hook")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert").filter(has_text="10.1.2.3 is a private address")).to_be_visible()
    assert not Subscription.objects.exists()

    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on 127.0.0.1
    page.get_by_label("Email address or webhook URL").fill(receiver.url)
    page.get_by_role("button", name="Add").click()
    secret = page.get_by_test_id("new-signing-secret").inner_text()
    assert secret.startswith("whsec_")

    # A job a worker has claimed (not job_start: its eager task would run a real build here).
    job = Job.objects.create(
        branch=app.branches.get(name="main"), job_id=1, job_type=Job.Type.MANUAL, status=Job.Status.PROVISIONING
    )
    jobs.job_finish(job.pk, Job.Status.FAILED, reason="The command exited with 1")
    assert len(receiver.received) == 1, [json.loads(b) for _, b in receiver.received]
    [(headers, body)] = receiver.received
    expected = hmac.new(secret.encode(), headers["X-Console-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Console-Signature"] == f"sha256={expected}"
    assert json.loads(body)["status"] == "FAILED"

    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    row = page.locator("#deliveries").get_by_role("row").filter(has_text=f"main #{job.job_id}")
    expect(row).to_contain_text("Build failed")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("HTTP 200")

    page.get_by_role("link", name=f"Edit {receiver.url}").click()
    page.get_by_label("Type the address or URL to confirm").fill(receiver.url)
    page.get_by_role("button", name="Remove subscription").click()
    expect(page.get_by_role("status").filter(has_text="removed")).to_be_visible()
    assert not Subscription.objects.exists()
