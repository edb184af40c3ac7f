"""The folder page: every object once across pages, Previous, sorting, filtering,
folders told from files, breadcrumbs, empty states, and buckets the branch does not name."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.storage.tests.conftest import BUCKET, FRIENDLY, page_names, url


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]*)" hx-get="[^"]*" hx-target="#listing" hx-push-url="true" rel="next">', page)
    return html.unescape(found.group(1)) if found else None


def previous_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]*)" hx-get="[^"]*" hx-target="#listing" hx-push-url="true" rel="prev">', page)
    return html.unescape(found.group(1)) if found else None


def test_paging_lists_every_object_of_a_2500_object_folder_exactly_once(
    viewer_client: Client, branch: Branch, s3: Any, bucket: str
) -> None:
    keys = [f"big/file-{n:05d}.txt" for n in range(2500)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    s3.put_object(Bucket=bucket, Key="big-sibling.txt", Body=b"")  # shares the prefix "big" but not the folder
    base = url("storage_browse", branch)
    target: str | None = url("storage_browse", branch, prefix="big/")
    seen: list[str] = []
    pages = []
    while target:
        response = viewer_client.get(target if target.startswith("/") else base + target)
        assert response.status_code == 200
        page = response.content.decode()
        pages.append(page)
        seen += page_names(page)
        target = next_link(page)
    assert len(pages) == 25  # 100 per page by default
    assert seen == [key.removeprefix("big/") for key in keys]
    assert len(set(seen)) == 2500
    assert "Page 25 · 0 folders, 100 files" in pages[-1]
    # Previous goes back one page at a time (the last ten pages are remembered).
    back = previous_link(pages[-1])
    assert back is not None
    assert page_names(viewer_client.get(base + back).content.decode()) == page_names(pages[-2])


def test_a_forged_or_foreign_cursor_shows_the_first_page(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put(*[f"a/{n:03d}" for n in range(30)], *[f"b/{n:03d}" for n in range(30)])
    first = viewer_client.get(url("storage_browse", branch, prefix="a/", size="25")).content.decode()
    link = next_link(first)
    assert link is not None
    at = re.search(r"at=([^&]+)", link)
    assert at is not None
    other_folder = viewer_client.get(url("storage_browse", branch, prefix="b/", size="25") + f"&at={at.group(1)}")
    assert "belongs to another folder" in other_folder.content.decode()
    assert page_names(other_folder.content.decode())[0] == "000"
    forged = viewer_client.get(url("storage_browse", branch, prefix="a/", at="x" * 40))
    assert "damaged" in forged.content.decode()


def test_folders_and_files_are_told_apart_and_folders_come_first(
    viewer_client: Client, branch: Branch, put: Callable[..., None]
) -> None:
    put("zeta/inside.txt", "alpha.txt", "beta/", "photo.png")
    page = viewer_client.get(url("storage_browse", branch)).content.decode()
    assert page_names(page) == ["beta/", "zeta/", "alpha.txt", "photo.png"]
    assert page.count('<span class="badge kind-folder">Folder</span>') == 2
    assert "File (PNG)" in page
    assert "File (TXT)" in page
    assert page.count('name="folders"') == 2
    assert page.count('name="keys"') == 2


def test_sort_within_the_page_by_size_and_name(viewer_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    for name, size in (("b.txt", 30), ("a.txt", 20), ("c.txt", 10)):
        s3.put_object(Bucket=bucket, Key=name, Body=b"x" * size)
    by_size = viewer_client.get(url("storage_browse", branch, sort="size")).content.decode()
    assert page_names(by_size) == ["c.txt", "a.txt", "b.txt"]
    by_size_desc = viewer_client.get(url("storage_browse", branch, sort="size", dir="desc")).content.decode()
    assert page_names(by_size_desc) == ["b.txt", "a.txt", "c.txt"]
    assert 'aria-sort="descending"' in by_size_desc
    by_name_desc = viewer_client.get(url("storage_browse", branch, dir="desc")).content.decode()
    assert page_names(by_name_desc) == ["c.txt", "b.txt", "a.txt"]


def test_filter_by_name_prefix(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put("docs/report-1.txt", "docs/report-2.txt", "docs/summary.txt", "docs/reports/x.txt")
    page = viewer_client.get(url("storage_browse", branch, prefix="docs/", filter="report")).content.decode()
    assert page_names(page) == ["reports/", "report-1.txt", "report-2.txt"]
    nothing = viewer_client.get(url("storage_browse", branch, prefix="docs/", filter="zzz")).content.decode()
    assert "No names here start with “zzz”" in nothing
    # The filter form sends the folder percent-encoded.
    typed = viewer_client.get(url("storage_browse", branch, folder="docs%2F", filter="sum")).content.decode()
    assert page_names(typed) == ["summary.txt"]


def test_breadcrumbs_link_every_folder_up_to_the_bucket(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put("a/b/c/file.txt")
    page = viewer_client.get(url("storage_browse", branch, prefix="a/b/c/")).content.decode()
    start = page.index('aria-label="Breadcrumbs"')
    crumbs = page[start : page.index("</nav>", start)]
    assert f">{FRIENDLY}</a>" in crumbs
    assert 'href="/apps/' in crumbs
    assert "prefix=a%2F" in crumbs
    assert "prefix=a%2Fb%2F" in crumbs
    assert '<span aria-current="page">c</span>' in crumbs


@pytest.mark.parametrize(
    ("query", "expected"),
    [({}, "This bucket is empty"), ({"prefix": "nothing/"}, "This folder is empty")],
)
def test_empty_states(viewer_client: Client, branch: Branch, bucket: str, query: dict[str, str], expected: str) -> None:
    page = viewer_client.get(url("storage_browse", branch, **query)).content.decode()
    assert expected in page
    assert "Operators can upload files here." in page


def test_operators_get_upload_tools_and_viewers_do_not(
    viewer_client: Client, operator_client: Client, branch: Branch, put: Callable[..., None]
) -> None:
    put("a.txt")
    viewer_page = viewer_client.get(url("storage_browse", branch)).content.decode()
    operator_page = operator_client.get(url("storage_browse", branch)).content.decode()
    for tool in ('id="storage-upload"', "Create folder", "Delete…", "Move to…"):
        assert tool not in viewer_page
        assert tool in operator_page
    assert "Download as zip" in viewer_page
    assert "console/storage.js" in viewer_page  # select-all works for viewers too


def test_a_bucket_the_branch_does_not_name_is_not_found(viewer_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket="someone-elses-bucket")
    path = f"/apps/{branch.app.app_id}/branches/main/storage/buckets/someone-elses-bucket/"
    assert viewer_client.get(path).status_code == 404


def test_a_missing_bucket_shows_the_aws_error(viewer_client: Client, branch: Branch) -> None:
    page = viewer_client.get(url("storage_browse", branch))
    assert page.status_code == 200
    assert "not found" in page.content.decode()


def test_the_htmx_pager_gets_the_listing_alone(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put("a.txt")
    fragment = viewer_client.get(url("storage_browse", branch), headers={"HX-Request": "true", "HX-Target": "listing"})
    body = fragment.content.decode()
    assert "a.txt" in body
    assert "<html" not in body
    assert "Name starts with" not in body


def test_home_lists_the_buckets_with_friendly_names_and_paths(viewer_client: Client, branch: Branch) -> None:
    page = viewer_client.get(url("storage_home", branch)).content.decode()
    assert FRIENDLY in page
    assert BUCKET in page
    assert "<code>media/*</code>" in page
    assert "prefix=media%2F" in page
    assert "authenticated: get, list, write, delete" in page
    assert "Storage</a>" in viewer_client.get(url("storage_browse", branch)).content.decode()


def test_home_without_storage_outputs_explains_the_empty_state(viewer_client: Client, branch: Branch) -> None:
    branch.backend_outputs = {"version": "1.4"}
    branch.save()
    page = viewer_client.get(url("storage_home", branch)).content.decode()
    assert "No storage for this branch yet" in page
    assert "has no <code>storage</code> section" in page
    branch.backend_outputs = None
    branch.save()
    page = viewer_client.get(url("storage_home", branch)).content.decode()
    assert "has no amplify_outputs.json yet" in page
