"""Import and seed tasks: claimed once, progress as batches land, reports kept,
failures recorded with their reason, everything audited."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.branches import services as branch_services
from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.models import DataTask
from apps.datamanager.schema import DataSchema, Model
from apps.datamanager.tasks import run_import, run_seed
from apps.datamanager.tests.factories import every_type_introspection, every_type_schema, make_table, outputs_document, scan
from console.aws import aws_client
from console.models import AuditEvent

S = DataTask.Status


@pytest.fixture
def schema() -> DataSchema:
    return every_type_schema()


def model_of(schema: DataSchema, name: str) -> Model:
    found = schema.model(name)
    assert found is not None
    return found


@pytest.fixture
def branch(db: None, make_repo: Callable[..., Path], operator_user: Any) -> Branch:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    main = app.branches.get(name="main")
    main.backend_outputs = outputs_document(every_type_introspection())
    main.save()
    return main


def make_task(branch: Branch, kind: str, model: str, payload: dict[str, Any], user: Any = None) -> DataTask:
    return DataTask.objects.create(kind=kind, branch=branch, model_name=model, payload=payload, created_by=user)


def import_task(branch: Branch, csv: str, *, mode: str = "skip", mapping: dict[str, str] | None = None) -> DataTask:
    payload: dict[str, Any] = {"csv": csv, "mode": mode, "file_name": "items.csv"}
    if mapping is not None:
        payload["mapping"] = mapping
    return make_task(branch, DataTask.Kind.IMPORT, "Item", payload)


GOOD_AND_BAD = "id,title,priority,Count\na,one,low,1\nb,two,urgent,2\nc,three,high,x\nd,four,medium,4\n"


# Imports


def test_import_task_writes_the_valid_rows_and_keeps_the_report(branch: Branch, schema: DataSchema, operator_user: Any) -> None:
    table = make_table(model_of(schema, "Item"))
    task = make_task(branch, DataTask.Kind.IMPORT, "Item", {"csv": GOOD_AND_BAD, "mode": "skip", "file_name": "items.csv"},
                     operator_user)  # fmt: skip

    run_import.delay(task.pk)

    task.refresh_from_db()
    assert (task.status, task.total, task.done, task.refused, task.error) == (S.SUCCEEDED, 4, 2, 2, "")
    assert task.finished_at is not None
    assert task.report["line_errors"] == [
        "line 3: priority: 'urgent' is not one of low, medium, high",
        "line 4: count: 'x' is not a whole number",
    ]
    assert task.payload == {"mode": "skip", "file_name": "items.csv"}  # the CSV text is not kept
    assert [(i["id"], i.get("count")) for i in scan(table)] == [("a", 1), ("d", 4)]
    event = AuditEvent.objects.get(action="data.import")
    assert event.actor == operator_user
    assert event.target == f"{branch.app.app_id}/main/Item"
    assert event.detail == {"model": "Item", "task": task.pk, "written": 2, "refused": 2, "unwritten": 0, "mode": "skip",
                            "file": "items.csv"}  # fmt: skip


def test_import_task_uses_the_mapping_it_was_given(branch: Branch, schema: DataSchema) -> None:
    table = make_table(model_of(schema, "Item"))
    task = import_task(branch, "key,name,note\nk1,First,ignored\n", mapping={"key": "id", "name": "title", "note": ""})
    run_import(task.pk)
    assert [(i["id"], i["title"]) for i in scan(table)] == [("k1", "First")]


def test_all_or_nothing_task_writes_nothing_and_reports_the_lines(branch: Branch, schema: DataSchema) -> None:
    table = make_table(model_of(schema, "Item"))
    task = import_task(branch, GOOD_AND_BAD, mode="all_or_nothing")
    run_import(task.pk)

    task.refresh_from_db()
    assert scan(table) == []
    assert (task.done, task.refused) == (0, 2)
    assert task.report["held_back"] == 2
    assert task.report["line_errors"][0] == "line 3: priority: 'urgent' is not one of low, medium, high"


def test_progress_is_saved_as_each_batch_is_written(branch: Branch, schema: DataSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    make_table(model_of(schema, "Item"))
    task = import_task(branch, "title\n" + "".join(f"row {n}\n" for n in range(250)) + ",\nbad,extra\n", mode="skip")
    seen: list[tuple[str, int, int, int]] = []
    batch_put = dynamo.batch_put

    def watching(table: dynamo.Table, items: list[dict[str, Any]], **kwargs: Any) -> dynamo.BatchResult:
        current = DataTask.objects.get(pk=task.pk)
        seen.append((current.status, current.total, current.done, current.refused))
        return batch_put(table, items, **kwargs)

    monkeypatch.setattr(dynamo, "batch_put", watching)
    run_import(task.pk)

    task.refresh_from_db()
    assert seen == [(S.RUNNING, 251, 0, 0), (S.RUNNING, 251, 100, 1), (S.RUNNING, 251, 200, 1)]
    assert (task.status, task.done, task.refused) == (S.SUCCEEDED, 250, 1)


def test_a_task_is_carried_out_once(branch: Branch, schema: DataSchema) -> None:
    make_table(model_of(schema, "Item"))
    task = import_task(branch, "id,title\na,one\n")
    run_import(task.pk)
    run_import(task.pk)  # a redelivered message
    assert AuditEvent.objects.filter(action="data.import").count() == 1

    running = import_task(branch, "id,title\nb,two\n")
    DataTask.objects.filter(pk=running.pk).update(status=S.RUNNING)
    run_import(running.pk)
    run_seed(task.pk)  # the wrong kind is not claimed either
    running.refresh_from_db()
    assert (running.status, running.done) == (S.RUNNING, 0)


def test_items_left_unprocessed_fail_the_task_with_their_keys(
    branch: Branch, schema: DataSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = make_table(model_of(schema, "Item"))
    client = aws_client("dynamodb", region=table.region)
    original = client.batch_write_item

    def holding_back_c(*, RequestItems: dict[str, Any]) -> dict[str, Any]:
        requests = RequestItems[table.name]
        held = [r for r in requests if r["PutRequest"]["Item"]["id"]["S"] == "c"]
        rest = [r for r in requests if r not in held]
        response = original(RequestItems={table.name: rest}) if rest else {}
        return {**response, "UnprocessedItems": {table.name: held} if held else {}}

    monkeypatch.setattr(client, "batch_write_item", holding_back_c)
    monkeypatch.setattr(time, "sleep", lambda _: None)
    task = import_task(branch, "id,title\na,1\nb,2\nc,3\n")
    run_import(task.pk)

    task.refresh_from_db()
    assert task.status == S.FAILED
    assert task.error == "1 records could not be written."
    assert task.report["unwritten_keys"] == [{"id": "c"}]
    assert [i["id"] for i in scan(table)] == ["a", "b"]
    assert AuditEvent.objects.get(action="data.import").outcome == "failure"


def test_a_branch_without_a_schema_fails_the_task_with_the_reason(branch: Branch) -> None:
    branch.backend_outputs = None
    branch.save()
    task = import_task(branch, "id,title\na,1\n")
    run_import(task.pk)

    task.refresh_from_db()
    assert task.status == S.FAILED
    assert task.error.startswith("No data schema for main")
    assert task.finished_at is not None
    event = AuditEvent.objects.get(action="data.import")
    assert (event.outcome, event.message) == ("failure", task.error[:500])


def test_a_missing_table_fails_the_task(branch: Branch) -> None:
    task = import_task(branch, "id,title\na,1\n")
    run_import(task.pk)
    task.refresh_from_db()
    assert task.status == S.FAILED
    assert "No DynamoDB table named Item-<apiId>-NONE" in task.error


def test_an_unknown_model_or_mapping_fails_the_task(branch: Branch, schema: DataSchema) -> None:
    make_table(model_of(schema, "Item"))
    unknown = make_task(branch, DataTask.Kind.IMPORT, "Gone", {"csv": "id\n1\n"})
    bad_mapping = import_task(branch, "id,title\na,1\n", mapping={"id": "id", "title": "colour"})
    run_import(unknown.pk)
    run_import(bad_mapping.pk)
    unknown.refresh_from_db()
    bad_mapping.refresh_from_db()
    assert unknown.error == "The schema has no model 'Gone'; its models are: Blog, Item, Post."
    assert bad_mapping.error.startswith("Item has no stored field 'colour'")


def test_an_unexpected_error_still_ends_the_task(branch: Branch, schema: DataSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    make_table(model_of(schema, "Item"))
    task = import_task(branch, "id,title\na,1\n")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("apps.datamanager.csv_io.validate_rows", broken)
    with pytest.raises(RuntimeError):
        run_import(task.pk)
    task.refresh_from_db()
    assert task.status == S.FAILED
    assert "unexpected error" in task.error


# Seeds


def test_seed_task_writes_records_with_keys_of_existing_parents(branch: Branch, schema: DataSchema, operator_user: Any) -> None:
    blogs = make_table(model_of(schema, "Blog"))
    posts = make_table(model_of(schema, "Post"))
    dynamo.batch_put(blogs, [{"id": f"blog-{n}", "name": f"Blog {n}", "__typename": "Blog"} for n in range(3)])
    task = make_task(branch, DataTask.Kind.SEED, "Post", {"count": 40, "constraints": {"body": {"max_length": 20}}, "seed": 7},
                     operator_user)  # fmt: skip

    run_seed.delay(task.pk)

    task.refresh_from_db()
    assert (task.status, task.total, task.done, task.refused, task.error) == (S.SUCCEEDED, 40, 40, 0, "")
    written = scan(posts)
    assert len(written) == 40
    assert {p["blogId"] for p in written} == {"blog-0", "blog-1", "blog-2"}
    assert all(len(p.get("body", "")) <= 20 for p in written)
    assert all(p["title#description"] == f"{p['title']}#{p['description']}" for p in written)
    assert all(p["__typename"] == "Post" and p["createdAt"] for p in written)
    event = AuditEvent.objects.get(action="data.seed")
    assert (event.actor, event.detail["written"], event.detail["count"]) == (operator_user, 40, 40)


def test_seed_task_writes_every_field_type_in_stored_form(branch: Branch, schema: DataSchema) -> None:
    """Seeder rows hold floats, which DynamoDB's serializer refuses; numbers in a payload may be text."""
    table = make_table(model_of(schema, "Item"))
    task = make_task(
        branch, DataTask.Kind.SEED, "Item", {"count": 120, "constraints": {"price": {"minimum": "1.5", "maximum": 2}}}
    )
    run_seed(task.pk)

    task.refresh_from_db()
    assert (task.status, task.done) == (S.SUCCEEDED, 120)
    items = scan(table)
    assert len({i["id"] for i in items}) == 120
    assert all(1.5 <= i["price"] <= 2 for i in items if "price" in i)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"count": 0}, "The number of records must be between 1 and 10,000, not 0."),
        ({"count": "5"}, "The number of records must be a whole number, not '5'."),
        ({"count": 5, "constraints": {"price": {"most": 1}}}, "price: unknown constraint 'most'"),
        ({"count": 5, "constraints": {"price": {"minimum": "low"}}}, "price: minimum 'low' is not a number"),
        ({"count": 5, "constraints": {"title": {"minimum": 1}}}, "title: minimum and maximum apply to numbers"),
        ({"count": 5, "constraints": {"colour": {}}}, "colour: Item has no editable field of that name"),
    ],
)
def test_seed_task_refuses_bad_input(branch: Branch, schema: DataSchema, payload: dict[str, Any], error: str) -> None:
    table = make_table(model_of(schema, "Item"))
    task = make_task(branch, DataTask.Kind.SEED, "Item", payload)
    run_seed(task.pk)
    task.refresh_from_db()
    assert task.status == S.FAILED
    assert task.error.startswith(error)
    assert scan(table) == []


def test_import_drafts_never_started_are_removed_after_a_day(data_branch: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.datamanager.models import DataTask
    from apps.datamanager.tasks import remove_stale_drafts

    def task(status: str, hours_ago: int) -> DataTask:
        made = DataTask.objects.create(kind=DataTask.Kind.IMPORT, branch=data_branch, model_name="Item", status=status)
        DataTask.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
        return made

    stale = task(DataTask.Status.DRAFT, 25)
    recent = task(DataTask.Status.DRAFT, 2)
    finished = task(DataTask.Status.SUCCEEDED, 48)
    assert remove_stale_drafts() == 1
    assert set(DataTask.objects.values_list("pk", flat=True)) == {recent.pk, finished.pk}
    assert not DataTask.objects.filter(pk=stale.pk).exists()
