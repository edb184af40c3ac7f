"""The dashboard tells whether workers are alive, from the beat-driven heartbeat."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from console.tasks import HEARTBEAT_KEY, worker_heartbeat, workers_healthy


def test_no_heartbeat_yet_says_so(viewer_client: Client) -> None:
    cache.delete(HEARTBEAT_KEY)
    assert "Workers not seen yet" in viewer_client.get("/").content.decode()


def test_a_fresh_heartbeat_shows_workers_online(viewer_client: Client) -> None:
    worker_heartbeat.delay()  # eager in unit tests
    assert workers_healthy()
    assert "Workers online" in viewer_client.get("/").content.decode()


def test_an_old_heartbeat_warns_that_work_will_wait(viewer_client: Client) -> None:
    cache.set(HEARTBEAT_KEY, (timezone.now() - timedelta(minutes=5)).isoformat())
    assert not workers_healthy()
    assert "Workers silent" in viewer_client.get("/").content.decode()
    cache.delete(HEARTBEAT_KEY)


def test_every_beat_entry_names_a_registered_task(db: None) -> None:
    from django.conf import settings

    from console.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "apps.datamanager.tasks.reap_stalled_tasks",
        "apps.storage.tasks.reap_stalled_tasks",
        "apps.gitops.tasks.reap_stalled_teardowns",
    } <= scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
