"""The records grid in real Chromium, as an operator, on the demo's Todo app: the example's
backend deployed to the emulator (what a build's backend phase runs) and filled the way the
demo fills it (8 projects, 40 todos from the demo's seed, the demo's files in its bucket).

At 1400 px the Todo grid (a select column and 9 fields: 10 columns) keeps every row one line
tall and scrolls sideways inside itself, not the page (measured from the DOM); a long value is
whole in the side panel; a cell edit saves, and an edit of a record changed meanwhile is
refused with both values; a projectId cell leads to its Project; the create form picks a
Project from a list; a file uploaded into a record lands in the bucket. A screenshot of the
grid is kept in var/test-artifacts/.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from playwright.sync_api import Page, expect

from apps.branches import services
from apps.branches.models import Branch
from apps.datamanager.services import seed_records
from apps.datamanager.sources import branch_data
from apps.storage.services import seed_demo_files
from console.emulator import Emulator
from tests.browser.conftest import STEP_TIMEOUT_MS
from tests.browser.steps import sign_in
from tests.browser.test_data_walkthrough import PASSWORD, deploy_backend, emulator_client

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
APP_NAME = "Todo app (demo)"
WIDTH = 1400
ROW_HEIGHT = 34  # table.grid td { height } in console.css
LONG_CONTENT = "Measure the east pier at low tide and write every reading down. " * 12


@pytest.fixture
def demo_data(
    emulator: Emulator, settings: Any, transactional_db: None, make_repo: Callable[..., Path], tmp_path: Path
) -> Iterator[Branch]:
    """The demo's main branch: the example's backend on the emulator, its rows and files."""
    from apps.demo.seed import DEMO_DATA_SEED
    from console.aws import clear_client_cache

    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    settings.AWS_REGION = "us-east-1"
    clear_client_cache()
    app = services.app_create(actor=None, name=APP_NAME, repository=str(make_repo(("main",))), production_branch="main")
    branch = app.branches.get(name="main")
    deploy_backend(app, branch, emulator, tmp_path / "outputs")
    branch.refresh_from_db()
    data = branch_data(branch)
    for name, count in (("Project", 8), ("Todo", 40)):
        model = data.schema.model(name)
        assert model is not None
        seed_records(data, model, data.table(model), count=count, seed=DEMO_DATA_SEED)
    bucket = branch.backend_outputs["storage"]["bucket_name"]
    seed_demo_files(bucket, "us-east-1")
    try:
        yield branch
    finally:
        clear_client_cache()


class Tables:
    """The demo's tables and bucket read and written with boto3, as another client would."""

    def __init__(self, emulator: Emulator, branch: Branch) -> None:
        self.dynamodb = emulator_client(emulator, "dynamodb")
        self.s3 = emulator_client(emulator, "s3")
        self.api_id = self._api_id(emulator, branch)
        self.bucket = branch.backend_outputs["storage"]["bucket_name"]

    @staticmethod
    def _api_id(emulator: Emulator, branch: Branch) -> str:
        stack = emulator_client(emulator, "cloudformation").describe_stacks(StackName=branch.backend_stack_name)["Stacks"][0]
        return str(next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "awsAppsyncApiId"))

    def items(self, model: str) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=f"{model}-{self.api_id}-NONE")
        deserializer = TypeDeserializer()
        return [{k: deserializer.deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]

    def get(self, model: str, record_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(TableName=f"{model}-{self.api_id}-NONE", Key={"id": {"S": record_id}})["Item"]
        return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}

    def put(self, model: str, item: dict[str, Any]) -> None:
        serializer = TypeSerializer()
        self.dynamodb.put_item(
            TableName=f"{model}-{self.api_id}-NONE", Item={k: serializer.serialize(v) for k, v in item.items()}
        )

    def keys(self, prefix: str) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])]


@pytest.fixture
def wide_page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def cell(page: Page, record_id: str, field: str) -> Any:
    """The grid cell of a record's field (found by the key cell's text and the header's name)."""
    index = page.locator("#grid thead th").evaluate_all("(ths, field) => ths.findIndex(th => th.dataset.f === field)", field)
    row = page.locator("#grid tbody tr").filter(has=page.locator("td.key", has_text=record_id))
    return row.locator("td").nth(index)


def open_todos(page: Page, base: str, branch: Branch, query: str = "") -> None:
    page.goto(f"{base}/apps/{branch.app.app_id}/branches/main/data/models/Todo/{query}")
    expect(page.get_by_role("heading", name="Todo", level=1)).to_be_visible()


def test_operator_works_in_the_todo_grid(
    wide_page: Page, live_server: Any, demo_data: Branch, operator_user: Any, emulator: Emulator, tmp_path: Path
) -> None:
    page, base, branch = wide_page, live_server.url, demo_data
    tables = Tables(emulator, branch)
    todos = sorted(tables.items("Todo"), key=lambda item: item["id"])
    projects = {item["id"]: item for item in tables.items("Project")}
    long_todo, edited, conflicted, with_file = todos[0], todos[1], todos[2], todos[3]
    tables.put("Todo", {**long_todo, "content": LONG_CONTENT})
    tables.put("Todo", {**with_file, "content": "media/images/sunset.png"})
    tables.put("Todo", {**edited, "content": "Water the plants", "done": False})
    sign_in(page, base, operator_user.username, PASSWORD)

    # --- 1. The grid at 1400 px: 10 columns, every row one line tall, sideways scrolling inside it.
    open_todos(page, base, branch, "?size=50")
    rows = page.locator("#grid tbody tr")
    expect(rows).to_have_count(40)
    expect(page.locator("#grid thead th")).to_have_count(10)
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert set(heights) == {ROW_HEIGHT}, heights
    lines = page.locator("#grid tbody td").evaluate_all("tds => tds.filter(td => td.scrollHeight > td.clientHeight + 1).length")
    assert lines == 0
    sizes = page.evaluate(
        """() => { const wrap = document.querySelector('.grid-wrap');
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                wrap: wrap.clientWidth, inner: wrap.scrollWidth}; }"""
    )
    assert sizes["page"] <= sizes["view"], sizes  # the page itself does not scroll sideways
    assert sizes["inner"] > sizes["wrap"], sizes  # the grid does
    # The header and the key column stay in view as the grid scrolls.
    page.locator(".grid-wrap").evaluate("wrap => { wrap.scrollLeft = 400; wrap.scrollTop = 300; }")
    key_left = page.locator("#grid tbody td.key").first.evaluate("td => td.getBoundingClientRect().left")
    wrap_left = page.locator(".grid-wrap").evaluate("wrap => wrap.getBoundingClientRect().left")
    assert key_left - wrap_left < 40, (key_left, wrap_left)  # just right of the select column
    header_top = page.locator("#grid thead th").first.evaluate("th => th.getBoundingClientRect().top")
    assert abs(header_top - page.locator(".grid-wrap").evaluate("w => w.getBoundingClientRect().top")) < 2
    page.locator(".grid-wrap").evaluate("wrap => { wrap.scrollLeft = 0; wrap.scrollTop = 0; }")

    # --- 2. The side panel: the long content, whole.
    cell(page, long_todo["id"], "content").click()
    panel = page.get_by_role("complementary", name="Cell value")
    expect(panel.locator("pre.panel-value")).to_have_text(LONG_CONTENT)
    expect(panel.get_by_role("button", name="Copy")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "data-grid.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    print(f"\nscreenshot of the Todo grid: {shot}", file=sys.stderr)
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()

    # --- 3. Keyboard: arrows move, Enter edits, Esc cancels; Enter saves.
    content = cell(page, edited["id"], "content")
    content.click()
    page.keyboard.press("ArrowRight")
    expect(cell(page, edited["id"], "done")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(content).to_be_focused()
    page.keyboard.press("Enter")
    editor = content.get_by_role("textbox")
    editor.fill("Changed, then cancelled")
    editor.press("Escape")
    expect(content).to_have_text("Water the plants")
    page.keyboard.press("Enter")
    content.get_by_role("textbox").fill("Paint the fence")
    content.get_by_role("textbox").press("Enter")
    expect(page.locator("#grid-status")).to_have_text("Saved content.")
    expect(cell(page, edited["id"], "content")).to_have_text("Paint the fence")
    assert tables.get("Todo", edited["id"])["content"] == "Paint the fence"
    # An enum cell is a select.
    priority = cell(page, edited["id"], "priority")
    priority.dblclick()
    priority.get_by_role("combobox").select_option("high")
    priority.get_by_role("combobox").press("Enter")
    expect(cell(page, edited["id"], "priority")).to_have_text("high")
    assert tables.get("Todo", edited["id"])["priority"] == "high"

    # A boolean cell is a toggle.
    done = cell(page, edited["id"], "done")
    done.dblclick()
    toggle = done.get_by_role("checkbox")
    toggle.press("Space")
    toggle.press("Enter")
    expect(cell(page, edited["id"], "done")).to_have_text("true")
    assert tables.get("Todo", edited["id"])["done"] is True

    # --- 4. Someone else changes a record after the page loaded: the edit is refused, both values shown.
    tables.put("Todo", {**conflicted, "content": "Their change", "updatedAt": "2030-01-01T00:00:00.000Z"})
    mine = cell(page, conflicted["id"], "content")
    mine.dblclick()
    mine.get_by_role("textbox").fill("My change")
    mine.get_by_role("textbox").press("Enter")
    alert = page.locator("#grid-status").get_by_role("alert")
    expect(alert).to_contain_text("someone changed this Todo record since the page was loaded")
    expect(alert).to_contain_text("Your content: “My change”; now stored: “Their change”.")
    assert tables.get("Todo", conflicted["id"])["content"] == "Their change"
    mine.get_by_role("textbox").press("Escape")

    # --- 5. A projectId cell leads to its Project.
    linked = next(t for t in todos[4:] if t.get("projectId") in projects)
    cell(page, linked["id"], "projectId").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Edit Project", level=1)).to_be_visible()
    expect(page.get_by_label("name *")).to_have_value(projects[linked["projectId"]]["name"])

    # Its Project's grid counts each project's todos and links to them.
    page.goto(f"{base}/apps/{branch.app.app_id}/branches/main/data/models/Project/")
    parent = projects[linked["projectId"]]
    todos_cell = page.locator("#grid tbody tr").filter(has=page.locator("td.key", has_text=parent["id"])).locator("a.children")
    expected = sum(1 for t in tables.items("Todo") if t.get("projectId") == parent["id"])
    expect(todos_cell).to_have_text(f"todos: {expected}")
    todos_cell.click()
    expect(page.locator("#grid tbody tr")).to_have_count(expected)
    expect(page.get_by_role("textbox", name="Value", exact=True)).to_have_value(parent["id"])

    # --- 6. The create form: a Project picked from the list fills projectId.
    open_todos(page, base, branch)
    page.get_by_role("link", name="New Todo").click()
    picker = page.get_by_role("group", name="Choose the Project for projectId")
    chosen = sorted(projects.values(), key=lambda p: p["id"])[0]
    picker.get_by_label("Search Project records").fill(chosen["name"])
    picker.get_by_role("button", name=chosen["name"], exact=True).first.click()
    expect(page.get_by_label("projectId", exact=True)).to_have_value(chosen["id"])
    page.get_by_label("content", exact=True).fill("Picked a parent")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text("created.")
    created = next(t for t in tables.items("Todo") if t.get("content") == "Picked a parent")
    assert created["projectId"] == chosen["id"]

    # --- 7. A file uploaded into a record lands in the bucket and the record points at it.
    open_todos(page, base, branch, "?size=50")
    holder = cell(page, with_file["id"], "content")
    expect(holder.locator("img.thumb")).to_be_visible()
    holder.click()
    expect(panel.locator("img.panel-image")).to_be_visible()
    upload = tmp_path / "receipt.txt"
    upload.write_bytes(b"paid in full\n")
    panel.get_by_label("Replace with a file").set_input_files(str(upload))
    panel.get_by_role("button", name="Upload to the bucket").click()
    expect(page.get_by_role("status")).to_contain_text("content now points at media/Todo/")
    [key] = tables.keys("media/Todo/")
    assert key.endswith("/receipt.txt")
    assert tables.s3.get_object(Bucket=tables.bucket, Key=key)["Body"].read() == b"paid in full\n"
    assert tables.get("Todo", with_file["id"])["content"] == key


def test_viewers_see_the_grid_without_edit_affordances(
    wide_page: Page, live_server: Any, demo_data: Branch, viewer_user: Any, emulator: Emulator
) -> None:
    page, branch = wide_page, demo_data
    todo = sorted(Tables(emulator, branch).items("Todo"), key=lambda item: item["id"])[0]
    sign_in(page, live_server.url, viewer_user.username, PASSWORD)
    open_todos(page, live_server.url, branch)
    expect(page.locator("#grid")).not_to_have_attribute("data-can-edit", "1")
    content = cell(page, todo["id"], "content")
    content.click()
    page.keyboard.press("Enter")
    expect(content.locator(".cell-editor")).to_have_count(0)
    expect(page.get_by_role("complementary", name="Cell value").locator("input[type=file]")).to_have_count(0)

    # A viewer keeps their own layout: a column hidden with the chooser, one widened by its edge.
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("Show tags").uncheck()
    page.get_by_role("button", name="Save columns").click()
    expect(page.get_by_role("status")).to_have_text("Your columns of Todo are saved.")
    expect(page.locator("#grid thead th")).to_have_count(8)  # no select column for viewers, no tags
    handle = page.locator('#grid thead th[data-f="content"] .resize')
    box = handle.bounding_box()
    assert box is not None
    before = page.locator('#grid thead th[data-f="content"]').evaluate("th => th.getBoundingClientRect().width")
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 122, box["y"] + box["height"] / 2, steps=5)
    with page.expect_response(lambda r: "/grid/" in r.url and r.request.method == "POST") as saved:
        page.mouse.up()
    assert saved.value.status == 204
    page.reload()
    after = page.locator('#grid thead th[data-f="content"]').evaluate("th => th.getBoundingClientRect().width")
    assert abs(after - (before + 120)) <= 2, (before, after)
    expect(page.locator("#grid thead th")).to_have_count(8)
