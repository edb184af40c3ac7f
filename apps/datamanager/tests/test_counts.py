"""Exact counts on a model's page: viewers may not start one; operators get small tables
counted in the request and big ones (DynamoDB's estimate over DATA_EXACT_COUNT_MAX_ITEMS)
counted by a worker, whose result the page shows with its age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.schema import DataSchema
from apps.datamanager.tasks import count_records
from apps.datamanager.tests.factories import make_table
from apps.datamanager.tests.pages import data_url, link, put_items, text_of
from console.aws_errors import AwsError

RECORDS = 30


@pytest.fixture(autouse=True)
def _own_cache(settings: Any) -> None:
    """Counts are kept under the table's name, which every test's table shares."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "count-tests"}}
    cache.clear()


@pytest.fixture
def blogs(data_branch: Branch, data_schema: DataSchema) -> dynamo.Table:
    """A Blog table of RECORDS records, named alpha-N (every third) or beta-N."""
    model = data_schema.model("Blog")
    assert model is not None
    table = make_table(model)
    put_items(table, [
        {"id": f"rec-{n:02d}", "name": f"{'alpha' if n % 3 == 0 else 'beta'}-{n}", "__typename": "Blog"}
        for n in range(RECORDS)
    ])  # fmt: skip
    return table


@pytest.fixture
def big(settings: Any) -> None:
    """The Blog table's estimate (RECORDS) is over the limit of counting in a request."""
    settings.DATA_EXACT_COUNT_MAX_ITEMS = RECORDS - 1


@pytest.fixture
def scans() -> Iterator[mock.MagicMock]:
    """Every exact count (a full table scan), wherever it runs."""
    with mock.patch("apps.datamanager.dynamo.exact_count", wraps=dynamo.exact_count) as counted:
        yield counted


@pytest.fixture
def queued() -> Iterator[list[tuple[Any, ...]]]:
    """Tasks sent to the queue, kept instead of run."""
    sent: list[tuple[Any, ...]] = []

    def keep(task: Any, *args: Any) -> bool:
        sent.append((task, *args))
        return True

    with mock.patch("apps.datamanager.counts.send", side_effect=keep):
        yield sent


def page_of(client: Client, branch: Branch, **query: str) -> str:
    response = client.get(f"{data_url(branch, 'data_model', 'Blog')}?{urlencode(query)}")
    assert response.status_code == 200
    return text_of(response).replace("\xa0", " ")  # timesince puts no-break spaces in "3 minutes"


def test_viewers_cannot_count_exactly(
    viewer_client: Client, data_branch: Branch, blogs: dynamo.Table, scans: mock.MagicMock, queued: list[Any]
) -> None:
    url = data_url(data_branch, "data_model", "Blog")
    assert link(viewer_client.get(url), "count exactly") is None
    page = page_of(viewer_client, data_branch, count="exact")
    assert "not counted exactly: that reads the whole table, which needs the operator role" in page
    assert f"about {RECORDS} records (DynamoDB's estimate)" in page
    assert f"exactly {RECORDS}" not in page
    assert not scans.called
    assert queued == []


def test_operators_count_a_small_table_in_the_request(
    operator_client: Client, data_branch: Branch, blogs: dynamo.Table, scans: mock.MagicMock, queued: list[Any]
) -> None:
    assert link(operator_client.get(data_url(data_branch, "data_model", "Blog")), "count exactly") is not None
    page = page_of(operator_client, data_branch, count="exact")
    assert f"exactly {RECORDS}" in page
    assert "counted" not in page  # counted just now, not a kept result
    assert scans.call_count == 1
    assert queued == []


def test_a_big_table_is_counted_by_a_worker_and_the_page_shows_the_result_with_its_age(
    operator_client: Client, data_branch: Branch, blogs: dynamo.Table, big: None, scans: mock.MagicMock,
    queued: list[Any], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    page = page_of(operator_client, data_branch, count="exact")
    assert "counting exactly… (started at" in page
    assert not scans.called, "the request did not scan the table"
    assert [task for task, *_ in queued] == [count_records.name]
    # Reloading while it counts queues nothing more.
    assert "counting exactly…" in page_of(operator_client, data_branch, count="exact")
    assert len(queued) == 1
    # The worker counts, three minutes before the next reload.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - timedelta(minutes=3))
    _, *args = queued[0]
    assert count_records(*args) == RECORDS
    monkeypatch.setattr(timezone, "now", real_now)
    page = page_of(operator_client, data_branch, count="exact")
    assert f"exactly {RECORDS} (counted 3 minutes ago)" in page
    assert scans.call_count == 1
    assert len(queued) == 1
    # A redelivered message does not count again.
    assert count_records(*args) is None
    assert scans.call_count == 1


def test_with_eager_tasks_the_operator_sees_the_workers_count_at_once(
    operator_client: Client, data_branch: Branch, blogs: dynamo.Table, big: None
) -> None:
    assert django_settings.CELERY_TASK_ALWAYS_EAGER
    assert f"exactly {RECORDS} (counted 0 minutes ago)" in page_of(operator_client, data_branch, count="exact")
    alphas = len(range(0, RECORDS, 3))
    page = page_of(operator_client, data_branch, field="name", op="begins_with", value="alpha", count="exact")
    assert f"exactly {alphas} matching the filter (counted 0 minutes ago)" in page


def test_a_typed_filter_value_reaches_the_worker_intact(
    operator_client: Client, data_branch: Branch, item_table: dynamo.Table, settings: Any
) -> None:
    settings.DATA_EXACT_COUNT_MAX_ITEMS = 1
    put_items(item_table, [{"id": f"i{n}", "title": "t", "count": n % 4, "__typename": "Item"} for n in range(12)])
    response = operator_client.get(f"{data_url(data_branch, 'data_model', 'Item')}?field=count&op=equals&value=2&count=exact")
    assert "exactly 3 matching the filter (counted 0\xa0minutes ago)" in text_of(response)


def test_a_count_the_worker_could_not_finish_says_why(
    operator_client: Client, data_branch: Branch, blogs: dynamo.Table, big: None, queued: list[Any]
) -> None:
    page_of(operator_client, data_branch, count="exact")
    _, *args = queued[0]
    refused = AwsError("dynamodb:Scan: access denied (not authorized to perform dynamodb:Scan)")
    with mock.patch("apps.datamanager.dynamo.exact_count", side_effect=refused):
        assert count_records(*args) is None
    page = page_of(operator_client, data_branch, count="exact")
    assert "the exact count failed: dynamodb:Scan: access denied" in page
    assert len(queued) == 1, "the failure is shown for a while before a reload tries again"
