"""Files in records: a text field whose value starts with a folder of the branch's storage
paths (or that a person marked) shows a thumbnail or a link; an operator replaces it with
an uploaded file, which the storage app puts in the bucket under that folder, and the field
then holds the new key (one audited update)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.branches.models import Branch
from apps.branches.services import app_create
from apps.datamanager import dynamo
from apps.datamanager.models import GridPreference
from apps.datamanager.schema import Model
from apps.datamanager.tests.factories import every_type_introspection, make_table, outputs_document, scan
from apps.datamanager.tests.pages import data_url, messages_of, put_items, text_of
from apps.datamanager.tests.test_views import key_token_of, record
from apps.storage.tests.conftest import BUCKET, REGION, all_keys, outputs_with_storage
from console.models import AuditEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def files_branch(db: None, make_repo: Callable[..., Path]) -> Branch:
    """A branch with the every-type data schema and a bucket whose access path is media/*."""
    app = app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    branch = app.branches.get(name="main")
    branch.backend_outputs = {**outputs_document(every_type_introspection(), region=REGION), **outputs_with_storage()}
    branch.save(update_fields=["backend_outputs"])
    return branch


@pytest.fixture
def s3() -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def table(files_branch: Branch, item_model: Model, s3: Any) -> dynamo.Table:
    return make_table(item_model)


def upload(
    client: Client, branch: Branch, item: dict[str, Any], *, name: str = "cat.png", body: bytes = PNG, **extra: str
) -> Any:
    form = {"key": key_token_of(item), "field": "title", "loaded_updated_at": item["updatedAt"], **extra}
    return client.post(data_url(branch, "data_record_file", "Item"), {**form, "file": SimpleUploadedFile(name, body)})


def test_storage_paths_show_as_a_thumbnail_or_a_link(viewer_client: Client, files_branch: Branch, table: dynamo.Table) -> None:
    put_items(
        table, [record("img", title="media/images/cat.png"), record("doc", title="media/docs/a.txt"), record("no", title="plain")]
    )
    page = text_of(viewer_client.get(data_url(files_branch, "data_model", "Item")))
    preview = f"/apps/{files_branch.app.app_id}/branches/main/storage/buckets/{BUCKET}/preview/?key="
    assert f'<a href="{preview}media%2Fimages%2Fcat.png" class="file-link"><img src="{preview}media%2Fimages%2Fcat.png"' in page
    assert f'<a href="{preview}media%2Fdocs%2Fa.txt" class="file-link">media/docs/a.txt</a>' in page
    assert '<td title="plain">plain</td>' in page


def test_an_operator_uploads_a_file_into_a_record(
    operator_client: Client, files_branch: Branch, table: dynamo.Table, s3: Any
) -> None:
    item = record("r1", title="media/images/old.png")
    put_items(table, [item])
    response = upload(operator_client, files_branch, item)
    assert response.status_code == 302
    [key] = all_keys(s3)
    assert re.fullmatch(r"media/Item/[0-9a-f]{12}/cat\.png", key)
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG
    assert scan(table)[0]["title"] == key
    assert messages_of(operator_client.get(response["Location"])) == [f"title now points at {key} in {BUCKET}."]
    assert AuditEvent.objects.filter(action="storage.upload").count() == 1
    [update] = AuditEvent.objects.filter(action="data.update")
    assert update.detail["fields"] == ["title"]


def test_a_hostile_file_name_is_cut_to_a_plain_name(
    operator_client: Client, files_branch: Branch, table: dynamo.Table, s3: Any
) -> None:
    item = record("r1", title="media/x.txt")
    put_items(table, [item])
    upload(operator_client, files_branch, item, name="../../etc/pass\x07wd")
    [key] = all_keys(s3)
    assert re.fullmatch(r"media/Item/[0-9a-f]{12}/passwd", key)


def test_a_field_holding_no_path_takes_no_file_until_marked(
    operator_client: Client, files_branch: Branch, table: dynamo.Table, s3: Any, operator_user: Any
) -> None:
    item = record("r1", title="Just a title")
    put_items(table, [item])
    response = upload(operator_client, files_branch, item)
    [message] = messages_of(operator_client.get(response["Location"]))
    assert message == "title holds no file path; mark it as a file field in Columns first. Nothing was uploaded."
    assert all_keys(s3) == []
    assert scan(table) == [item]
    GridPreference.objects.create(user=operator_user, branch=files_branch, model_name="Item", file_fields=["title"])
    upload(operator_client, files_branch, item, name="notes.txt", body=b"notes")
    [key] = all_keys(s3)
    assert re.fullmatch(r"media/Item/[0-9a-f]{12}/notes\.txt", key)
    assert scan(table)[0]["title"] == key


def test_a_record_changed_meanwhile_keeps_its_value_and_says_where_the_file_went(
    operator_client: Client, files_branch: Branch, table: dynamo.Table, s3: Any
) -> None:
    loaded = record("r1", title="media/a.png")
    changed = {**loaded, "updatedAt": "2026-05-05T00:00:00.000Z"}
    put_items(table, [changed])
    response = upload(operator_client, files_branch, loaded)
    [message] = messages_of(operator_client.get(response["Location"]))
    assert "the record changed since the page was loaded, so title was not changed" in message
    assert scan(table) == [changed]


def test_viewers_may_not_upload_into_records(viewer_client: Client, files_branch: Branch, table: dynamo.Table, s3: Any) -> None:
    item = record("r1", title="media/a.png")
    put_items(table, [item])
    assert upload(viewer_client, files_branch, item).status_code == 403
    assert all_keys(s3) == []
    assert scan(table) == [item]


def test_the_side_panel_offers_the_upload_to_operators_only(
    operator_client: Client, viewer_client: Client, files_branch: Branch, table: dynamo.Table
) -> None:
    item = record("r1", title="media/images/cat.png")
    put_items(table, [item])
    query = {"key": key_token_of(item), "field": "title"}
    panel = text_of(operator_client.get(data_url(files_branch, "data_cell", "Item"), query))
    assert f'action="{data_url(files_branch, "data_record_file", "Item")}"' in panel
    assert 'class="panel-image"' in panel
    assert 'type="file"' not in text_of(viewer_client.get(data_url(files_branch, "data_cell", "Item"), query))


def test_the_edit_page_replaces_a_file_field_and_comes_back_to_the_record(
    operator_client: Client, files_branch: Branch, table: dynamo.Table, s3: Any
) -> None:
    item = record("r1", title="media/docs/old.txt")
    put_items(table, [item])
    edit_path = data_url(files_branch, "data_record_edit", "Item")
    page = text_of(operator_client.get(edit_path, {"key": key_token_of(item)}))
    assert "Replace title with a file uploaded to the branch's bucket" in page
    response = upload(operator_client, files_branch, item, name="new.txt", body=b"new", back="edit")
    back = urlsplit(response["Location"])
    assert (back.path, parse_qs(back.query)["key"]) == (edit_path, [key_token_of(item)])
    [key] = all_keys(s3)
    assert scan(table)[0]["title"] == key
