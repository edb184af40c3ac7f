"""A task whose worker died is failed by the reaper with how far it got; Retry continues
after the records of finished batches; only failures another attempt may get past offer it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.branches.models import Branch
from apps.datamanager import services
from apps.datamanager.models import DataTask
from apps.datamanager.schema import DataSchema
from apps.datamanager.services import task_retry
from apps.datamanager.sources import branch_data
from apps.datamanager.tasks import reap_stalled_tasks, remove_stale_drafts, run_import, run_seed
from apps.datamanager.tests.factories import make_table, scan
from apps.datamanager.tests.test_tasks import import_task, make_task, model_of
from console.models import AuditEvent

S = DataTask.Status


def running(
    branch: Branch, *, silent_for: float, done: int = 412, total: int = 1000, kind: str = DataTask.Kind.IMPORT
) -> DataTask:
    return DataTask.objects.create(
        kind=kind, branch=branch, model_name="Item", status=S.RUNNING, done=done, total=total, resume_at=done,
        heartbeat_at=timezone.now() - timedelta(seconds=silent_for), payload={"csv": "id,title\na,A\n"},
    )  # fmt: skip


def test_the_reaper_fails_a_silent_task_with_its_count_and_leaves_beating_ones_alone(
    data_branch: Branch,
    settings: Any,
) -> None:
    settings.TASK_HEARTBEAT_TIMEOUT_SECONDS = 60
    dead = running(data_branch, silent_for=61)
    alive = running(data_branch, silent_for=5)
    seed = running(data_branch, silent_for=600, done=20, total=50, kind=DataTask.Kind.SEED)
    waiting = DataTask.objects.create(kind=DataTask.Kind.IMPORT, branch=data_branch, model_name="Item", status=S.PENDING)

    assert sorted(reap_stalled_tasks()) == sorted([dead.pk, seed.pk])

    dead.refresh_from_db()
    assert (dead.status, dead.retryable, dead.done) == (S.FAILED, True, 412)
    assert dead.error == (
        "The worker running this task stopped (no heartbeat for 60 s) after 412 of 1,000 rows written. "
        "Retry continues from there without writing anything twice."
    )
    assert dead.finished_at is not None
    assert "after 20 of 50 records written" in DataTask.objects.get(pk=seed.pk).error
    assert DataTask.objects.get(pk=alive.pk).status == S.RUNNING
    assert DataTask.objects.get(pk=waiting.pk).status == S.PENDING
    assert reap_stalled_tasks() == [], "a failed task is not reaped twice"


def test_retry_continues_an_import_after_the_rows_already_handled(
    data_branch: Branch,
    data_schema: DataSchema,
    django_capture_on_commit_callbacks: Any,
) -> None:
    table = make_table(model_of(data_schema, "Item"))
    task = import_task(data_branch, "id,title\na,A\nb,B\nc,C\nd,D\n")
    # An earlier attempt wrote a and b, then its worker died.
    DataTask.objects.filter(pk=task.pk).update(status=S.FAILED, retryable=True, done=2, resume_at=2, attempts=1)
    task.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        assert task_retry(actor=None, task=task) is True  # queued on commit; eager in tests

    task.refresh_from_db()
    assert (task.status, task.done, task.total, task.attempts) == (S.SUCCEEDED, 4, 4, 2)
    assert [i["id"] for i in scan(table)] == ["c", "d"], "rows a and b were not written again"
    assert AuditEvent.objects.filter(action="data.retry").count() == 1


def test_only_a_retryable_failed_task_is_retried(data_branch: Branch, data_schema: DataSchema) -> None:
    make_table(model_of(data_schema, "Item"))
    done = import_task(data_branch, "id,title\na,A\n")
    run_import(done.pk)
    done.refresh_from_db()
    bad_input = import_task(data_branch, "id,title\na,A\n", mapping={"id": "nope"})
    run_import(bad_input.pk)
    bad_input.refresh_from_db()
    assert bad_input.status == S.FAILED
    assert not bad_input.can_retry, "a mapping that cannot work fails the same way again"

    assert task_retry(actor=None, task=done) is False
    assert task_retry(actor=None, task=bad_input) is False
    assert DataTask.objects.get(pk=done.pk).status == S.SUCCEEDED
    assert not AuditEvent.objects.filter(action="data.retry").exists()


def test_an_import_failed_by_aws_keeps_its_file_for_a_retry_until_stale(data_branch: Branch, settings: Any) -> None:
    # No table: DynamoDB says so, which another attempt may get past once it exists.
    task = import_task(data_branch, "id,title\na,A\n")
    run_import(task.pk)
    task.refresh_from_db()
    assert task.status == S.FAILED
    assert task.can_retry == ("csv" in task.payload)

    if task.can_retry:
        DataTask.objects.filter(pk=task.pk).update(finished_at=timezone.now() - timedelta(hours=settings.STALE_UPLOAD_HOURS + 1))
        remove_stale_drafts()
        task.refresh_from_db()
        assert "csv" not in task.payload
        assert not task.can_retry


def test_a_seed_task_fixes_its_seed_and_numbers_its_records_so_a_retry_writes_the_same_ones(
    data_branch: Branch,
    data_schema: DataSchema,
) -> None:
    table = make_table(model_of(data_schema, "Item"))
    task = make_task(data_branch, DataTask.Kind.SEED, "Item", {"count": 30})
    run_seed(task.pk)
    task.refresh_from_db()
    seed = task.payload["seed"]
    assert isinstance(seed, int)
    first = {i["id"]: i for i in scan(table)}
    assert len(first) == 30

    # The same seed and numbering, resumed after 20: only the last 10 are written, identical.
    other = make_table(model_of(data_schema, "Item"), name="Item-other-NONE")
    data_branch.refresh_from_db()  # the schema as the task read it (PostgreSQL orders a JSON object's keys its own way)
    data = branch_data(data_branch)
    model = model_of(data_schema, "Item")
    services.seed_records(data, model, other, count=30, seed=seed, record_ids=f"data-task-{task.pk}", skip=20)
    resumed = {i["id"]: i for i in scan(other)}
    assert len(resumed) == 10
    for key, item in resumed.items():
        assert {k: v for k, v in item.items() if k not in ("createdAt", "updatedAt")} == {
            k: v for k, v in first[key].items() if k not in ("createdAt", "updatedAt")
        }


def test_viewers_cannot_retry_and_nothing_is_queued(data_branch: Branch, viewer_client: Client) -> None:
    task = running(data_branch, silent_for=0)
    DataTask.objects.filter(pk=task.pk).update(status=S.FAILED, retryable=True)
    url = reverse("data_task_retry", args=[data_branch.app.app_id, "main", task.pk])
    assert viewer_client.post(url).status_code == 403
    assert DataTask.objects.get(pk=task.pk).status == S.FAILED


def test_the_task_page_offers_retry_to_operators_only(
    data_branch: Branch, operator_client: Client, viewer_client: Client
) -> None:
    task = running(data_branch, silent_for=0)
    DataTask.objects.filter(pk=task.pk).update(status=S.FAILED, retryable=True, error="The worker running this task stopped")
    page = reverse("data_task", args=[data_branch.app.app_id, "main", task.pk])
    retry = reverse("data_task_retry", args=[data_branch.app.app_id, "main", task.pk])
    assert retry in operator_client.get(page).content.decode()
    assert retry not in viewer_client.get(page).content.decode()
    assert "The worker running this task stopped" in viewer_client.get(page).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_running_task_beats_until_it_ends(data_branch: Branch) -> None:
    import time

    from console.heartbeat import beating

    task = running(data_branch, silent_for=3600)
    with beating(DataTask, task.pk, interval=0.05):
        first = DataTask.objects.get(pk=task.pk).heartbeat_at
        time.sleep(0.3)
        later = DataTask.objects.get(pk=task.pk).heartbeat_at
    assert first is not None
    assert later is not None
    assert timezone.now() - first < timedelta(seconds=5)
    assert later > first
    stopped = DataTask.objects.get(pk=task.pk).heartbeat_at
    time.sleep(0.2)
    assert DataTask.objects.get(pk=task.pk).heartbeat_at == stopped, "the heartbeat stops with the task"


def test_a_waiting_task_whose_message_was_lost_is_queued_again_once(
    data_branch: Branch, data_schema: DataSchema, settings: Any
) -> None:
    table = make_table(model_of(data_schema, "Item"))
    settings.TASK_HEARTBEAT_TIMEOUT_SECONDS = 60
    lost = import_task(data_branch, "id,title\na,A\n")  # PENDING, and its message never reached a worker
    DataTask.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    just_queued = import_task(data_branch, "id,title\nb,B\n")

    reap_stalled_tasks()  # eager in tests: the queued task runs now

    assert DataTask.objects.get(pk=lost.pk).status == S.SUCCEEDED
    assert [i["id"] for i in scan(table)] == ["a"]
    assert DataTask.objects.get(pk=just_queued.pk).status == S.PENDING, "a task queued a moment ago is left to its message"
