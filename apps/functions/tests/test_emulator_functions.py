"""Against a real moto server process (the emulator, with its CloudWatch filter patterns):
discovery through nested stacks, secrets never shown, paging through every match of a
12,000-event group with nextToken, the download, and a refused filter pattern."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import boto3
import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.functions.tests.conftest import REGION, url
from apps.functions.tests.stacks import PLAIN_VALUE, SECRET_VALUE, deploy_backend, write_events
from console.aws import clear_client_cache
from console.emulator import EMULATOR_CREDENTIALS, Emulator

pytestmark = pytest.mark.emulator

EVENTS = 12_000


@pytest.fixture(autouse=True)
def on_the_emulator(emulator: Emulator, settings: Any) -> Iterator[None]:
    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def client(emulator: Emulator) -> Callable[[str], Any]:
    session = boto3.session.Session(
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return lambda service: session.client(service, endpoint_url=emulator.endpoint_url)


def messages(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<pre class="log-message">(.*?)</pre>', html, re.S)]


def next_link(html: str) -> str | None:
    found = re.search(r'<a href="\?([^"]+)" rel="next">Next page</a>', html)
    return unescape(found.group(1)) if found else None


def test_discovery_through_nested_stacks_with_friendly_names_and_no_values(
    viewer_client: Client, branch: Branch, functions: dict[str, str]
) -> None:
    html = viewer_client.get(url("functions_list", branch)).content.decode()
    for friendly in ("sayHello", "todoCleanup", "rootWorker"):
        assert f">{friendly}</a>" in html
    for name in functions.values():
        assert f"<code>{name}</code>" in html
    for page in ("functions_list", "function_detail"):
        args = [] if page == "functions_list" else [functions["sayHello"]]
        shown = viewer_client.get(url(page, branch, *args)).content.decode()
        assert SECRET_VALUE not in shown
        assert PLAIN_VALUE not in shown
        assert "secret (from SSM)" in shown


@pytest.fixture
def big_group(functions: dict[str, str], client: Callable[[str], Any]) -> str:
    name = functions["sayHello"]
    lines = [f"{'ERROR' if n % 3 == 0 else 'INFO'} request {n:05d} done" for n in range(EVENTS)]
    write_events(client, f"/aws/lambda/{name}", lines, start_ms=int(time.time() * 1000) - EVENTS - 60_000)
    return name


def test_paging_reaches_every_match_of_a_big_group_exactly_once(viewer_client: Client, branch: Branch, big_group: str) -> None:
    seen: list[str] = []
    query: str | None = "filter=ERROR"
    pages = 0
    while query is not None:
        html = viewer_client.get(url("function_logs", branch, big_group) + "?" + query).content.decode()
        page = messages(html)
        assert len(page) <= 100
        seen += page
        query = next_link(html)
        pages += 1
    assert pages == EVENTS // 3 // 100
    assert seen == [f"ERROR request {n:05d} done" for n in range(0, EVENTS, 3)]


def test_the_download_streams_every_match_read_with_next_token(viewer_client: Client, branch: Branch, big_group: str) -> None:
    response = viewer_client.get(url("function_logs_download", branch, big_group))
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == EVENTS
    assert lines[0].endswith(" s1 ERROR request 00000 done")
    assert lines[-1].endswith(f" s1 INFO request {EVENTS - 1:05d} done")
    filtered = viewer_client.get(
        url("function_logs_download", branch, big_group), {"filter": '?"request 00003" ?"request 11999"'}
    )
    text = b"".join(filtered.streaming_content).decode()  # type: ignore[attr-defined]
    assert [line.split(" ", 2)[2] for line in text.splitlines()] == ["ERROR request 00003 done", "INFO request 11999 done"]


@pytest.mark.parametrize("pattern", ['"unclosed', "{ $.level = ", "[ip, user", "user:pass}"])
def test_a_pattern_cloudwatch_refuses_shows_its_error(
    viewer_client: Client, branch: Branch, functions: dict[str, str], client: Callable[[str], Any], pattern: str
) -> None:
    name = functions["sayHello"]
    write_events(client, f"/aws/lambda/{name}", ["ERROR one"], start_ms=int(time.time() * 1000))
    html = viewer_client.get(url("function_logs", branch, name), {"filter": pattern}).content.decode()
    error = re.search(r'<div class="message error" role="alert" id="bad-pattern">(.*?)</div>', html, re.S)
    assert error is not None
    assert "CloudWatch refused the filter pattern" in unescape(error.group(1))
    assert messages(html) == []
    download = viewer_client.get(url("function_logs_download", branch, name), {"filter": pattern})
    assert download.status_code == 400
    assert b"CloudWatch refused the filter pattern" in download.content


@pytest.fixture
def functions(branch: Branch, client: Callable[[str], Any]) -> dict[str, str]:
    return deploy_backend(client, branch.backend_stack_name)
