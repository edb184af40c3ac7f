"""Helpers for tests that drive the data manager's pages: URLs, items put straight
into a table, and what a page shows (its messages, rows and links) read from the HTML."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import boto3
from django.conf import settings
from django.urls import reverse

from apps.branches.models import Branch
from apps.datamanager import dynamo


def data_url(branch: Branch, name: str, *args: Any) -> str:
    """A data manager URL of the branch: `data_url(branch, "data_model", "Item")`."""
    return reverse(name, args=[branch.app.app_id, branch.display_name, *args])


def put_items(table: dynamo.Table, items: list[dict[str, Any]]) -> None:
    """Write items straight to DynamoDB (BatchWriteItem in 25s), as other clients would."""
    client = boto3.client("dynamodb", region_name=settings.AWS_REGION)
    for start in range(0, len(items), 25):
        chunk = items[start : start + 25]
        client.batch_write_item(RequestItems={table.name: [{"PutRequest": {"Item": dynamo.to_dynamo(i)}} for i in chunk]})


def text_of(response: Any) -> str:
    """The page as a person reads it: entities decoded, tags kept (so links can be found)."""
    return html.unescape(response.content.decode())


_MESSAGE = re.compile(r'\s*<div class="message [^"]*" role="(?:alert|status)">(.*?)</div>', re.S)


def messages_of(response: Any) -> list[str]:
    """The flash messages shown at the top of a page."""
    content = response.content.decode()
    opening = re.search(r'<div id="messages"[^>]*>', content)
    assert opening, "the page has no messages area"
    found, position = [], opening.end()
    while match := _MESSAGE.match(content, position):
        found.append(html.unescape(match.group(1)).strip())
        position = match.end()
    return found


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links.setdefault(data.strip(), self._href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def link(response: Any, label: str) -> str | None:
    """The href of the first link labelled `label`, or None when the page has none."""
    parser = _Links()
    parser.feed(response.content.decode())
    return parser.links.get(label)


def hidden_value(response: Any, name: str) -> str:
    """The value of the form input `name` (hidden inputs hold the record's key and version)."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', response.content.decode())
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""
