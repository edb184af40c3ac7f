"""Deliveries: a job's start or end queues one per matching subscription; webhooks arrive
signed at a local receiver, failures are retried then shown, redirects are not followed,
private targets are refused again at send time; mail carries the job's link."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from apps.notifications.models import Delivery, Subscription
from apps.notifications.services import subscription_create
from apps.notifications.tests.conftest import Receiver
from console.models import AuditEvent


def started_job(branch: Branch) -> Job:
    """A job claimed by a worker (PROVISIONING), as the runner has it before the clone."""
    job = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PROVISIONING)
    return job


def finish(job: Job, status: str, capture: Any, **extra: Any) -> None:
    with capture(execute=True):
        assert jobs.job_finish(job.pk, status, **extra)


def webhook(app: App, url: str, events: list[str], branch: Branch | None = None) -> tuple[Subscription, str]:
    saved = subscription_create(actor=None, app=app, kind="WEBHOOK", target=url, branch=branch, events=events)
    return saved.subscription, saved.secret


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: HMAC-SHA256 of "<timestamp>.<raw body>" with the secret."""
    expected = hmac.new(secret.encode(), headers["X-Console-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Console-Signature"], f"sha256={expected}")


@pytest.mark.usefixtures("loopback_allowed")
def test_a_failed_build_sends_a_signed_slack_compatible_webhook(
    shop: App, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, secret = webhook(shop, receiver.url, ["failed"])
    main = shop.branches.get(name="main")
    job = started_job(main)
    Job.objects.filter(pk=job.pk).update(commit_id="a" * 40, commit_message="Break the build")
    finish(job, Job.Status.FAILED, django_capture_on_commit_callbacks, reason="Command failed with exit code 1")
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert verify(secret, headers, body)
    assert not verify("whsec_wrong", headers, body)
    assert headers["X-Console-Event"] == "failed"
    document = json.loads(body)
    assert document["text"].startswith(f"Build failed: Shop / main #{job.job_id} (commit aaaaaaaaaaaa)")
    assert document["app"] == {"id": shop.app_id, "name": "Shop"}
    assert (document["branch"], document["job_id"], document["status"]) == ("main", job.job_id, "FAILED")
    assert document["commit"] == {"id": "a" * 40, "message": "Break the build"}
    assert document["job_url"].endswith(f"/apps/{shop.app_id}/branches/main/jobs/{job.job_id}/")
    assert document["reason"] == "Command failed with exit code 1"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code, delivery.subscription) == (
        "SUCCEEDED",
        1,
        200,
        subscription,
    )
    assert secret not in str(list(AuditEvent.objects.values()))


@pytest.mark.usefixtures("loopback_allowed")
def test_only_the_chosen_events_and_branches_are_sent(
    shop: App, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    main, dev = shop.branches.get(name="main"), shop.branches.get(name="dev")
    webhook(shop, receiver.url, ["started", "succeeded"], branch=dev)
    webhook(shop, receiver.url + "&all=1", ["failed"])
    job = started_job(main)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.job_set_running(job.pk, commit_id="b" * 40)
    finish(job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    assert receiver.received == []  # main: the dev webhook is not told; the other wants failures only
    dev_job = started_job(dev)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_set_running(dev_job.pk)
    finish(dev_job, Job.Status.SUCCEED, django_capture_on_commit_callbacks)
    events = [json.loads(body)["event"] for _, body in receiver.received]
    assert events == ["started", "succeeded"]
    cancelled = started_job(dev)
    Job.objects.filter(pk=cancelled.pk).update(status=Job.Status.CANCELLING)
    finish(cancelled, Job.Status.FAILED, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 2  # a cancelled build is no news


@pytest.mark.usefixtures("loopback_allowed")
def test_a_receiver_answering_500_is_retried_then_shown_failed(
    shop: App,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    viewer_client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    receiver.status = 500
    _, secret = webhook(shop, receiver.url, ["failed"])
    with caplog.at_level(logging.DEBUG):
        finish(started_job(shop.branches.get(name="main")), Job.Status.FAILED, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 3
    assert "failed after 3 attempt(s)" in caplog.text
    assert secret not in caplog.text
    signatures = {headers["X-Console-Signature"] for headers, _ in receiver.received}
    assert not any(signature.removeprefix("sha256=") in caplog.text for signature in signatures)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("FAILED", 3, 500)
    html = viewer_client.get(f"/apps/{shop.app_id}/notifications/").content.decode()
    assert "HTTP 500" in html
    assert "The receiver answered HTTP 500." in html
    assert ">Failed<" in html


@pytest.mark.usefixtures("loopback_allowed")
def test_a_receiver_that_recovers_gets_the_retry(
    shop: App, receiver: Receiver, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.notifications import sending

    real = sending.send_webhook
    answers = iter([503, 200])

    def flaky(*args: Any, **kwargs: Any) -> sending.Outcome:
        receiver.status = next(answers)
        return real(*args, **kwargs)

    monkeypatch.setattr("apps.notifications.delivering.send_webhook", flaky)
    webhook(shop, receiver.url, ["failed"])
    finish(started_job(shop.branches.get(name="main")), Job.Status.FAILED, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("SUCCEEDED", 2, 200)
    # Each attempt was signed afresh, and both carry the same delivery id.
    assert {h["X-Console-Delivery"] for h, _ in receiver.received} == {str(delivery.pk)}


@pytest.mark.usefixtures("loopback_allowed")
def test_redirects_are_not_followed(shop: App, receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    receiver.status = 302
    receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    webhook(shop, receiver.url, ["failed"])
    finish(started_job(shop.branches.get(name="main")), Job.Status.FAILED, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("FAILED", 1, 302)
    assert delivery.last_error == "Redirect to http://169.254.169.254/latest/meta-data/ not followed."
    assert len(receiver.received) == 1


def test_a_private_target_is_refused_again_at_send_time(
    shop: App, receiver: Receiver, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """Saved while allowed (as a name that later resolves elsewhere would be): the send refuses it."""
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True
    webhook(shop, receiver.url, ["failed"])
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = False
    finish(started_job(shop.branches.get(name="main")), Job.Status.FAILED, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("FAILED", 1)
    assert "127.0.0.1 is a loopback address" in delivery.last_error
    assert receiver.received == []


def test_a_failed_build_is_mailed_with_its_link(shop: App, django_capture_on_commit_callbacks: Any) -> None:
    subscription_create(actor=None, app=shop, kind="EMAIL", target="ops@example.com", branch=None, events=["failed"])
    job = started_job(shop.branches.get(name="main"))
    finish(
        job, Job.Status.FAILED, django_capture_on_commit_callbacks, reason="Command failed", failed_command="exit 1", exit_code=1
    )
    [message] = mail.outbox
    assert message.to == ["ops@example.com"]
    assert message.subject == f"[Shop] Build failed: Shop / main #{job.job_id}"
    assert f"/apps/{shop.app_id}/branches/main/jobs/{job.job_id}/" in message.body
    assert "Failed command: exit 1 (exit code 1)" in message.body
    assert Delivery.objects.get().status == "SUCCEEDED"


@pytest.mark.usefixtures("loopback_allowed")
def test_an_operator_redelivers_as_a_new_delivery(
    shop: App, receiver: Receiver, django_capture_on_commit_callbacks: Any, operator_client: Client
) -> None:
    receiver.status = 404
    webhook(shop, receiver.url, ["failed"])
    finish(started_job(shop.branches.get(name="main")), Job.Status.FAILED, django_capture_on_commit_callbacks)
    failed = Delivery.objects.get()
    assert (failed.status, failed.attempts) == ("FAILED", 1)  # a 404 is not retried
    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"/apps/{shop.app_id}/notifications/deliveries/{failed.pk}/redeliver/")
    assert response.status_code == 302
    again = Delivery.objects.exclude(pk=failed.pk).get()
    assert (again.status, again.job_id, again.event) == ("SUCCEEDED", failed.job_id, "failed")
    assert AuditEvent.objects.filter(action="notification.redeliver", actor_name="otto").exists()


def test_a_reaped_job_is_a_failure_too(shop: App, django_capture_on_commit_callbacks: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    subscription_create(actor=None, app=shop, kind="EMAIL", target="ops@example.com", branch=None, events=["failed"])
    job = started_job(shop.branches.get(name="main"))
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs() == [job.pk]
    assert len(mail.outbox) == 1
    assert "stopped: no heartbeat" in mail.outbox[0].body


@pytest.mark.usefixtures("loopback_allowed")
def test_an_error_report_of_a_crash_while_sending_hides_the_secret(
    shop: App, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """Django's error reports (the mails to ADMINS) show each frame's variables: not these."""
    import sys

    from django.views.debug import ExceptionReporter

    from apps.notifications import sending
    from console import outbound

    settings.DEBUG = False
    subscription, secret = webhook(shop, receiver.url, ["failed"])

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the network stack broke")

    monkeypatch.setattr(outbound._PinnedHTTP, "request", crash)
    try:
        sending.send_webhook(subscription, secret, b"{}", event="failed", delivery_pk=1)
    except RuntimeError:
        frames = ExceptionReporter(None, *sys.exc_info()).get_traceback_frames()
    else:
        pytest.fail("the crash did not propagate")
    [sending_frame] = [frame for frame in frames if frame["function"] == "send_webhook"]
    shown = dict(sending_frame["vars"])
    assert "subscription" in shown
    assert secret not in str(shown)
