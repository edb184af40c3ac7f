"""A function's logs (moto in process): pages with nextToken, filter and time range, the
live tail's poll, the download and its cap."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.functions import selectors
from apps.functions.tests.conftest import url
from apps.functions.tests.stacks import write_events

NOW = int(time.time() * 1000)


def messages(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<pre class="log-message">(.*?)</pre>', html, re.S)]


def next_link(html: str) -> str | None:
    found = re.search(r'<a href="\?([^"]+)" rel="next">Next page</a>', html)
    return unescape(found.group(1)) if found else None


@pytest.fixture
def logs(functions: dict[str, str], client: Callable[[str], Any]) -> str:
    name = functions["sayHello"]
    lines = [f"{'ERROR' if n % 5 == 0 else 'INFO'} line {n:04d}" for n in range(250)]
    write_events(client, f"/aws/lambda/{name}", lines, start_ms=NOW - 60_000)
    return name


def test_pages_follow_next_token_through_every_event_once(viewer_client: Client, branch: Branch, logs: str) -> None:
    seen: list[str] = []
    query: str | None = ""
    pages = 0
    while query is not None:
        html = viewer_client.get(url("function_logs", branch, logs) + "?" + query).content.decode()
        seen += messages(html)
        query = next_link(html)
        pages += 1
    assert pages == 3
    assert seen == [f"{'ERROR' if n % 5 == 0 else 'INFO'} line {n:04d}" for n in range(250)]


def test_the_filter_and_the_time_range_reach_filter_log_events(viewer_client: Client, branch: Branch, logs: str) -> None:
    html = viewer_client.get(url("function_logs", branch, logs), {"filter": "ERROR"}).content.decode()
    assert (
        messages(html)
        == [f"ERROR line {n:04d}" for n in range(0, 100, 5)] + [f"ERROR line {n:04d}" for n in range(100, 250, 5)][: 100 - 20]
    )


def test_the_time_range_keeps_events_from_start_to_end(
    viewer_client: Client, branch: Branch, functions: dict[str, str], client: Callable[[str], Any]
) -> None:
    name = functions["todoCleanup"]
    minute = (NOW // 60_000 - 20) * 60_000  # whole minutes, so From and To name them exactly
    for n in range(10):
        write_events(client, f"/aws/lambda/{name}", [f"minute {n}"], start_ms=minute + n * 60_000)

    def at(n: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((minute + n * 60_000) / 1000))

    html = viewer_client.get(url("function_logs", branch, name), {"start": at(3), "end": at(6)}).content.decode()
    assert messages(html) == ["minute 3", "minute 4", "minute 5", "minute 6"]


def test_a_recent_span_is_pinned_in_the_next_link(viewer_client: Client, branch: Branch, logs: str) -> None:
    html = viewer_client.get(url("function_logs", branch, logs), {"since": "1h"}).content.decode()
    link = next_link(html)
    assert link is not None
    assert "start=" in link
    assert "since" not in link


def test_to_before_from_is_refused_without_calling_cloudwatch(viewer_client: Client, branch: Branch, logs: str) -> None:
    response = viewer_client.get(url("function_logs", branch, logs), {"start": "2026-01-02T00:00", "end": "2026-01-01T00:00"})
    assert "is before" in response.content.decode()
    assert messages(response.content.decode()) == []


def test_the_tail_answers_only_newer_events_and_moves_its_poller(
    viewer_client: Client, branch: Branch, logs: str, client: Callable[[str], Any]
) -> None:
    tail = url("function_logs_tail", branch, logs)
    first = viewer_client.get(tail, {"after": str(NOW)}).content.decode()
    assert "<li>" not in first
    assert f"after={NOW}" in first
    write_events(client, f"/aws/lambda/{logs}", ["fresh one", "fresh two"], stream="s2", start_ms=NOW + 5)
    update = viewer_client.get(tail, {"after": str(NOW)}).content.decode()
    assert "fresh one" in update
    assert "fresh two" in update
    assert 'hx-swap-oob="true"' in update
    poller = unescape(re.search(r'hx-get="[^"?]*\?([^"]+)"', update).group(1))  # type: ignore[union-attr]
    assert f"after={NOW + 6}" in poller
    again = viewer_client.get(tail + "?" + poller).content.decode()
    assert "fresh" not in again
    assert viewer_client.get(tail, {"after": "soon"}).status_code == 400


def test_the_download_streams_every_match(viewer_client: Client, branch: Branch, logs: str) -> None:
    response = viewer_client.get(url("function_logs_download", branch, logs), {"filter": "ERROR"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{logs}.log"'
    lines = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert [line.split(" ", 2)[2] for line in lines] == [f"ERROR line {n:04d}" for n in range(0, 250, 5)]


def test_the_download_stops_at_its_cap_and_says_so(
    viewer_client: Client, branch: Branch, logs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "DOWNLOAD_CAP", 30)
    response = viewer_client.get(url("function_logs_download", branch, logs))
    lines = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 31
    assert lines[-1].startswith("# Stopped at 30 events")


def test_a_group_not_created_yet_has_no_events(viewer_client: Client, branch: Branch, functions: dict[str, str]) -> None:
    html = viewer_client.get(url("function_logs", branch, functions["todoCleanup"])).content.decode()
    assert "No events" in html
