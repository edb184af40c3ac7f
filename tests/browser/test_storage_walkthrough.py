"""Work with a branch's files in real Chromium as an operator would: drop two files onto
the page, create a folder, move a file into it, copy it back, download the folder as a
zip, and delete it with the typed confirmation.

The bucket is on the emulator (a moto server process); uploads go through storage.js
(XMLHttpRequest with progress), everything else through plain forms and links.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from apps.branches import services as branch_services
from apps.branches.models import App
from apps.storage.demo import png
from console.emulator import EMULATOR_CREDENTIALS, Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

BUCKET = "walkthrough-files"
FRIENDLY = "todoFiles"
PASSWORD = "correct-horse-battery"  # the root conftest's, for its admin_user

# Builds a DataTransfer holding two files and drops it on the page, as a drag from the desktop does.
DROP_TWO_FILES = """
() => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(["first file\\n"], "notes.txt", { type: "text/plain" }));
  transfer.items.add(new File(["a,b\\n1,2\\n"], "table.csv", { type: "text/csv" }));
  const target = document.querySelector("main");
  target.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  target.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}
"""


@pytest.fixture
def s3(emulator: Emulator) -> Any:
    return boto3.client(
        "s3", region_name="us-east-1", endpoint_url=emulator.endpoint_url,
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip


@pytest.fixture
def shop(emulator: Emulator, settings: Any, transactional_db: None, make_repo: Callable[..., Path], s3: Any) -> Iterator[App]:
    """An app whose main branch's outputs name an empty bucket on the emulator."""
    from console.aws import clear_client_cache

    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    s3.create_bucket(Bucket=BUCKET)
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    main = app.branches.get(name="main")
    main.backend_outputs = {
        "version": "1.4",
        "storage": {"aws_region": "us-east-1", "bucket_name": BUCKET, "buckets": [
            {"name": FRIENDLY, "bucket_name": BUCKET, "aws_region": "us-east-1", "paths": {"media/*": {"guest": ["get"]}}}]},
    }  # fmt: skip
    main.save()
    try:
        yield app
    finally:
        clear_client_cache()


def keys_in(s3: Any) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def downloaded(page: Page, link: Any, folder: Path) -> tuple[str, bytes]:
    """Click the link, save what Chromium downloads: its suggested name and its bytes."""
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    saved = folder / download.suggested_filename
    download.save_as(saved)
    return download.suggested_filename, saved.read_bytes()


def row(page: Page, name: str) -> Any:
    return page.locator("#listing tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


def test_operator_drops_files_moves_copies_zips_and_deletes(
    page: Page, live_server: Any, shop: App, admin_user: Any, s3: Any, tmp_path: Path
) -> None:
    base = live_server.url
    sign_in(page, base, admin_user.username, PASSWORD)

    # --- To the branch's storage through the navigation, then into its bucket.
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("navigation", name="App Shop").get_by_role("link", name="main", exact=True).click()
    page.get_by_role("navigation", name="App Shop").get_by_role("link", name="Storage").click()
    expect(page.get_by_role("heading", name="Storage of main")).to_be_visible()
    expect(page.get_by_role("cell", name="media/*")).to_be_visible()
    page.get_by_role("link", name=FRIENDLY).click()
    expect(page.get_by_role("heading", name="This bucket is empty")).to_be_visible()

    # --- Drop two files: a progress bar each, then the listing shows them (swapped in by htmx).
    # The page's scripts are deferred: drop only once they listen (a busy machine is slow to run them).
    page.wait_for_load_state("load")
    page.evaluate(DROP_TWO_FILES)
    uploads = page.locator("#upload-list")
    expect(uploads.locator("li.upload-summary")).to_have_text("Uploaded 2 of 2 files.")
    expect(uploads.locator("progress")).to_have_count(2)
    expect(uploads.locator(".upload-status")).to_have_text(["uploaded", "uploaded"])
    expect(row(page, "notes.txt")).to_be_visible()
    expect(row(page, "table.csv")).to_contain_text("File (CSV)")
    assert keys_in(s3) == ["notes.txt", "table.csv"]
    assert s3.get_object(Bucket=BUCKET, Key="table.csv")["ContentType"] == "text/csv"

    # --- Dropping one of them again asks before replacing it.
    page.evaluate(DROP_TWO_FILES)
    dialog = page.get_by_role("dialog", name="Replace existing files?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("notes.txt")
    dialog.get_by_role("button", name="Skip those, upload the rest").click()
    expect(uploads.locator("li.upload-summary").first).to_have_text("Nothing uploaded: every file exists already here.")

    # --- Create a folder: the page opens it.
    page.get_by_label("New folder").fill("reports")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("#messages")).to_contain_text("Folder reports created.")
    expect(page.get_by_role("heading", name="reports")).to_be_visible()
    expect(page.get_by_role("heading", name="This folder is empty")).to_be_visible()

    # --- Move notes.txt into it with the folder picker.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name=FRIENDLY).click()
    expect(row(page, "reports/")).to_contain_text("Folder")
    row(page, "notes.txt").get_by_role("checkbox").check()
    page.get_by_role("button", name="Move to…").click()
    expect(page.get_by_role("heading", name="Move 1 item to…")).to_be_visible()
    page.get_by_role("button", name="reports/").click()
    expect(page.locator("legend")).to_contain_text("reports")
    page.get_by_role("button", name="Move here").click()
    expect(page.locator("#messages")).to_contain_text("Moved to reports/: 1 object.")
    expect(row(page, "notes.txt")).to_be_visible()
    assert keys_in(s3) == ["reports/", "reports/notes.txt", "table.csv"]

    # --- Copy it back to the top of the bucket.
    row(page, "notes.txt").get_by_role("checkbox").check()
    page.get_by_role("button", name="Copy to…").click()
    page.get_by_role("navigation", name="Destination path").get_by_role("button", name=FRIENDLY).click()
    page.get_by_role("button", name="Copy here").click()
    expect(page.locator("#messages")).to_contain_text("Copied to the top: 1 object.")
    expect(row(page, "notes.txt")).to_be_visible()
    assert keys_in(s3) == ["notes.txt", "reports/", "reports/notes.txt", "table.csv"]

    # --- Download the folder as a zip.
    row(page, "reports/").get_by_role("link").click()
    name, data = downloaded(page, page.get_by_role("link", name="Download folder as zip"), tmp_path)
    assert name == "reports.zip"
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["reports/", "reports/notes.txt"]
    assert archive.read("reports/notes.txt") == b"first file\n"

    # --- Delete the folder: the typed confirmation names what goes.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name=FRIENDLY).click()
    row(page, "reports/").get_by_role("checkbox").check()
    page.get_by_role("button", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete 1 item?")).to_be_visible()
    expect(page.get_by_text("2 objects will be deleted")).to_be_visible()
    page.get_by_label(re.compile("to confirm")).fill("delete 2 objects")
    page.get_by_role("button", name="Delete 2 objects").click()
    expect(page.locator("#messages")).to_contain_text("Deleted 2 objects.")
    expect(row(page, "reports/")).to_have_count(0)
    assert keys_in(s3) == ["notes.txt", "table.csv"]


def test_a_key_with_a_dot_dot_segment_downloads_and_previews_its_own_bytes(
    page: Page, live_server: Any, shop: App, admin_user: Any, s3: Any, tmp_path: Path
) -> None:
    """`docs/../report.txt` is a legal key the listing shows; a link to S3 with `..` in its
    path would be resolved by Chromium to `report.txt`, another object."""
    s3.put_object(Bucket=BUCKET, Key="report.txt", Body=b"the other object", ContentType="text/plain")
    s3.put_object(Bucket=BUCKET, Key="docs/../report.txt", Body=b"the dotted one", ContentType="text/plain")
    s3.put_object(Bucket=BUCKET, Key="docs/../cat.png", Body=png(3, 2, lambda x, y: (200, 40, 40)), ContentType="image/png")
    assert keys_in(s3) == ["docs/../cat.png", "docs/../report.txt", "report.txt"]
    sign_in(page, live_server.url, admin_user.username, PASSWORD)
    main = shop.branches.get(name="main")
    page.goto(f"{live_server.url}/apps/{shop.app_id}/branches/{main.display_name}/storage/buckets/{BUCKET}/")

    # --- Through the listing: docs/, then ../, then report.txt, then Download.
    row(page, "docs/").get_by_role("link").click()
    row(page, "../").get_by_role("link").click()
    row(page, "report.txt").get_by_role("link").click()
    assert downloaded(page, page.get_by_role("link", name="Download"), tmp_path) == ("report.txt", b"the dotted one")

    # --- The image's details page shows its preview (loaded by Chromium from the console).
    page.go_back()
    row(page, "cat.png").get_by_role("link").click()
    preview = page.get_by_role("img", name="Preview of cat.png")
    expect(preview).to_be_visible()
    # Visible comes before loaded: wait for Chromium to have the image, then read its size.
    image = preview.element_handle()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image)
    assert page.evaluate("el => [el.naturalWidth, el.naturalHeight]", image) == [3, 2]
