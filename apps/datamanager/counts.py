"""Exact counts of a model's records (`?count=exact` on its page), for operators.

An exact count reads the whole table (a filter too: DynamoDB filters what it has read),
so viewers may not start one, and a table whose estimate (DescribeTable's ItemCount) is
over DATA_EXACT_COUNT_MAX_ITEMS is not counted inside a request: a worker counts it and
keeps the result in the cache under the table and the filter, with when it was
counted, and the page shows it with its age, or that counting is under way.

The cache entry is also the claim: `cache.add` lets one request queue the count, and
the task counts only while the entry still holds the token it was queued with, so a
redelivered or superseded message does nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.datamanager import dynamo
from console.aws_errors import AwsError
from console.queue import send

COUNT_TIME_LIMIT_SECONDS = 1800
# A count under way is forgotten after this (its worker died): the next request starts another.
_RUNNING_KEPT_SECONDS = COUNT_TIME_LIMIT_SECONDS + 60
# A worker's result is shown (with its age) this long; then the next request counts again.
RESULT_KEPT_SECONDS = 3600
# A failure is shown briefly, then the next request tries again.
_FAILURE_KEPT_SECONDS = 60


@dataclass(frozen=True)
class ExactCount:
    count: int | None = None  # None while a worker counts (or when it failed)
    started_at: datetime | None = None  # when a worker's count was queued
    counted_at: datetime | None = None  # when a worker finished; None when counted in this request
    error: str = ""

    @property
    def counting(self) -> bool:
        return self.count is None and not self.error


def _key(region: str, table_name: str, where: dict[str, Any] | None) -> str:
    described = json.dumps([region, table_name, where], sort_keys=True)
    return f"datamanager:exact-count:{hashlib.sha256(described.encode()).hexdigest()}"


def _from_entry(entry: dict[str, Any]) -> ExactCount:
    return ExactCount(
        count=entry.get("count"),
        started_at=entry.get("started_at"),
        counted_at=entry.get("counted_at"),
        error=entry.get("error", ""),
    )


def exact_count(*, table: dynamo.Table, where: dynamo.Filter | None) -> ExactCount:
    """Counted now when the table is small; else the worker's result, or the count queued."""
    if table.item_count <= settings.DATA_EXACT_COUNT_MAX_ITEMS:
        return ExactCount(count=dynamo.exact_count(table, where=where))
    where_json = where.as_json() if where else None
    key = _key(table.region, table.name, where_json)
    token = secrets.token_hex(8)
    started = cache.add(key, {"token": token, "started_at": timezone.now()}, timeout=_RUNNING_KEPT_SECONDS)
    # No row to commit first: the cache entry is the record of the work, so queue now.
    if started and not send("apps.datamanager.tasks.count_records", table.region, table.name, where_json, token):
        cache.delete(key)
        return ExactCount(error="The count could not be started (the task queue is unreachable); try again shortly.")
    entry = cache.get(key)  # a worker run eagerly (tests) has already replaced it
    if entry is None:  # the cache dropped the entry: Redis is unreachable (console/cache.py)
        return ExactCount(error="The count could not be started (the cache is unreachable); try again shortly.")
    return _from_entry(entry)


def count_and_keep(*, region: str, table_name: str, where: dict[str, Any] | None, token: str) -> int | None:
    """The worker's part: count and keep the result for the page; None when the entry no
    longer holds `token` (counted already, or forgotten and queued again since)."""
    key = _key(region, table_name, where)
    entry = cache.get(key)
    if not entry or entry.get("token") != token or "count" in entry or entry.get("error"):
        return None
    table = dynamo.Table(name=table_name, region=region, hash_key="")
    try:
        count = dynamo.exact_count(table, where=dynamo.Filter.from_json(where) if where else None)
    except AwsError as error:
        cache.set(key, {**entry, "error": str(error)}, timeout=_FAILURE_KEPT_SECONDS)
        return None
    cache.set(key, {**entry, "count": count, "counted_at": timezone.now()}, timeout=RESULT_KEPT_SECONDS)
    return count
