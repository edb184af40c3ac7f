"""Deliveries survive the broker's ways: a message delivered twice sends once, a lost one is
queued again by the sweep, and a listener that breaks never fails the build."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.branches.models import App
from apps.builds import jobs
from apps.builds.models import Job
from apps.builds.services import register_job_listener
from apps.notifications import tasks
from apps.notifications.delivering import delivery_attempt
from apps.notifications.models import Delivery, Subscription
from apps.notifications.views import DELIVERIES_PER_PAGE


@pytest.fixture
def mailed(shop: App) -> tuple[Subscription, Job]:
    subscription = Subscription.objects.create(app=shop, kind="EMAIL", target="ops@example.com", events=["failed"])
    job = jobs.job_start(branch=shop.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="pytest")
    return subscription, job


def test_a_delivery_message_sent_twice_sends_once(mailed: tuple[Subscription, Job]) -> None:
    subscription, job = mailed
    delivery = Delivery.objects.create(subscription=subscription, event="failed", job=job)
    assert delivery_attempt(delivery.pk) is None
    assert delivery_attempt(delivery.pk) is None
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("SUCCEEDED", 1)


def test_lost_deliveries_are_queued_again_by_the_sweep(mailed: tuple[Subscription, Job]) -> None:
    subscription, job = mailed
    old = timezone.now() - timedelta(minutes=30)
    lost = Delivery.objects.create(subscription=subscription, event="failed", job=job)
    overdue_retry = Delivery.objects.create(subscription=subscription, event="failed", job=job, attempts=1, next_attempt_at=old)
    fresh = Delivery.objects.create(subscription=subscription, event="failed", job=job)
    waiting = Delivery.objects.create(
        subscription=subscription, event="failed", job=job, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    Delivery.objects.filter(pk__in=[lost.pk, overdue_retry.pk]).update(created_at=old)
    assert sorted(tasks.requeue_overdue_deliveries()) == sorted([lost.pk, overdue_retry.pk])
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "SUCCEEDED", overdue_retry.pk: "SUCCEEDED", fresh.pk: "PENDING", waiting.pk: "PENDING"}


def test_a_broken_listener_does_not_fail_the_build(
    mailed: tuple[Subscription, Job], django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from apps.builds import events

    _, job = mailed

    def broken(job_pk: int, event: events.JobEvent) -> None:
        Job.objects.filter(pk=job_pk).update(status_reason="written by the broken listener")
        raise RuntimeError("listener bug")

    register_job_listener(broken)
    try:
        Job.objects.filter(pk=job.pk).update(status=Job.Status.PROVISIONING)
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.job_finish(job.pk, Job.Status.FAILED, reason="exit 1")
    finally:
        events._listeners.remove(broken)
    job.refresh_from_db()
    assert (job.status, job.status_reason) == ("FAILED", "exit 1")  # the broken listener's write was undone
    assert "listener bug" in caplog.text
    assert len(mail.outbox) == 1  # the other listener (notifications) still ran


def test_deliveries_are_paged(mailed: tuple[Subscription, Job], viewer_client: Client, shop: App) -> None:
    subscription, job = mailed
    Delivery.objects.bulk_create(
        Delivery(subscription=subscription, event="failed", job=job, status="FAILED", last_error=f"error number {n}")
        for n in range(DELIVERIES_PER_PAGE + 3)
    )
    first = viewer_client.get(f"/apps/{shop.app_id}/notifications/").content.decode()
    second = viewer_client.get(f"/apps/{shop.app_id}/notifications/?page=2").content.decode()
    assert first.count("error number") == DELIVERIES_PER_PAGE
    assert second.count("error number") == 3
    assert "Page 2 of 2" in second
    assert "Redeliver" not in first  # viewers only read
