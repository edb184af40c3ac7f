"""A worker killed with SIGKILL in the middle of each kind of long task: after the
heartbeat timeout the reaper marks the task FAILED with what was done so far, Retry
finishes it, nothing is written twice, and the end state equals a clean run's."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.branches.models import Branch
from apps.branches.services import app_create
from apps.builds import jobs
from apps.builds.models import Job
from apps.datamanager import dynamo, services
from apps.datamanager.models import DataTask
from apps.datamanager.sources import branch_data
from apps.datamanager.tasks import reap_stalled_tasks as reap_data_tasks
from apps.datamanager.tasks import run_import, run_seed
from apps.datamanager.tests.factories import API_ID, every_type_introspection, every_type_schema, outputs_document
from apps.gitops import gitsync
from apps.gitops.models import Teardown
from apps.gitops.tasks import reap_stalled_teardowns
from apps.secrets.paths import branch_path
from apps.storage import s3
from apps.storage.models import StorageTask
from apps.storage.tasks import reap_stalled_tasks as reap_storage_tasks
from apps.storage.tasks import run_storage_task
from conftest import wait_for
from console.amplify_names import branch_stack_name
from console.aws import aws_client
from tests.faults.conftest import Workers, past_heartbeat_timeout

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 1_500
OBJECTS = 1_500
TIMESTAMPS = ("createdAt", "updatedAt")


# --- set-up --------------------------------------------------------------------------


@pytest.fixture
def branch(workers: Workers, make_repo: Callable[..., Path]) -> Branch:
    app = app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    main = app.branches.get(name="main")
    main.backend_outputs = outputs_document(every_type_introspection())
    main.save(update_fields=["backend_outputs"])
    return main


def item_table(name: str = "") -> dynamo.Table:
    """The Item model's table on the emulator, keyed by id as Amplify keys it."""
    model = every_type_schema().model("Item")
    assert model is not None
    name = name or dynamo.table_name(model, API_ID)
    client = aws_client("dynamodb")
    if name in client.list_tables()["TableNames"]:  # the emulator serves the whole module
        client.delete_table(TableName=name)
    client.create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    table = dynamo.describe_table(name, settings.AWS_REGION)
    assert table is not None
    return table


def kill_mid_task(workers: Workers, model: type[DataTask] | type[StorageTask], pk: int, *, after: int) -> None:
    """Start a worker, let it get `after` records in, then SIGKILL it."""
    worker = workers.start()
    wait_for(
        lambda: model.objects.filter(pk=pk, status="RUNNING", done__gte=after).exists(),
        timeout=120, interval=0.01, message=f"the task to pass {after} records\n{workers.tail()}",
    )  # fmt: skip
    workers.kill(worker)


def reaped(reaper: Callable[[], list[int]], model: type[DataTask] | type[StorageTask], pk: int) -> Any:
    """Run the reaper once the heartbeat timeout has passed; the task it failed."""
    past_heartbeat_timeout()
    assert reaper() == [pk]
    return model.objects.get(pk=pk)


def retried_to_the_end(workers: Workers, client: Client, url: str, model: type[DataTask] | type[StorageTask], pk: int) -> Any:
    assert client.post(url).status_code == 302
    workers.start(name="fault-worker-2")
    wait_for(lambda: model.objects.filter(pk=pk, status__in=("SUCCEEDED", "FAILED")).exists(), timeout=180,
             message=f"the retried task to end\n{workers.tail()}")  # fmt: skip
    return model.objects.get(pk=pk)


def without(item: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in names}


# --- data manager ----------------------------------------------------------------------


def test_worker_killed_mid_import_is_failed_with_its_count_and_retry_writes_the_rest_once(
    workers: Workers, branch: Branch, operator_client: Client, operator_user: Any
) -> None:
    table = item_table()
    csv = "id,title,priority\n" + "".join(f"r{n:05d},Item {n},low\n" for n in range(ROWS))
    task = DataTask.objects.create(kind=DataTask.Kind.IMPORT, branch=branch, model_name="Item", created_by=operator_user,
                                   payload={"csv": csv, "mode": "skip", "file_name": "items.csv"})  # fmt: skip
    run_import.delay(task.pk)
    kill_mid_task(workers, DataTask, task.pk, after=200)

    failed = reaped(reap_data_tasks, DataTask, task.pk)
    assert failed.status == DataTask.Status.FAILED
    assert failed.can_retry
    assert 200 <= failed.done < ROWS
    assert f"after {failed.done:,} of {ROWS:,} rows written" in failed.error
    assert "Retry" in failed.error
    assert failed.payload["csv"] == csv, "the input is kept for the Retry"
    handled_before = failed.resume_at

    retry_started = dynamo.now_iso()
    url = reverse("data_task_retry", args=[branch.app.app_id, "main", task.pk])
    done = retried_to_the_end(workers, operator_client, url, DataTask, task.pk)
    assert (done.status, done.done, done.refused, done.attempts) == (DataTask.Status.SUCCEEDED, ROWS, 0, 2), done.error

    items = list(dynamo.scan_all(table))
    assert sorted(without(i, *TIMESTAMPS, "__typename")["id"] for i in items) == [f"r{n:05d}" for n in range(ROWS)]
    assert {i["id"]: i["title"] for i in items} == {f"r{n:05d}": f"Item {n}" for n in range(ROWS)}
    # Rows of the batches finished before the kill were not written again by the Retry.
    assert sum(i["updatedAt"] < retry_started for i in items) == handled_before
    assert "csv" not in DataTask.objects.get(pk=task.pk).payload, "the file is dropped once the import is done"


def test_worker_killed_mid_seed_is_failed_with_its_count_and_retry_ends_as_a_clean_run(
    workers: Workers, branch: Branch, operator_client: Client, operator_user: Any
) -> None:
    table = item_table()
    task = DataTask.objects.create(kind=DataTask.Kind.SEED, branch=branch, model_name="Item", created_by=operator_user,
                                   total=ROWS, payload={"count": ROWS, "constraints": {}})  # fmt: skip
    run_seed.delay(task.pk)
    kill_mid_task(workers, DataTask, task.pk, after=200)

    failed = reaped(reap_data_tasks, DataTask, task.pk)
    assert failed.status == DataTask.Status.FAILED
    assert failed.can_retry
    assert f"after {failed.done:,} of {ROWS:,} records written" in failed.error
    seed = failed.payload["seed"]
    assert isinstance(seed, int), "the random seed is fixed before the first record"
    handled_before = failed.resume_at

    retry_started = dynamo.now_iso()
    url = reverse("data_task_retry", args=[branch.app.app_id, "main", task.pk])
    done = retried_to_the_end(workers, operator_client, url, DataTask, task.pk)
    assert (done.status, done.done) == (DataTask.Status.SUCCEEDED, ROWS), done.error

    items = list(dynamo.scan_all(table))
    assert len(items) == ROWS
    assert sum(i["updatedAt"] < retry_started for i in items) == handled_before

    # A clean run with the same seed, into a table of its own, holds the same records.
    clean_table = item_table("clean-run-Item")
    branch.refresh_from_db()  # the schema as the worker read it (PostgreSQL orders a JSON object's keys its own way)
    data = branch_data(branch)
    model = data.schema.model("Item")
    assert model is not None
    services.seed_records(data, model, clean_table, count=ROWS, seed=seed, record_ids=f"data-task-{task.pk}")
    clean = {i["id"]: without(i, *TIMESTAMPS) for i in dynamo.scan_all(clean_table)}
    retried = {i["id"]: without(i, *TIMESTAMPS) for i in items}
    assert retried.keys() == clean.keys()
    differing = {(key, name) for key, item in retried.items() for name in item if item[name] != clean[key].get(name)}
    assert not differing, sorted(differing)[:10]


# --- storage ---------------------------------------------------------------------------


def _body(n: int) -> bytes:
    return f"object {n}\n".encode()


@pytest.fixture
def bucket(workers: Workers, request: pytest.FixtureRequest) -> str:
    """A bucket of its own (the emulator serves the whole module) with OBJECTS small files under photos/."""
    name = f"fault-{request.node.name.split('_storage_')[1].split('_')[0]}"
    client = aws_client("s3")
    client.create_bucket(Bucket=name)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: client.put_object(Bucket=name, Key=f"photos/{n:05d}.txt", Body=_body(n)), range(OBJECTS)))
    return name


def listing(bucket: str, prefix: str) -> dict[str, str]:
    """Key → ETag of everything under `prefix`."""
    return {o.key: o.etag for o in s3.walk(bucket, settings.AWS_REGION, prefix)}


def storage_task(branch: Branch, bucket: str, kind: str, payload: dict[str, Any], user: Any) -> StorageTask:
    task = StorageTask.objects.create(branch=branch, bucket=bucket, region=settings.AWS_REGION, kind=kind,
                                      payload=payload, total=OBJECTS, created_by=user)  # fmt: skip
    run_storage_task.delay(task.pk)
    return task


def _killed_and_retried(workers: Workers, client: Client, branch: Branch, task: StorageTask, past: str) -> StorageTask:
    kill_mid_task(workers, StorageTask, task.pk, after=1)
    failed = reaped(reap_storage_tasks, StorageTask, task.pk)
    assert failed.status == StorageTask.Status.FAILED
    assert failed.can_retry
    assert 0 < failed.done < OBJECTS
    assert f"after {failed.done:,} of {OBJECTS:,} objects {past}" in failed.error
    url = reverse("storage_task_retry", args=[branch.app.app_id, "main", task.pk])
    done: StorageTask = retried_to_the_end(workers, client, url, StorageTask, task.pk)
    assert (done.status, done.done, done.failed, done.attempts) == (StorageTask.Status.SUCCEEDED, OBJECTS, 0, 2), done.error
    return done


def test_worker_killed_mid_storage_delete_is_failed_with_its_count_and_retry_deletes_the_rest(
    workers: Workers, branch: Branch, bucket: str, operator_client: Client, operator_user: Any
) -> None:
    task = storage_task(branch, bucket, StorageTask.Kind.DELETE, {"folders": ["photos/"]}, operator_user)
    _killed_and_retried(workers, operator_client, branch, task, "deleted")
    assert listing(bucket, "photos/") == {}


def test_worker_killed_mid_storage_copy_is_failed_with_its_count_and_retry_copies_the_rest(
    workers: Workers, branch: Branch, bucket: str, operator_client: Client, operator_user: Any
) -> None:
    source = listing(bucket, "photos/")
    task = storage_task(branch, bucket, StorageTask.Kind.COPY, {"folders": ["photos/"], "dest": "backup/"}, operator_user)
    _killed_and_retried(workers, operator_client, branch, task, "copied")
    assert listing(bucket, "backup/photos/") == {f"backup/{key}": etag for key, etag in source.items()}
    assert listing(bucket, "photos/") == source


def test_worker_killed_mid_storage_move_is_failed_with_its_count_and_retry_moves_the_rest(
    workers: Workers, branch: Branch, bucket: str, operator_client: Client, operator_user: Any
) -> None:
    source = listing(bucket, "photos/")
    task = storage_task(branch, bucket, StorageTask.Kind.MOVE, {"folders": ["photos/"], "dest": "archive/"}, operator_user)
    _killed_and_retried(workers, operator_client, branch, task, "moved")
    moved = listing(bucket, "archive/photos/")
    assert moved == {f"archive/{key}": etag for key, etag in source.items()}
    assert listing(bucket, "photos/") == {}
    body = aws_client("s3").get_object(Bucket=bucket, Key="archive/photos/00042.txt")["Body"].read()
    assert body == _body(42)


# --- preview teardown ------------------------------------------------------------------


def test_worker_killed_mid_teardown_is_failed_with_its_steps_and_retry_tears_everything_down(
    workers: Workers, make_repo: Callable[..., Path], admin_client: Client, settings: Any
) -> None:
    repo = make_repo(("main", "feature/pay"))
    app = app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    app.branches.filter(name="main").update(pr_previews_enabled=True)
    sha = subprocess.run(["git", "rev-parse", "refs/heads/feature/pay"], cwd=repo, check=True, capture_output=True,
                         text=True).stdout.strip()  # fmt: skip
    gitsync.preview_open(app, number=3, head_branch="feature/pay", head_commit=sha, base_branch="main", title="Pay",
                         source="github")  # fmt: skip
    # Its build is running on a worker that will not answer the cancel: the teardown waits for it.
    build = Job.objects.get(branch__name="pr-3")
    Job.objects.filter(pk=build.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now(), worker="elsewhere")
    secret = branch_path(app.app_id, "pr-3", "STRIPE_KEY")
    aws_client("ssm").put_parameter(Name=secret, Value="sk_test", Type="SecureString")
    stack_name = branch_stack_name(app.app_id, "pr-3")
    aws_client("cloudformation").create_stack(
        StackName=stack_name, TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'
    )

    gitsync.preview_close(app, number=3, source="github")
    teardown = Teardown.objects.get(app=app)
    worker = workers.start()
    wait_for(lambda: Job.objects.filter(pk=build.pk, status=Job.Status.CANCELLING).exists()
             and Teardown.objects.filter(pk=teardown.pk, status="RUNNING").exists(),
             timeout=60, message=f"the teardown to wait for the build\n{workers.tail()}")  # fmt: skip
    workers.kill(worker)

    past_heartbeat_timeout()

    assert reap_stalled_teardowns() == [teardown.pk]
    teardown.refresh_from_db()
    assert teardown.status == Teardown.Status.FAILED
    assert "after no step finished. Retry runs every step again" in teardown.error
    # The build's own worker is gone too: the build reaper ends it.
    settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS = 1
    assert build.pk in jobs.reap_stale_jobs()

    assert admin_client.post(f"/apps/{app.app_id}/teardowns/{teardown.pk}/retry/").status_code == 302
    workers.start(name="fault-worker-2")
    wait_for(lambda: Teardown.objects.filter(pk=teardown.pk, status__in=("SUCCEEDED", "FAILED")).exists(), timeout=120,
             message=f"the retried teardown to end\n{workers.tail()}")  # fmt: skip
    teardown.refresh_from_db()
    assert (teardown.status, teardown.attempts) == (Teardown.Status.SUCCEEDED, 2), teardown.error
    assert teardown.steps_done == ["jobs", "hosting", "stack", "secrets", "branch"]
    assert not app.branches.filter(name="pr-3").exists()
    assert secret not in {p["Name"] for p in aws_client("ssm").describe_parameters()["Parameters"]}
    stacks = aws_client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == stack_name] == ["DELETE_COMPLETE"]
