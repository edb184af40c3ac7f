"""Relationships in the grid: a belongsTo key links to the parent record, a hasMany column
counts the children (a Query on an index keyed by their field, else a Scan with a limit)
and links to them filtered; the record form picks a parent from a searchable list."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.schema import DataSchema
from apps.datamanager.tests.factories import make_table
from apps.datamanager.tests.pages import data_url, put_items, text_of
from apps.datamanager.tests.test_views import LOADED_AT, key_token_of

STAMPS = {"createdAt": LOADED_AT, "updatedAt": LOADED_AT}


@pytest.fixture
def blogs(data_branch: Branch, data_schema: DataSchema) -> list[dict[str, Any]]:
    blog, post = data_schema.model("Blog"), data_schema.model("Post")
    assert blog is not None
    assert post is not None
    items = [{"id": f"b{n:02d}", "name": f"{'Garden' if n % 2 else 'Kitchen'} blog {n}", **STAMPS, "__typename": "Blog"}
             for n in range(12)]  # fmt: skip
    put_items(make_table(blog), items)
    posts = [
        {"blogId": blog_id, "title": f"t{n}", "description": "d", "title#description": f"t{n}#d", **STAMPS, "__typename": "Post"}
        for n, blog_id in enumerate(["b01", "b01", "b02"])
    ]
    put_items(make_table(post), posts)
    return items


def test_a_belongs_to_key_cell_links_to_its_parent_record(viewer_client: Client, data_branch: Branch, blogs: Any) -> None:
    page = text_of(viewer_client.get(data_url(data_branch, "data_model", "Post")))
    links = re.findall(r'<a href="([^"]+)" class="parent-link small" title="The Blog record">Blog</a>', page)
    assert len(links) == 3
    url = urlsplit(links[0])
    assert url.path == data_url(data_branch, "data_record_edit", "Blog")
    token = parse_qs(url.query)["key"][0]
    assert signing.loads(token, salt="datamanager.key")["k"]["id"] in ("b01", "b02")
    assert viewer_client.get(links[0]).status_code == 200


def test_a_has_many_column_links_to_the_children_filtered_and_counts_them(
    viewer_client: Client, data_branch: Branch, blogs: Any
) -> None:
    page = text_of(viewer_client.get(data_url(data_branch, "data_model", "Blog")))
    children = data_url(data_branch, "data_model", "Post")
    assert f'<a href="{children}?field=blogId&op=equals&value=b01"' in page
    count_url = re.search(r'hx-get="([^"]+)" hx-trigger="load" class="children">posts</a>', page)
    assert count_url is not None
    counts = {}
    for blog_id in ("b01", "b02", "b03"):
        token = key_token_of({"id": blog_id}, "Blog")
        counts[blog_id] = viewer_client.get(data_url(data_branch, "data_children", "Blog"), {"field": "posts", "key": token})
    assert [r.content.decode() for r in counts.values()] == ["posts: 2", "posts: 1", "posts: 0"]
    filtered = text_of(viewer_client.get(f"{children}?field=blogId&op=equals&value=b01"))
    assert "Page 1 · 2 records" in filtered


INDEX = {
    "IndexName": "gsi-Parent.children",
    "KeySchema": [{"AttributeName": "parentId", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}


def index_table(name: str) -> dynamo.Table:
    """A table of children with a global secondary index keyed by parentId (as Amplify makes for hasMany)."""
    boto3.client("dynamodb", region_name=settings.AWS_REGION).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "parentId", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi-Parent.children",
                "KeySchema": [{"AttributeName": "parentId", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table = dynamo.describe_table(name, settings.AWS_REGION)
    assert table is not None
    return table


def test_children_are_counted_with_a_query_when_an_index_is_keyed_by_their_field(db: None) -> None:
    table = index_table("Child-x-NONE")
    assert table.indexes == (("gsi-Parent.children", "parentId"),)
    put_items(table, [{"id": f"c{n}", "parentId": "p1" if n < 7 else "p2"} for n in range(10)])
    assert dynamo.count_matching(table, "parentId", "p1", scan_limit=5) == dynamo.ChildCount(7, complete=True, method="query")


def test_without_an_index_the_count_scans_up_to_its_limit(db: None) -> None:
    boto3.client("dynamodb", region_name=settings.AWS_REGION).create_table(
        TableName="Plain-x-NONE",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = dynamo.describe_table("Plain-x-NONE", settings.AWS_REGION)
    assert table is not None
    put_items(table, [{"id": f"c{n:02d}", "parentId": "p1"} for n in range(30)])
    assert dynamo.count_matching(table, "parentId", "p1", scan_limit=1000) == dynamo.ChildCount(30, complete=True, method="scan")
    limited = dynamo.count_matching(table, "parentId", "p1", scan_limit=10)
    assert (limited.count, limited.complete) == (10, False)


def options(response: Any) -> list[tuple[str, str]]:
    return re.findall(r'data-pick="([^"]+)" data-pick-for="id_blogId">([^<]+)</button>', text_of(response))


def test_the_parent_picker_lists_and_searches_existing_parents_a_page_at_a_time(
    viewer_client: Client, data_branch: Branch, blogs: list[dict[str, Any]]
) -> None:
    url = data_url(data_branch, "data_parents", "Post")
    first = viewer_client.get(url, {"field": "blogId"})
    assert len(options(first)) == 10
    more = re.search(r'hx-get="([^"]+)"[^>]*>More Blog records', text_of(first))
    assert more is not None
    second = viewer_client.get(more.group(1))
    assert {i for i, _ in options(first)} | {i for i, _ in options(second)} == {b["id"] for b in blogs}
    garden = options(viewer_client.get(url, {"field": "blogId", "q": "Garden"}))
    assert sorted(garden) == sorted((b["id"], b["name"]) for b in blogs if b["name"].startswith("Garden"))
    none = viewer_client.get(url, {"field": "blogId", "q": "<b>Nothing</b>"})
    assert "No Blog records whose name contains “&lt;b&gt;Nothing&lt;/b&gt;”." in none.content.decode()


def test_the_picker_refuses_a_field_that_is_no_parent_key(viewer_client: Client, data_branch: Branch, blogs: Any) -> None:
    assert viewer_client.get(data_url(data_branch, "data_parents", "Post"), {"field": "title"}).status_code == 404


def test_the_new_record_form_offers_the_picker_for_the_parent_key(
    operator_client: Client, data_branch: Branch, blogs: Any
) -> None:
    page = text_of(operator_client.get(data_url(data_branch, "data_record_new", "Post")))
    assert "Choose the Blog for blogId" in page
    assert f'hx-get="{data_url(data_branch, "data_parents", "Post")}?field=blogId"' in page
