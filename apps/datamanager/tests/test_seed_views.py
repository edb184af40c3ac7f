"""Seeding from the records page: up to 100 records in the request with values that
pass the type checks and honour the rules, more as a task with its progress page, and
bad rules or counts refused with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.datamanager import dynamo, values
from apps.datamanager.models import DataTask
from apps.datamanager.schema import DataSchema, Model
from apps.datamanager.tests.factories import scan
from apps.datamanager.tests.pages import data_url, messages_of, text_of
from console.models import AuditEvent


def seed(client: Client, branch: Branch, data: dict[str, Any], model: str = "Item") -> Any:
    return client.post(data_url(branch, "data_seed", model), data, follow=True)


def test_seeding_100_writes_them_in_the_request_with_valid_values_within_the_rules(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table, item_model: Model, data_schema: DataSchema
) -> None:
    rules = {
        "c-priority-enum_values": ["low", "high"],
        "c-count-minimum": "5",
        "c-count-maximum": "9",
        "c-done-true_percent": "100",
    }
    response = seed(operator_client, data_branch, {"count": "100", **rules})
    assert messages_of(response) == ["Seeded 100 Item records."]
    items = scan(item_table)
    assert len(items) == 100
    assert not DataTask.objects.exists()
    for item in items:
        for field in item_model.stored_fields:
            if field.name in item:
                # What a form or an import would accept, read back to the same stored value.
                assert values.parse_text(field, values.to_text(field, item[field.name]), data_schema) == item[field.name]
        assert item["priority"] in ("low", "high")
        assert 5 <= item["count"] <= 9
        assert item["done"] is True
        assert item["__typename"] == "Item"
        assert item["createdAt"] == item["updatedAt"]
    assert {item["priority"] for item in items} == {"low", "high"}
    assert AuditEvent.objects.get(action="data.seed").detail["written"] == 100


def test_seeding_more_than_100_runs_a_task_whose_page_shows_its_progress(
    operator_client: Client,
    data_branch: Branch,
    item_table: dynamo.Table,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.post(data_url(data_branch, "data_seed", "Item"), {"count": "150"})
    task = DataTask.objects.get()
    assert response["Location"] == data_url(data_branch, "data_task", task.pk)
    waiting = operator_client.get(response["Location"])
    assert "Seeding 150 Item records in the background." in messages_of(waiting)
    assert "Waiting" in text_of(waiting)
    assert 'hx-trigger="every 1s"' in text_of(waiting)
    assert scan(item_table) == []
    for callback in callbacks:
        callback()
    task.refresh_from_db()
    assert (task.kind, task.status, task.done, task.total, task.percent) == (DataTask.Kind.SEED, "SUCCEEDED", 150, 150, 100)
    done = text_of(operator_client.get(response["Location"]))
    assert "Done" in done
    assert "150 written of 150" in done
    assert 'value="100"' in done
    assert "hx-trigger" not in done
    assert len(scan(item_table)) == 150
    assert AuditEvent.objects.get(action="data.seed", actor_name="otto").detail["written"] == 150


@pytest.mark.parametrize("count", ["5", "500"])
def test_rules_that_cannot_hold_write_nothing(
    count: str, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response = seed(operator_client, data_branch, {"count": count, "c-count-minimum": "10", "c-count-maximum": "1"})
    [message] = messages_of(response)
    assert message.startswith("count: ")
    assert "greater than its maximum" in message
    assert message.endswith("Nothing was written.")
    assert scan(item_table) == []
    assert not DataTask.objects.exists()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"count": "0"}, "Seed from 1 to 10,000 records; '0' is not such a number."),
        ({"count": "10001"}, "Seed from 1 to 10,000 records; '10001' is not such a number."),
        ({"count": "many"}, "Seed from 1 to 10,000 records; 'many' is not such a number."),
        ({"count": "5", "c-count-minimum": "low"}, "count: lowest 'low' is not a number"),
        ({"count": "5", "c-done-true_percent": "150"}, "done: true share is a percentage from 0 to 100"),
        ({"count": "5", "c-title-min_length": "2.5"}, "title: shortest must be a whole number"),
    ],
)
def test_bad_counts_and_rules_are_explained_and_write_nothing(
    data: dict[str, str], problem: str, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    [message] = messages_of(seed(operator_client, data_branch, data))
    assert message.startswith(problem)
    assert message.endswith("Nothing was written.")
    assert scan(item_table) == []


def test_seeded_composite_keys_are_written(operator_client: Client, data_branch: Branch, post_table: dynamo.Table) -> None:
    seed(operator_client, data_branch, {"count": "10"}, model="Post")
    items = scan(post_table)
    assert len(items) == 10
    assert all(item["title#description"] == f"{item['title']}#{item['description']}" for item in items)
