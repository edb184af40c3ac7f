"""A model's field order survives the database, whichever way the outputs are written:
PostgreSQL's jsonb sorts object keys, so the order is recorded as a list on write
(a build captures outputs with `QuerySet.update`, an upload with `save`)."""

from __future__ import annotations

import copy
from typing import Any

from apps.branches.models import Branch
from apps.branches.outputs import FIELD_ORDER_KEY
from apps.datamanager.models import SchemaUpload
from apps.datamanager.schema import schema_from_introspection
from apps.datamanager.tests.factories import field, model, outputs_document

# Deliberately not alphabetical, so a store that sorts keys would show it.
ORDER = ["id", "title", "body", "zone", "amount", "createdAt", "updatedAt"]


def unsorted_outputs() -> dict[str, Any]:
    fields = [field("id", "ID", required=True), field("title", "String"), field("body", "String")]
    fields += [field("zone", "String"), field("amount", "Int")]
    return outputs_document({"version": 1, "models": {"Note": model("Note", fields)}, "enums": {}, "nonModels": {}})


def field_names(document: dict[str, Any]) -> list[str]:
    schema = schema_from_introspection(document["data"]["model_introspection"])
    note = schema.model("Note")
    assert note is not None
    return [f.name for f in note.fields]


def test_outputs_written_by_update_keep_their_field_order(data_branch: Branch) -> None:
    Branch.objects.filter(pk=data_branch.pk).update(backend_outputs=unsorted_outputs())
    data_branch.refresh_from_db()
    stored = data_branch.backend_outputs
    assert stored["data"]["model_introspection"]["models"]["Note"][FIELD_ORDER_KEY] == ORDER
    assert field_names(stored) == ORDER


def test_outputs_written_by_save_keep_their_field_order(data_branch: Branch) -> None:
    upload = SchemaUpload.objects.create(branch=data_branch, document=unsorted_outputs(), file_name="amplify_outputs.json")
    upload.refresh_from_db()
    assert field_names(upload.document) == ORDER


def test_a_recorded_order_is_not_replaced_and_other_documents_pass_through(data_branch: Branch) -> None:
    document = unsorted_outputs()
    document["data"]["model_introspection"]["models"]["Note"][FIELD_ORDER_KEY] = list(reversed(ORDER))
    Branch.objects.filter(pk=data_branch.pk).update(backend_outputs=copy.deepcopy(document))
    data_branch.refresh_from_db()
    assert field_names(data_branch.backend_outputs) == list(reversed(ORDER))

    without_data = {"version": "1.4", "auth": {"user_pool_id": "us-east-1_x"}}
    Branch.objects.filter(pk=data_branch.pk).update(backend_outputs=without_data)
    data_branch.refresh_from_db()
    assert data_branch.backend_outputs == without_data
