"""A storage task whose worker died is failed by the reaper with its count; Retry
continues (a copy skips what finished batches copied); viewers cannot retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from apps.branches.models import Branch
from apps.storage import operations
from apps.storage.buckets import Bucket
from apps.storage.models import StorageTask
from apps.storage.services import task_retry
from apps.storage.tasks import reap_stalled_tasks
from apps.storage.tests.conftest import BUCKET, REGION, all_keys

S = StorageTask.Status


def test_the_reaper_fails_a_silent_task_with_its_count(branch: Branch, settings: Any) -> None:
    settings.TASK_HEARTBEAT_TIMEOUT_SECONDS = 60
    silent = timezone.now() - timedelta(seconds=90)
    dead = StorageTask.objects.create(branch=branch, bucket=BUCKET, region=REGION, kind="MOVE", status=S.RUNNING,
                                      total=2500, done=1000, heartbeat_at=silent)  # fmt: skip
    alive = StorageTask.objects.create(branch=branch, bucket=BUCKET, region=REGION, kind="COPY", status=S.RUNNING,
                                       total=10, heartbeat_at=timezone.now())  # fmt: skip
    assert reap_stalled_tasks() == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == S.FAILED
    assert dead.can_retry
    assert "after 1,000 of 2,500 objects moved. Retry continues from there" in dead.error
    assert StorageTask.objects.get(pk=alive.pk).status == S.RUNNING


def test_a_copy_resumed_after_n_objects_copies_only_the_rest(put: Callable[..., None], s3: Any) -> None:
    put("docs/a.txt", "docs/b.txt", "docs/c.txt")
    bucket = Bucket(name=BUCKET, region=REGION, label=BUCKET, source="test")
    outcome = operations.copy(bucket, operations.Selection(folders=("docs/",)), "backup/", skip=2)
    assert outcome.done == 1
    assert [k for k in all_keys(s3) if k.startswith("backup/")] == ["backup/docs/c.txt"]


def test_a_retried_delete_counts_on_from_what_was_deleted(
    branch: Branch, put: Callable[..., None], s3: Any, django_capture_on_commit_callbacks: Any
) -> None:
    put("docs/c.txt", "docs/d.txt")  # a.txt and b.txt went before the worker died
    task = StorageTask.objects.create(branch=branch, bucket=BUCKET, region=REGION, kind="DELETE", status=S.FAILED,
                                      retryable=True, total=4, done=2, resume_at=2,
                                      payload={"files": ["docs/a.txt", "docs/b.txt", "docs/c.txt", "docs/d.txt"]})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert task_retry(actor=None, task=task) is True
    task.refresh_from_db()
    assert (task.status, task.done, task.failed) == (S.SUCCEEDED, 4, 0)
    assert all_keys(s3) == []
    assert task_retry(actor=None, task=task) is False, "a finished task is not retried"


def test_viewers_cannot_retry(branch: Branch, viewer_client: Client) -> None:
    task = StorageTask.objects.create(branch=branch, bucket=BUCKET, region=REGION, kind="DELETE", status=S.FAILED,
                                      retryable=True, payload={"files": ["docs/a.txt"]})  # fmt: skip
    response = viewer_client.post(f"/apps/{branch.app.app_id}/branches/main/storage/tasks/{task.pk}/retry/")
    assert response.status_code == 403
    assert StorageTask.objects.get(pk=task.pk).status == S.FAILED
