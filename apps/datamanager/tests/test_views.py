"""The data manager's pages: the model list and the outputs upload, a missing table,
browsing (paging, filters, counts, long and hostile values), record forms for every
type, edits (read-only keys, concurrent changes), deletes, exports, and what viewers see."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import boto3
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.branches.models import Branch
from apps.branches.services import app_create
from apps.datamanager import dynamo
from apps.datamanager.csv_io import BOM, export_header
from apps.datamanager.models import SchemaUpload
from apps.datamanager.schema import DataSchema, Model
from apps.datamanager.tests.factories import every_type_introspection, every_type_schema, make_table, outputs_document, scan
from apps.datamanager.tests.pages import data_url, hidden_value, link, messages_of, put_items, text_of
from apps.datamanager.views import key_token
from console.models import AuditEvent

LOADED_AT = "2026-01-01T00:00:00.000Z"


def record(id_: str, **fields: Any) -> dict[str, Any]:
    """An Item as the AppSync resolvers store it."""
    return {"id": id_, "title": f"Title {id_}", "createdAt": LOADED_AT, "updatedAt": LOADED_AT, "__typename": "Item", **fields}


def key_token_of(item: dict[str, Any], model_name: str = "Item") -> str:
    model = every_type_schema().model(model_name)
    assert model is not None
    return key_token(model, item)


def error_of(response: Any, field: str) -> str:
    """The error shown under a form field (empty when it has none)."""
    match = re.search(rf'<div id="id_{field}_error">(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


# The model list and the outputs upload


def test_models_are_listed_with_their_keys(viewer_client: Client, data_branch: Branch) -> None:
    response = viewer_client.get(data_url(data_branch, "data_home"))
    page = text_of(response)
    assert response.status_code == 200
    for name in ("Blog", "Item", "Post"):
        assert f'href="{data_url(data_branch, "data_model", name)}"' in page
    assert "key blogId, title, description" in page
    assert "the amplify_outputs.json of the last build" in page


@pytest.fixture
def bare_branch(db: None, make_repo: Callable[..., Path]) -> Branch:
    """A branch with no schema anywhere: no captured outputs, no upload, no stack."""
    app = app_create(actor=None, name="Bare", repository=str(make_repo(("main",))), production_branch="main")
    return app.branches.get(name="main")


def test_a_branch_without_schema_says_so_and_offers_the_upload(operator_client: Client, bare_branch: Branch) -> None:
    response = operator_client.get(data_url(bare_branch, "data_home"))
    page = text_of(response)
    assert response.status_code == 200
    assert "No data schema for main" in page
    assert "Deploy the branch, or upload its amplify_outputs.json." in page
    assert f'action="{data_url(bare_branch, "data_outputs_upload")}"' in page
    assert 'type="file" name="outputs"' in page


def upload(client: Client, branch: Branch, text: str, name: str = "amplify_outputs.json") -> Any:
    file = SimpleUploadedFile(name, text.encode(), content_type="application/json")
    return client.post(data_url(branch, "data_outputs_upload"), {"outputs": file}, follow=True)


def test_a_valid_outputs_upload_is_kept_and_its_models_shown(operator_client: Client, bare_branch: Branch) -> None:
    response = upload(operator_client, bare_branch, json.dumps(outputs_document(every_type_introspection())))
    assert messages_of(response) == ["Schema loaded from amplify_outputs.json."]
    page = text_of(response)
    assert "an uploaded amplify_outputs.json" in page
    for name in ("Blog", "Item", "Post"):
        assert f'href="{data_url(bare_branch, "data_model", name)}"' in page
    assert SchemaUpload.objects.get(branch=bare_branch).file_name == "amplify_outputs.json"
    assert AuditEvent.objects.filter(action="data.outputs_upload", actor_name="otto").exists()


def test_an_invalid_outputs_upload_names_every_problem_and_keeps_nothing(operator_client: Client, bare_branch: Branch) -> None:
    document = outputs_document(every_type_introspection())
    document["data"]["url"] = 5
    document["data"]["default_authorization_type"] = "NOPE"
    del document["data"]["model_introspection"]["models"]["Blog"]["pluralName"]
    for n in range(12):
        document["data"]["model_introspection"]["models"][f"M{n}"] = {"name": f"M{n}"}
    response = upload(operator_client, bare_branch, json.dumps(document))
    [message] = messages_of(response)
    assert message.startswith("The file was not kept: ")
    problems = [
        "data.url: must be a string, not a number",
        "data.default_authorization_type: 'NOPE' is not one of",
        "data.model_introspection.models.Blog.pluralName: is required",
        *(f"data.model_introspection.models.M{n}.{key}: is required" for n in range(12) for key in ("fields", "pluralName")),
    ]
    for problem in problems:
        assert problem in message
    assert not SchemaUpload.objects.exists()
    assert "No data schema for main" in text_of(response)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"version": "1.4", ', "(document): not valid JSON"),
        (json.dumps({"version": "1.4"}), "has no data.model_introspection"),
    ],
)
def test_outputs_that_are_not_json_or_have_no_models_are_not_kept(
    operator_client: Client, bare_branch: Branch, text: str, problem: str
) -> None:
    [message] = messages_of(upload(operator_client, bare_branch, text))
    assert problem in message
    assert not SchemaUpload.objects.exists()


def test_a_missing_table_is_explained_not_shown_empty(viewer_client: Client, data_branch: Branch) -> None:
    response = viewer_client.get(data_url(data_branch, "data_model", "Blog"))
    page = text_of(response)
    assert f"No DynamoDB table named Blog-<apiId>-NONE in {settings.AWS_REGION}." in page
    assert 'role="alert"' in page
    assert "No records yet" not in page


def test_an_unknown_model_is_not_found(viewer_client: Client, item_table: dynamo.Table, data_branch: Branch) -> None:
    assert viewer_client.get(data_url(data_branch, "data_model", "Nope")).status_code == 404


# Browsing

RECORDS = 1010
ROW_ID = re.compile(r">(rec-\d{4})</a>")


@pytest.fixture
def many(data_schema: DataSchema) -> list[dict[str, Any]]:
    """Blogs (a narrow model, so pages render quickly) named `alpha-N` or `beta-N`, N = n % 7."""
    blog = data_schema.model("Blog")
    assert blog is not None
    items = [
        {"id": f"rec-{n:04d}", "name": f"{'alpha' if n % 3 == 0 else 'beta'}-{n % 7}", "createdAt": LOADED_AT,
         "updatedAt": LOADED_AT, "__typename": "Blog"}
        for n in range(RECORDS)
    ]  # fmt: skip
    put_items(make_table(blog), items)
    return items


def follow(url: str, href: str) -> str:
    """Where a link leads from `url`, as a browser resolves it ("?" is the bare path)."""
    return url.split("?")[0] + href if href.startswith("?") else urljoin(url, href)


def walk(client: Client, url: str) -> list[list[str]]:
    """Follow the Next links from `url` to the last page, then the Previous links back
    to the first, checking each page going back is the one seen going forward."""
    pages: list[list[str]] = []
    while True:
        response = client.get(url)
        assert response.status_code == 200
        ids = ROW_ID.findall(response.content.decode())
        pages.append(ids)
        assert f"Page {len(pages)} · {len(ids)} record" in text_of(response), f"page {len(pages)} is not numbered so"
        href = link(response, "Next")
        if href is None:
            break
        url = follow(url, href)
    for number in range(len(pages) - 1, 0, -1):
        href = link(response, "Previous")
        assert href is not None, f"page {number + 1} has no Previous link"
        url = follow(url, href)
        response = client.get(url)
        assert ROW_ID.findall(response.content.decode()) == pages[number - 1]
    assert link(response, "Previous") is None
    return pages


def assert_each_once(pages: list[list[str]], expected: list[str], size: int) -> None:
    seen = [record_id for page in pages for record_id in page]
    assert len(seen) == len(set(seen)), "a record was shown twice"
    assert sorted(seen) == sorted(expected)
    assert all(len(page) == size for page in pages[:-1])
    assert 0 < len(pages[-1]) <= size


@pytest.mark.parametrize("size", [25, 50, 100])
def test_paging_shows_every_record_exactly_once(
    size: int, viewer_client: Client, data_branch: Branch, many: list[dict[str, Any]]
) -> None:
    pages = walk(viewer_client, f"{data_url(data_branch, 'data_model', 'Blog')}?size={size}")
    assert_each_once(pages, [item["id"] for item in many], size)
    assert len(pages) == -(-RECORDS // size)


class DynamoDBScanAnswers:
    """The emulator's client, but Scan answers as DynamoDB does: a LastEvaluatedKey whenever
    Limit items came back, even when they were the table's last (moto leaves it out then)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def scan(self, **request: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.scan(**request)
        items = answer.get("Items", [])
        if items and len(items) == request.get("Limit") and "LastEvaluatedKey" not in answer:
            answer["LastEvaluatedKey"] = {key: items[-1][key] for key in ("id",)}
        return answer


@pytest.mark.parametrize("records", [25, 50])
def test_a_table_that_fills_its_last_page_exactly_shows_no_next_link(
    records: int, viewer_client: Client, data_branch: Branch, data_schema: DataSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_client = dynamo.aws_client
    monkeypatch.setattr(dynamo, "aws_client", lambda service, **kwargs: DynamoDBScanAnswers(real_client(service, **kwargs)))
    blog = data_schema.model("Blog")
    assert blog is not None
    put_items(
        make_table(blog),
        [
            {"id": f"rec-{n:04d}", "name": f"n-{n}", "createdAt": LOADED_AT, "updatedAt": LOADED_AT, "__typename": "Blog"}
            for n in range(records)
        ],
    )
    pages = walk(viewer_client, f"{data_url(data_branch, 'data_model', 'Blog')}?size=25")
    assert [len(page) for page in pages] == [25] * (records // 25)  # no empty page behind a Next link


@pytest.mark.parametrize(
    ("op", "field", "value", "matches"),
    [
        ("equals", "name", "beta-3", lambda item: item["name"] == "beta-3"),
        ("contains", "name", "-1", lambda item: "-1" in item["name"]),
        ("begins_with", "name", "alpha", lambda item: item["name"].startswith("alpha")),
    ],
)
def test_filtered_paging_shows_every_match_exactly_once(
    op: str,
    field: str,
    value: str,
    matches: Callable[[dict[str, Any]], bool],
    viewer_client: Client,
    data_branch: Branch,
    many: list[dict[str, Any]],
) -> None:
    query = urlencode({"field": field, "op": op, "value": value})
    pages = walk(viewer_client, f"{data_url(data_branch, 'data_model', 'Blog')}?{query}")
    expected = [item["id"] for item in many if matches(item)]
    assert 25 < len(expected) < RECORDS
    assert_each_once(pages, expected, 25)


def test_the_exact_count_is_given_on_demand(operator_client: Client, data_branch: Branch, many: list[dict[str, Any]]) -> None:
    url = data_url(data_branch, "data_model", "Blog")
    first = operator_client.get(url)
    assert not re.search(r"exactly \d", text_of(first))
    href = link(first, "count exactly")
    assert href is not None
    assert f"exactly {RECORDS}" in text_of(operator_client.get(follow(url, href)))
    filtered = operator_client.get(f"{url}?{urlencode({'field': 'name', 'op': 'begins_with', 'value': 'alpha'})}")
    href = link(filtered, "count exactly")
    assert href is not None
    alphas = sum(1 for item in many if item["name"].startswith("alpha"))
    assert f"exactly {alphas} matching the filter" in text_of(operator_client.get(follow(url, href)))


def test_a_filter_value_of_the_wrong_type_is_explained(viewer_client: Client, data_branch: Branch, item_table: Any) -> None:
    response = viewer_client.get(data_url(data_branch, "data_model", "Item") + "?field=count&op=equals&value=many")
    assert "count: 'many' is not a whole number" in text_of(response)


def test_long_and_json_values_are_cut_short_in_the_grid_and_whole_in_the_side_panel(
    viewer_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    long_title = "word " * 300
    meta = json.dumps({"key": "value " * 30})
    put_items(item_table, [record("long", title=long_title, meta=meta), record("short", title="Brief")])
    page = text_of(viewer_client.get(data_url(data_branch, "data_model", "Item")))
    # The cell holds the start (CSS cuts it to the column), the hover title a longer start.
    assert f'<td title="{long_title[:1000]}…">{long_title[:200]}</td>' in page
    assert f'<td title="{meta}">{meta}</td>' in page
    assert '<td title="Brief">Brief</td>' in page
    panel = viewer_client.get(data_url(data_branch, "data_cell", "Item"), {"key": key_token_of(record("long")), "field": "title"})
    assert f'<pre class="panel-value text" id="cell-panel-value">{long_title}</pre>' in text_of(panel)
    panel = viewer_client.get(data_url(data_branch, "data_cell", "Item"), {"key": key_token_of(record("long")), "field": "meta"})
    assert json.dumps(json.loads(meta), indent=2) in text_of(panel)


HOSTILE = "<script>alert('x')</script>"


def test_hostile_values_are_escaped(operator_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    item = record("bad", title=HOSTILE, meta=json.dumps({"x": HOSTILE * 5}), tags=[HOSTILE])
    put_items(item_table, [item])
    list_page = operator_client.get(data_url(data_branch, "data_model", "Item")).content.decode()
    edit_page = operator_client.get(data_url(data_branch, "data_record_edit", "Item") + "?key=" + key_token_of(item)).content
    refused = operator_client.post(data_url(data_branch, "data_record_new", "Item"), {"title": HOSTILE, "count": HOSTILE})
    for content in (list_page, edit_page.decode(), refused.content.decode()):
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert(" in content


# Creating records

VALID = {"title": "Valid"}
BAD_VALUES = [
    ("id", "x" * 1025, "an ID is at most 1024 characters"),
    ("title", "", "is required"),
    ("count", "12.5", "'12.5' is not a whole number"),
    ("count", str(2**31), "2147483648 is outside the 32-bit range"),
    ("price", "1,5", "'1,5' is not a number"),
    ("price", "1e200", "too large or too small for DynamoDB"),
    ("price", "1e400", "must be a finite number"),
    ("done", "maybe", "Select a valid choice"),
    ("due", "2026-02-30", "'2026-02-30' is not a date like 2026-11-26"),
    ("at", "25:00", "'25:00' is not a time like 14:30"),
    ("when", "2026-11-26T14:30:00", "is not a date and time with a zone"),
    ("stamp", "tomorrow", "'tomorrow' is not a whole number"),
    ("email", "ada@", "'ada@' is not an email address"),
    ("meta", "{not json", "is not valid JSON"),
    ("phone", "call me", "'call me' is not a phone number"),
    ("site", "example dot com", "is not a URL"),
    ("ip", "300.1.2.3", "'300.1.2.3' is not an IPv4 or IPv6 address"),
    ("priority", "urgent", "Select a valid choice. urgent is not one of the available choices."),
    ("tags", '"one"', "must be a list"),
    ("scores", '[1, "two"]', "scores[1]: 'two' is not a whole number"),
    ("levels", '["low", "urgent"]', "levels[1]: 'urgent' is not one of low, medium, high"),
    ("address", '{"zip": 1}', "address.street: is required"),
    ("address", '{"street": "x", "floor": 2}', "Address has no field 'floor'"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_VALUES)])
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(
    field: str, value: str, message: str, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response = operator_client.post(data_url(data_branch, "data_record_new", "Item"), {**VALID, field: value})
    assert response.status_code == 400
    assert message in error_of(response, field)
    assert list(response.context["form"].errors) == [field]
    assert "Nothing was saved" in text_of(response)
    assert scan(item_table) == []
    assert not AuditEvent.objects.filter(action="data.create").exists()


EVERY_TYPE = {
    "id": "",
    "title": "Every type",
    "count": "-2147483648",
    "price": "3.25",
    "done": "true",
    "due": "2026-11-26",
    "at": "14:30:00Z",
    "when": "2026-11-26T14:30:00.000Z",
    "stamp": "1795000000",
    "email": "ada@example.com",
    "meta": '{"a": [1, 2]}',
    "phone": "+14155550123",
    "site": "https://example.com/x?y=1",
    "ip": "2001:db8::1",
    "priority": "high",
    "address": '{"street": "1 Main St", "zip": 12345, "lines": ["a"]}',
    "tags": '["a", "b"]',
    "scores": "[1, 2]",
    "ratios": "[0.5]",
    "flags": "[true, false]",
    "levels": '["low"]',
    "places": '[{"street": "x"}]',
    "blobs": '[{"k": 1}]',
}


def test_a_record_of_every_type_is_stored_as_the_resolvers_store_it(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    response = operator_client.post(data_url(data_branch, "data_record_new", "Item"), EVERY_TYPE, follow=True)
    [item] = scan(item_table)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", item.pop("id"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["createdAt"])
    assert item.pop("createdAt") == item.pop("updatedAt")
    assert item == {
        "__typename": "Item",
        "title": "Every type",
        "count": Decimal(-2147483648),
        "price": Decimal("3.25"),
        "done": True,
        "due": "2026-11-26",
        "at": "14:30:00Z",
        "when": "2026-11-26T14:30:00.000Z",
        "stamp": Decimal(1795000000),
        "email": "ada@example.com",
        "meta": '{"a": [1, 2]}',
        "phone": "+14155550123",
        "site": "https://example.com/x?y=1",
        "ip": "2001:db8::1",
        "priority": "high",
        "address": {"street": "1 Main St", "zip": Decimal(12345), "lines": ["a"]},
        "tags": ["a", "b"],
        "scores": [Decimal(1), Decimal(2)],
        "ratios": [Decimal("0.5")],
        "flags": [True, False],
        "levels": ["low"],
        "places": [{"street": "x"}],
        "blobs": ['{"k":1}'],
    }
    assert messages_of(response)[0].startswith("Item id=")
    assert AuditEvent.objects.filter(action="data.create", actor_name="otto").exists()


def test_creating_a_key_that_exists_is_refused_and_keeps_the_record(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("dup", title="Original")])
    response = operator_client.post(data_url(data_branch, "data_record_new", "Item"), {"id": "dup", "title": "Other"})
    assert response.status_code == 400
    assert "A record with this key already exists." in text_of(response)
    assert [item["title"] for item in scan(item_table)] == ["Original"]


def test_a_model_with_sort_keys_asks_for_them_and_writes_the_composite_key(
    operator_client: Client, data_branch: Branch, post_table: dynamo.Table
) -> None:
    url = data_url(data_branch, "data_record_new", "Post")
    form = operator_client.get(url).context["form"]
    assert {"blogId", "title", "description"} <= set(form.fields)
    assert post_table.range_key == "title#description"
    response = operator_client.post(url, {"blogId": "b1", "title": "Hello", "description": "First"})
    assert response.status_code == 302
    [item] = scan(post_table)
    assert item["title#description"] == "Hello#First"
    assert (item["blogId"], item["__typename"]) == ("b1", "Post")


def test_a_missing_sort_key_is_refused(operator_client: Client, data_branch: Branch, post_table: dynamo.Table) -> None:
    response = operator_client.post(data_url(data_branch, "data_record_new", "Post"), {"blogId": "b1", "title": "Hello"})
    assert response.status_code == 400
    assert "is required" in error_of(response, "description")
    assert scan(post_table) == []


# Editing


def open_edit(client: Client, branch: Branch, item: dict[str, Any], model: str = "Item") -> tuple[str, dict[str, Any]]:
    """The edit URL of a record and the values its form holds, as a browser would post them."""
    url = data_url(branch, "data_record_edit", model) + "?key=" + key_token_of(item, model)
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["form"]
    values = {name: form[name].value() or "" for name in form.fields if not form.fields[name].disabled}
    return url, {**values, "key": hidden_value(response, "key")}


def test_edit_keeps_the_keys_read_only(operator_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    put_items(item_table, [record("e1", title="Before", count=7)])
    url, values = open_edit(operator_client, data_branch, record("e1"))
    page = operator_client.get(url).content.decode()
    assert re.search(r'<input[^>]*name="id"[^>]*disabled', page)
    response = operator_client.post(url, {**values, "id": "changed", "title": "After"})
    assert response.status_code == 302
    [item] = scan(item_table)
    assert (item["id"], item["title"], item["count"], item["createdAt"]) == ("e1", "After", 7, LOADED_AT)
    assert item["updatedAt"] > LOADED_AT
    assert AuditEvent.objects.get(action="data.update").detail["fields"] == ["title"]


def test_edit_of_a_record_changed_meanwhile_is_refused_and_keeps_the_other_change(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("e1", title="Before")])
    url, values = open_edit(operator_client, data_branch, record("e1"))
    put_items(item_table, [record("e1", title="Theirs", updatedAt="2026-06-01T00:00:00.000Z")])
    response = operator_client.post(url, {**values, "title": "Mine"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Someone changed or deleted this record since you opened it" in page
    assert "Nothing was saved" in page
    [item] = scan(item_table)
    assert (item["title"], item["updatedAt"]) == ("Theirs", "2026-06-01T00:00:00.000Z")


def test_edit_of_a_record_deleted_meanwhile_says_so(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("e1")])
    url, values = open_edit(operator_client, data_branch, record("e1"))
    boto3.client("dynamodb", region_name=settings.AWS_REGION).delete_item(TableName=item_table.name, Key={"id": {"S": "e1"}})
    response = operator_client.post(url, {**values, "title": "Mine"}, follow=True)
    assert messages_of(response) == ["That Item record no longer exists."]
    assert scan(item_table) == []


def test_edit_of_a_composite_key_record_keeps_its_keys(
    operator_client: Client, data_branch: Branch, post_table: dynamo.Table
) -> None:
    post = {"blogId": "b1", "title": "Hello", "description": "First", "title#description": "Hello#First",
            "createdAt": LOADED_AT, "updatedAt": LOADED_AT, "__typename": "Post"}  # fmt: skip
    put_items(post_table, [post])
    url, values = open_edit(operator_client, data_branch, post, "Post")
    assert operator_client.post(url, {**values, "title": "Changed", "body": "Text"}).status_code == 302
    [item] = scan(post_table)
    assert (item["title"], item["title#description"], item["body"]) == ("Hello", "Hello#First", "Text")


def tampered(token: str) -> str:
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


def test_tampered_or_foreign_key_tokens_are_not_found(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("t1")])
    token = key_token_of(record("t1"))
    post_token = key_token_of({"blogId": "t1", "title": "a", "description": "b"}, "Post")
    for bad in (tampered(token), post_token, "junk"):
        assert operator_client.get(data_url(data_branch, "data_record_edit", "Item") + "?key=" + bad).status_code == 404
        edit = operator_client.post(data_url(data_branch, "data_record_edit", "Item"), {"key": bad, "title": "x"})
        assert edit.status_code == 404
        delete = operator_client.post(data_url(data_branch, "data_delete", "Item"), {"keys": [bad], "confirm": "delete 1"})
        assert delete.status_code == 404
        assert operator_client.get(data_url(data_branch, "data_export", "Item"), {"keys": [bad]}).status_code == 404
    assert [item["title"] for item in scan(item_table)] == ["Title t1"]


# Deleting


def test_deleting_needs_the_typed_count(operator_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    put_items(item_table, [record("a"), record("b"), record("c")])
    url = data_url(data_branch, "data_delete", "Item")
    keys = [key_token_of(record("a")), key_token_of(record("b"))]
    for wrong in ("", "delete 1", "delete 3", "yes"):
        response = operator_client.post(url, {"keys": keys, "confirm": wrong}, follow=True)
        assert messages_of(response) == ["Type “delete 2” to delete the 2 selected records. Nothing was deleted."]
        assert len(scan(item_table)) == 3
    response = operator_client.post(url, {"keys": keys, "confirm": "Delete 2 "}, follow=True)
    assert messages_of(response) == ["Deleted 2 Item records."]
    assert [item["id"] for item in scan(item_table)] == ["c"]
    assert AuditEvent.objects.get(action="data.delete").detail["deleted"] == 2


def test_deleting_with_nothing_selected_deletes_nothing(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("a")])
    response = operator_client.post(data_url(data_branch, "data_delete", "Item"), {"confirm": "delete 0"}, follow=True)
    assert messages_of(response) == ["Select the records to delete first. Nothing was deleted."]
    assert len(scan(item_table)) == 1


# Exporting


def body(response: Any) -> bytes:
    """A streamed response's content (an export never builds the file in memory)."""
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content)


def exported(response: Any) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(body(response).decode().removeprefix(BOM), newline="")))


@pytest.fixture
def three(item_table: dynamo.Table) -> list[dict[str, Any]]:
    items = [record("a", priority="high", tags=["x", "y"]), record("b", priority="low"), record("c", priority="high")]
    put_items(item_table, items)
    return items


def test_export_streams_every_record(viewer_client: Client, data_branch: Branch, item_model: Model, three: Any) -> None:
    response = viewer_client.get(data_url(data_branch, "data_export", "Item"))
    assert response["Content-Disposition"] == 'attachment; filename="main-Item.csv"'
    header, *rows = exported(response)
    assert header == export_header(item_model)
    assert sorted(row[0] for row in rows) == ["a", "b", "c"]
    assert dict(zip(header, next(row for row in rows if row[0] == "a"), strict=True))["tags"] == '["x","y"]'


def test_export_of_a_filter_gives_the_matching_records(viewer_client: Client, data_branch: Branch, three: Any) -> None:
    response = viewer_client.get(data_url(data_branch, "data_export", "Item"), {"field": "priority", "value": "high"})
    assert sorted(row[0] for row in exported(response)[1:]) == ["a", "c"]


def test_export_of_selected_records(viewer_client: Client, data_branch: Branch, three: Any) -> None:
    keys = [key_token_of(record("a")), key_token_of(record("b"))]
    response = viewer_client.get(data_url(data_branch, "data_export", "Item"), {"keys": keys})
    assert [row[0] for row in exported(response)[1:]] == ["a", "b"]


def test_export_selected_is_posted_so_no_csrf_token_lands_in_a_url(
    operator_client: Client, data_branch: Branch, three: Any
) -> None:
    page = operator_client.get(data_url(data_branch, "data_model", "Item")).content.decode()
    button = re.search(r"<button[^>]*>Export selected</button>", page)
    assert button is not None
    assert 'formmethod="post"' in button.group(0)
    keys = [key_token_of(record("a")), key_token_of(record("c"))]
    response = operator_client.post(data_url(data_branch, "data_export", "Item"), {"keys": keys, "bom": "1"})
    assert response.status_code == 200
    text = body(response).decode()
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert [row[0] for row in rows[1:]] == ["a", "c"]


def test_export_for_excel_starts_with_a_byte_order_mark(viewer_client: Client, data_branch: Branch, three: Any) -> None:
    url = data_url(data_branch, "data_export", "Item")
    assert body(viewer_client.get(url)).startswith(b"id,title,")
    excel = body(viewer_client.get(url, {"bom": "1"})).decode()
    assert excel.startswith(BOM + "id,title,")
    assert len(list(csv.reader(io.StringIO(excel.removeprefix(BOM), newline="")))) == 4


# What viewers see


def test_viewers_see_records_but_no_write_controls(
    viewer_client: Client, operator_client: Client, data_branch: Branch, three: Any
) -> None:
    url = data_url(data_branch, "data_model", "Item")
    controls = [
        'name="keys"',
        "Delete selected",
        f'href="{data_url(data_branch, "data_record_new", "Item")}"',
        f'href="{data_url(data_branch, "data_import", "Item")}"',
        f'action="{data_url(data_branch, "data_seed", "Item")}"',
    ]
    operator_page = operator_client.get(url).content.decode()
    viewer_page = viewer_client.get(url).content.decode()
    for control in controls:
        assert control in operator_page
        assert control not in viewer_page
    assert "Export CSV" in viewer_page
    assert ">a</a>" in viewer_page
    edit = viewer_client.get(data_url(data_branch, "data_record_edit", "Item") + "?key=" + key_token_of(record("a")))
    assert ">Save</button>" not in edit.content.decode()
    assert "Viewers can read records; operators can change them." in text_of(edit)


def test_viewers_are_not_offered_the_outputs_upload(viewer_client: Client, bare_branch: Branch) -> None:
    response = viewer_client.get(data_url(bare_branch, "data_home"))
    assert "No data schema for main" in text_of(response)
    assert 'name="outputs"' not in text_of(response)


def test_a_second_table_of_the_model_is_reported(viewer_client: Client, data_branch: Branch, item_model: Model) -> None:
    make_table(item_model, api_id="first")
    make_table(item_model, api_id="second")
    page = text_of(viewer_client.get(data_url(data_branch, "data_model", "Item")))
    assert "Several tables could hold Item (Item-first-NONE, Item-second-NONE)" in page
