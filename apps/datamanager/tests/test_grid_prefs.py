"""A person's layout of a model's grid: shown columns, widths and fields marked as file
paths, kept per person, branch and model. Any signed-in person keeps their own (it changes
no data); unknown names are dropped, widths clamped; outsiders are sent to sign in."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.models import GridPreference
from apps.datamanager.tests.pages import data_url, put_items, text_of
from apps.datamanager.tests.test_views import record


def save(client: Client, branch: Branch, data: dict[str, Any], *, htmx: bool = False) -> Any:
    return client.post(data_url(branch, "data_grid_prefs", "Item"), data, headers={"HX-Request": "true"} if htmx else None)


def headers_of(page: str) -> list[str]:
    return re.findall(r'<th scope="col" data-f="(\w+)"', page)


def test_a_viewer_keeps_their_own_columns_and_others_see_theirs(
    viewer_client: Client, operator_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("r1")])
    response = save(viewer_client, data_branch, {"part": "columns", "show": ["title", "count"], "return_query": "size=50"})
    assert response.status_code == 302
    assert response["Location"] == data_url(data_branch, "data_model", "Item") + "?size=50"
    kept = GridPreference.objects.get()
    assert (kept.user.username, kept.branch, kept.model_name) == ("vera", data_branch, "Item")
    assert not {"title", "count"} & set(kept.hidden)
    assert "price" in kept.hidden
    page = text_of(viewer_client.get(data_url(data_branch, "data_model", "Item")))
    assert headers_of(page) == ["id", "title", "count"]
    assert len(headers_of(text_of(operator_client.get(data_url(data_branch, "data_model", "Item"))))) == 25  # every stored field


def test_hostile_names_are_dropped_widths_clamped_and_the_key_column_kept(
    viewer_client: Client, data_branch: Branch, item_table: dynamo.Table
) -> None:
    put_items(item_table, [record("r1")])
    save(
        viewer_client,
        data_branch,
        {"part": "columns", "show": ["title", "<script>", "__proto__"], "file": ["title", "count", "nope"]},
    )
    kept = GridPreference.objects.get()
    assert "id" not in kept.hidden  # the key column is always shown
    assert not {"<script>", "__proto__", "nope"} & set(kept.hidden)
    assert kept.file_fields == ["title"]  # only text fields hold file paths
    widths = {"part": "widths", "width-title": "5", "width-count": "99999", "width-price": "12px", "width-evil": "100",
              "width-done": "-5", "width-due": "150"}  # fmt: skip
    assert save(viewer_client, data_branch, widths, htmx=True).status_code == 204
    kept.refresh_from_db()
    assert kept.widths == {"title": 48, "count": 800, "due": 150}
    assert kept.file_fields == ["title"]  # saving widths keeps the columns as they were
    page = text_of(viewer_client.get(data_url(data_branch, "data_model", "Item")))
    assert '<col style="width: 48px">' in page
    assert "<script>" not in page


def test_outsiders_are_sent_to_sign_in_and_nothing_is_kept(outsider_client: Client, data_branch: Branch) -> None:
    response = save(outsider_client, data_branch, {"part": "columns", "show": ["title"]})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not GridPreference.objects.exists()


def test_a_get_does_not_save(viewer_client: Client, data_branch: Branch, item_table: dynamo.Table) -> None:
    assert viewer_client.get(data_url(data_branch, "data_grid_prefs", "Item")).status_code == 405
    assert not GridPreference.objects.exists()
