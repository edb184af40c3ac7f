"""CSV import through the pages: upload, the mapping page with its preview and refusals
by line, the two modes, re-imports, mapping problems and files that cannot be read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.models import DataTask
from apps.datamanager.schema import TIMESTAMP_FIELDS
from apps.datamanager.tests.factories import scan
from apps.datamanager.tests.pages import data_url, messages_of, text_of
from console.models import AuditEvent

GOOD_AND_BAD = "id,title,priority,Count\na,one,low,1\nb,two,urgent,2\nc,three,high,x\nd,four,medium,4\n"
REFUSALS = ["line 3: priority: 'urgent' is not one of low, medium, high", "line 4: count: 'x' is not a whole number"]


def upload(client: Client, branch: Branch, text: str | bytes, name: str = "items.csv") -> Any:
    data = text.encode() if isinstance(text, str) else text
    return client.post(data_url(branch, "data_import", "Item"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def mapping_of(page: Any) -> dict[str, str]:
    """The form of the mapping page as the browser would post it (the suggested mapping)."""
    context = page.context
    return {f"map-{index}": context["mapping"].get(column, "") for index, column in context["header"]}


def test_upload_leads_to_the_mapping_page_with_a_preview_and_every_refusal_by_line(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response = upload(operator_client, data_branch, GOOD_AND_BAD)
    task = DataTask.objects.get()
    assert (task.status, task.total, task.payload["file_name"]) == (DataTask.Status.DRAFT, 4, "items.csv")
    assert response.url == data_url(data_branch, "data_import_map", "Item", task.pk)
    page = operator_client.get(response.url)
    shown = text_of(page)
    assert "Import items.csv into Item" in shown
    assert mapping_of(page) == {"map-0": "id", "map-1": "title", "map-2": "priority", "map-3": "count"}
    for line, first in ((2, "a"), (3, "b"), (4, "c"), (5, "d")):
        assert f"<tr><td>{line}</td><td>{first}</td>" in shown
    assert "2 of 4 rows can be written; 2 refused." in re.sub(r"</?strong>", "", shown)
    for refusal in REFUSALS:
        assert f"<li>{refusal}</li>" in shown
    assert scan(item_table) == []


def import_file(
    client: Client, branch: Branch, text: str, mode: str = "skip", changes: dict[str, str] | None = None
) -> tuple[Any, DataTask]:
    task_url = upload(client, branch, text).url
    data = {**mapping_of(client.get(task_url)), "mode": mode, **(changes or {})}
    response = client.post(task_url, data)
    return response, DataTask.objects.get(pk=int(task_url.rstrip("/").rsplit("/", 1)[1]))


def test_skip_mode_writes_the_valid_rows_and_reports_the_refused(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response, task = import_file(operator_client, data_branch, GOOD_AND_BAD)
    assert response.url == data_url(data_branch, "data_task", task.pk)
    assert [(item["id"], item["title"], item["__typename"]) for item in scan(item_table)] == [
        ("a", "one", "Item"),
        ("d", "four", "Item"),
    ]
    page = text_of(operator_client.get(response.url))
    assert "Done" in page
    assert "2 written, 2 refused of 4" in page
    for refusal in REFUSALS:
        assert f"<li>{refusal}</li>" in page
    task.refresh_from_db()
    assert "csv" not in task.payload
    event = AuditEvent.objects.get(action="data.import")
    assert (event.actor_name, event.detail["written"], event.detail["refused"]) == ("otto", 2, 2)
    again = operator_client.post(data_url(data_branch, "data_import_map", "Item", task.pk), {"map-0": "id", "map-1": "title"})
    assert again.status_code == 404, "an upload was imported twice"


def test_all_or_nothing_writes_nothing_when_a_row_is_refused(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response, _ = import_file(operator_client, data_branch, GOOD_AND_BAD, mode="all_or_nothing")
    assert scan(item_table) == []
    page = text_of(operator_client.get(response.url))
    assert "0 written, 2 refused of 4" in page
    assert "Nothing was written: every row must be valid in an all-or-nothing import, so the 2 valid rows were held back." in page
    for refusal in REFUSALS:
        assert f"<li>{refusal}</li>" in page


def test_all_or_nothing_writes_every_row_of_a_valid_file(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    import_file(operator_client, data_branch, "id,title\na,one\nb,two\n", mode="all_or_nothing")
    assert [item["id"] for item in scan(item_table)] == ["a", "b"]


def without_timestamps(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in TIMESTAMP_FIELDS} for item in items]


def test_importing_the_same_file_twice_leaves_the_same_data(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    # Without an id column: each row's id is derived from its values.
    text = 'title,count,tags\none,1,"[""x""]"\ntwo,2,\nthree,,[]\n'
    import_file(operator_client, data_branch, text)
    first = without_timestamps(scan(item_table))
    import_file(operator_client, data_branch, text)
    assert len(first) == 3
    assert without_timestamps(scan(item_table)) == first


def test_a_mapping_without_a_required_field_is_refused_and_writes_nothing(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response, task = import_file(operator_client, data_branch, GOOD_AND_BAD, changes={"map-1": ""})
    assert response.status_code == 400
    page = text_of(response)
    assert "No row can be imported with these columns, so nothing was written:" in page
    assert "the required field title has no column" in page
    assert scan(item_table) == []
    assert task.status == DataTask.Status.DRAFT
    assert not AuditEvent.objects.filter(action="data.import").exists()


def test_checking_again_previews_the_new_mapping_without_writing(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response, task = import_file(operator_client, data_branch, GOOD_AND_BAD, changes={"map-2": "", "map-3": "", "preview": "1"})
    assert response.status_code == 200
    assert "4 of 4 rows can be written" in re.sub(r"</?strong>", "", text_of(response))
    assert scan(item_table) == []
    assert task.status == DataTask.Status.DRAFT


def test_a_large_file_is_imported_by_a_task(
    operator_client: Client,
    data_branch: Branch,
    item_table: dynamo.Table,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    text = "id,title\n" + "".join(f"r{n},Row {n}\n" for n in range(1001))
    with django_capture_on_commit_callbacks(execute=True):
        response, task = import_file(operator_client, data_branch, text)
    task.refresh_from_db()
    assert (task.status, task.done, task.total) == (DataTask.Status.SUCCEEDED, 1001, 1001)
    assert "Importing 1,001 rows in the background; this page shows the progress." in messages_of(
        operator_client.get(response.url)
    )
    assert len(scan(item_table)) == 1001


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "The file is empty"),
        (b"\xff\xfeid,title\n", "The file is not UTF-8 text (byte 1 is not valid)"),
        (b"id,id\n1,2\n", "the header has the column 'id' twice"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_at_upload(
    content: bytes, problem: str, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response = operator_client.get(upload(operator_client, data_branch, content).url)
    [message] = messages_of(response)
    assert message.startswith("The file cannot be imported: ")
    assert problem in message
    assert not DataTask.objects.exists()


def test_hostile_cells_are_escaped_in_the_preview(operator_client: Client, data_branch: Branch, item_table: Any) -> None:
    page = operator_client.get(upload(operator_client, data_branch, "id,title\nx,<script>alert(1)</script>\n").url)
    content = page.content.decode()
    assert "<script>alert(1)" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_viewers_cannot_open_the_import(viewer_client: Client, data_branch: Branch, item_table: Any) -> None:
    assert viewer_client.get(data_url(data_branch, "data_import", "Item")).status_code == 403


def test_a_file_over_the_size_limit_is_refused_at_upload_and_nothing_is_kept(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    from apps.datamanager import csv_io

    over = b"id,title\n" + b"x,y\n" * (csv_io.MAX_CSV_BYTES // 4)
    assert len(over) > csv_io.MAX_CSV_BYTES
    [message] = messages_of(operator_client.get(upload(operator_client, data_branch, over).url))
    assert message == f"The file cannot be imported: The file is {len(over):,} bytes; the limit is 10 MB."
    assert not DataTask.objects.exists()
