"""Incoming webhooks: managed by admins, triggered by token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from apps.branches.models import App
from apps.builds.models import Job, Webhook
from apps.builds.tasks import process_branch_queue
from apps.builds.tests.builds import make_app
from apps.builds.webhooks import webhook_create
from console.models import AuditEvent


@pytest.fixture
def hooked(db: None, make_repo: Callable[..., Path]) -> tuple[App, Webhook]:
    app = make_app(make_repo)
    return app, webhook_create(actor=None, branch=app.branches.get(name="main"), name="CMS")


def trigger(webhook: Webhook, token: str | None = None, operation: str = "startbuild") -> Any:
    query = f"id={webhook.webhook_id}&operation={operation}"
    if token is not False:
        query += f"&token={webhook.token if token is None else token}"
    return Client().post(f"/webhooks?{query}", data="{}", content_type="application/json")


def test_a_good_token_starts_a_webhook_job_whose_worker_resolves_the_head(
    hooked: tuple[App, Webhook], django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, webhook = hooked

    def no_git_in_a_request(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the webhook call ran git")

    with monkeypatch.context() as patched:
        patched.setattr("apps.branches.git.run_git", no_git_in_a_request)
        response = trigger(webhook)
    job = Job.objects.get()
    head = app.branches.get(name="main")
    assert response.status_code == 202
    assert response.json() == {"jobSummary": {"jobId": "1", "jobType": "WEB_HOOK", "status": "PENDING", "commitId": ""}}
    assert (job.job_type, job.commit_id, job.branch_id, job.triggered_by) == ("WEB_HOOK", "", head.pk, "webhook CMS")
    webhook.refresh_from_db()
    assert webhook.last_triggered_at is not None
    # The worker clones the branch's head and records which commit that was.
    import subprocess

    sha = subprocess.run(
        ["git", "ls-remote", app.repository, "refs/heads/main"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    process_branch_queue(head.pk)
    job.refresh_from_db()
    assert job.commit_id == sha


@pytest.mark.parametrize("token", ["wrong", "", False])
def test_a_wrong_or_missing_token_is_403_and_starts_nothing(hooked: tuple[App, Webhook], token: Any) -> None:
    _, webhook = hooked
    response = trigger(webhook, token=token)
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_an_unknown_webhook_is_403(db: None) -> None:
    response = Client().post("/webhooks?id=00000000-0000-0000-0000-000000000000&token=x&operation=startbuild")
    assert response.status_code == 403


def test_an_unknown_operation_is_400(hooked: tuple[App, Webhook]) -> None:
    _, webhook = hooked
    assert trigger(webhook, operation="stopbuild").status_code == 400
    assert not Job.objects.exists()


def test_get_is_not_allowed(hooked: tuple[App, Webhook]) -> None:
    _, webhook = hooked
    assert Client().get(f"/webhooks?id={webhook.webhook_id}&token={webhook.token}&operation=startbuild").status_code == 405


def test_tokens_are_compared_in_constant_time(hooked: tuple[App, Webhook]) -> None:
    _, webhook = hooked
    with mock.patch("apps.builds.webhooks.hmac.compare_digest", wraps=__import__("hmac").compare_digest) as compare:
        trigger(webhook, token="wrong")
        trigger(webhook)
    assert compare.call_count == 2


def test_webhooks_are_rate_limited(hooked: tuple[App, Webhook], settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.WEBHOOK_RATE_LIMIT_PER_MINUTE = 3
    _, webhook = hooked
    codes = [trigger(webhook).status_code for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    assert Job.objects.count() == 3
    cache.clear()


def test_admin_creates_lists_and_deletes_webhooks(admin_client: Client, hooked: tuple[App, Webhook]) -> None:
    app, existing = hooked
    response = admin_client.post(f"/apps/{app.app_id}/branches/main/webhooks/", {"name": "Nightly"})
    assert response.status_code == 302
    created = Webhook.objects.get(name="Nightly")
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert f"/webhooks?id={created.webhook_id}&amp;token={created.token}&amp;operation=startbuild" in page
    assert AuditEvent.objects.filter(action="webhook.create").exists()
    assert created.token not in str(list(AuditEvent.objects.values()))
    admin_client.post(f"/apps/{app.app_id}/branches/main/webhooks/{existing.webhook_id}/delete/")
    assert list(Webhook.objects.values_list("name", flat=True)) == ["Nightly"]


def test_blank_and_duplicate_names_are_refused(admin_client: Client, hooked: tuple[App, Webhook]) -> None:
    app, _ = hooked
    for name, message in (("  ", "Give the webhook a name"), ("CMS", "already has a webhook named")):
        response = admin_client.post(f"/apps/{app.app_id}/branches/main/webhooks/", {"name": name}, follow=True)
        assert message in response.content.decode()
    assert Webhook.objects.count() == 1


def test_viewers_do_not_see_trigger_urls(viewer_client: Client, hooked: tuple[App, Webhook]) -> None:
    app, webhook = hooked
    page = viewer_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "CMS" in page
    assert webhook.token not in page


def test_the_rate_limit_holds_across_a_minute_boundary(
    hooked: tuple[App, Webhook], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from django.core.cache import cache
    from django.utils import timezone

    cache.clear()
    settings.WEBHOOK_RATE_LIMIT_PER_MINUTE = 3
    _, webhook = hooked
    clock = [datetime(2026, 1, 1, 12, 0, 58, tzinfo=UTC)]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    # Three calls at 12:00:58, two at 12:01:02: five within four seconds, so the last two wait.
    codes = [trigger(webhook).status_code for _ in range(3)]
    clock[0] = datetime(2026, 1, 1, 12, 1, 2, tzinfo=UTC)
    codes += [trigger(webhook).status_code for _ in range(2)]
    assert codes == [202, 202, 202, 429, 429]
    # A minute after the burst the webhook takes calls again.
    clock[0] = datetime(2026, 1, 1, 12, 2, 0, tzinfo=UTC)
    assert trigger(webhook).status_code == 202
    cache.clear()
