"""Editing one cell of the grid: the record form's checks for the field, one conditional
UpdateItem, one audit event; a record changed since the page was loaded is refused (409)
naming both values; keys and service-set fields are not edited; viewers are refused."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.tests.factories import scan
from apps.datamanager.tests.pages import data_url, messages_of, put_items, text_of
from apps.datamanager.tests.test_views import LOADED_AT, key_token_of, record
from console.models import AuditEvent

HTMX = {"HX-Request": "true"}


class CountingClient:
    """The console's DynamoDB client, counting the calls made through it by name."""

    def __init__(self, client: Any, calls: list[str]) -> None:
        self.client, self.calls = client, calls

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if callable(attribute) and not name.startswith(("get_paginator", "meta", "_")):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attribute(*args, **kwargs)

            return counted
        return attribute


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = dynamo.aws_client
    monkeypatch.setattr(dynamo, "aws_client", lambda service, **kwargs: CountingClient(real(service, **kwargs), made))
    return made


def edit(client: Client, branch: Branch, field: str, value: str, *, item: dict[str, Any], htmx: bool = True, **extra: str) -> Any:
    form = {"key": key_token_of(item), "field": field, "value": value, "loaded_updated_at": item["updatedAt"], **extra}
    return client.post(data_url(branch, "data_cell_update", "Item"), form, headers=HTMX if htmx else None)


def test_an_operator_edits_one_cell_with_one_update_and_one_audit_event(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table, calls: list[str]
) -> None:
    item = record("r1", count=Decimal(3), tags=["a"])
    put_items(item_table, [item])
    response = edit(operator_client, data_branch, "count", "42", item=item)
    assert response.status_code == 200
    row = text_of(response)
    assert row.startswith("<tr ")
    assert '<td title="42">42</td>' in row  # the row as it now is, to replace the page's
    [stored] = scan(item_table)
    assert stored["count"] == Decimal(42)
    assert stored["updatedAt"] != LOADED_AT
    assert f'data-version="{stored["updatedAt"]}"' in row
    assert {k: v for k, v in stored.items() if k not in ("count", "updatedAt")} == {
        k: v for k, v in item.items() if k not in ("count", "updatedAt")
    }
    assert calls.count("update_item") == 1
    assert "put_item" not in calls
    [event] = AuditEvent.objects.filter(action="data.update")
    assert event.actor_name == "otto"
    assert {k: v for k, v in event.detail.items() if k != "key"} == {"model": "Item", "fields": ["count"], "via": "grid"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "12.5", "count: '12.5' is not a whole number"),
        ("count", str(2**31), "outside the 32-bit range"),
        ("priority", "urgent", "Select a valid choice. urgent is not one of the available choices."),
        ("done", "maybe", "Select a valid choice"),
        ("due", "2026-02-30", "'2026-02-30' is not a date like 2026-11-26"),
        ("when", "2026-11-26T14:30", "is not a date and time with a zone"),
        ("tags", '"one"', "must be a list"),
        ("title", "", "is required"),
    ],
)
def test_a_bad_value_is_refused_with_the_forms_message_and_nothing_is_written(
    field: str, value: str, message: str, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    item = record("r1")
    put_items(item_table, [item])
    response = edit(operator_client, data_branch, field, value, item=item)
    assert response.status_code == 400
    shown = html.unescape(response.content.decode())
    assert message in shown
    assert "Nothing was saved." in shown
    assert 'role="alert"' in shown
    assert scan(item_table) == [item]
    assert not AuditEvent.objects.filter(action="data.update").exists()


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("priority", "high", "high"),
        ("done", "false", False),
        ("due", "2026-11-26", "2026-11-26"),
        ("when", "2026-11-26T14:30:00Z", "2026-11-26T14:30:00Z"),
        ("price", "3.25", Decimal("3.25")),
        ("address", '{"street": "1 Main St", "zip": 12345}', {"street": "1 Main St", "zip": Decimal(12345)}),
    ],
)
def test_each_editor_s_value_is_stored_in_its_type(
    field: str, value: str, stored: Any, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    item = record("r1")
    put_items(item_table, [item])
    assert edit(operator_client, data_branch, field, value, item=item).status_code == 200
    assert scan(item_table)[0][field] == stored


def test_a_blank_optional_value_is_removed(operator_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    item = record("r1", email="ada@example.com")
    put_items(item_table, [item])
    assert edit(operator_client, data_branch, "email", "", item=item).status_code == 200
    assert "email" not in scan(item_table)[0]


def test_a_record_changed_since_the_page_was_loaded_is_refused_with_both_values(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    loaded = record("r1", title="Before")
    changed = {**loaded, "title": "Their title", "updatedAt": "2026-02-02T00:00:00.000Z"}
    put_items(item_table, [changed])
    response = edit(operator_client, data_branch, "title", "My title", item=loaded)
    assert response.status_code == 409
    shown = html.unescape(response.content.decode())
    assert "someone changed this Item record since the page was loaded" in shown
    assert "Your title: “My title”; now stored: “Their title”." in shown
    assert scan(item_table) == [changed]
    assert not AuditEvent.objects.filter(action="data.update").exists()


def test_a_record_deleted_since_the_page_was_loaded_is_refused(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response = edit(operator_client, data_branch, "title", "Anything", item=record("gone"))
    assert response.status_code == 409
    assert "this Item record was deleted since the page was loaded" in text_of(response)
    assert scan(item_table) == []


@pytest.mark.parametrize("field", ["id", "createdAt", "updatedAt"])
def test_keys_and_service_set_fields_are_not_edited(
    field: str, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    item = record("r1")
    put_items(item_table, [item])
    response = edit(operator_client, data_branch, field, "2026-03-03T00:00:00.000Z", item=item)
    assert response.status_code == 400
    assert f"{field} is not edited here" in text_of(response)
    assert scan(item_table) == [item]


def test_an_unknown_field_is_not_found(operator_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    item = record("r1")
    put_items(item_table, [item])
    assert edit(operator_client, data_branch, "nope", "x", item=item).status_code == 404
    assert scan(item_table) == [item]


def test_viewers_are_refused_and_get_no_edit_affordance(
    viewer_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    item = record("r1")
    put_items(item_table, [item])
    assert edit(viewer_client, data_branch, "title", "Viewer's", item=item).status_code == 403
    assert scan(item_table) == [item]
    page = viewer_client.get(data_url(data_branch, "data_model", "Item")).content.decode()
    assert 'id="grid"' in page
    assert "data-can-edit" not in page
    assert "data-editor=" not in page


def test_operators_see_an_editor_kind_per_type(operator_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    put_items(item_table, [record("r1")])
    page = text_of(operator_client.get(data_url(data_branch, "data_model", "Item")))
    editors = dict(re.findall(r'<th scope="col" data-f="(\w+)"(?: data-editor="(\w+)")?', page))
    expected = {"id": "", "createdAt": "", "title": "text", "count": "number", "priority": "select", "done": "toggle",
                "due": "date", "when": "datetime", "tags": "json", "address": "json", "meta": "json"}  # fmt: skip
    assert {name: editors[name] for name in expected} == expected
    assert 'data-choices="["low", "medium", "high"]"' in page


def test_without_javascript_an_edit_goes_back_to_the_records_page_with_a_message(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    item = record("r1")
    put_items(item_table, [item])
    response = edit(operator_client, data_branch, "title", "Plain", item=item, htmx=False, return_query="size=50")
    assert response.status_code == 302
    assert response["Location"] == data_url(data_branch, "data_model", "Item") + "?size=50"
    assert messages_of(operator_client.get(response["Location"])) == ["Item title saved."]
    assert scan(item_table)[0]["title"] == "Plain"
