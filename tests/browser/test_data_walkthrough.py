"""Move records between two branches in real Chromium as an operator: on
main, pick the Note model, create a record with the form, edit it, seed 20 more
and download the CSV; on dev, import that file through the upload and mapping
pages. Then dev's table holds the same 21 records as main's, field by field.

Both branches have the example's schema and their own tables: the example's
ampx stand-in deploys each one to the emulator (what a build's backend phase
runs), and its amplify_outputs.json becomes the branch's backend outputs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from playwright.sync_api import Page, expect

from apps.branches import services
from apps.branches.models import App, Branch
from apps.branches.outputs import parse_outputs
from apps.datamanager.schema import Model, schema_from_introspection
from console.amplify_names import branch_stack_name
from console.emulator import EMULATOR_CREDENTIALS, Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "todo-app"
APP_NAME = "Field notes"
PASSWORD = "correct-horse-battery"  # the root conftest's, for its operator_user
MODEL = "Note"
SEEDED = 20


def deploy_backend(app: App, branch: Branch, emulator: Emulator, out_dir: Path) -> None:
    """Run the example's `ampx pipeline-deploy` stand-in for the branch, as a build's backend
    phase does, and keep its amplify_outputs.json as the branch's backend outputs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(EMULATOR_CREDENTIALS, AWS_ENDPOINT_URL=emulator.endpoint_url, AWS_DEFAULT_REGION="us-east-1")
    command = [sys.executable, "tools/ampx_standin.py", "pipeline-deploy", "--branch", branch.name, "--app-id", app.app_id]
    result = subprocess.run(
        [*command, "--outputs-out-dir", str(out_dir)],
        cwd=EXAMPLE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outputs = parse_outputs((out_dir / "amplify_outputs.json").read_bytes())
    Branch.objects.filter(pk=branch.pk).update(backend_outputs=outputs)


@pytest.fixture
def two_branches(
    emulator: Emulator, settings: Any, transactional_db: None, make_repo: Callable[..., Path], tmp_path: Path
) -> Iterator[App]:
    """An app with branches main and dev, each with the example's backend on the emulator."""
    from console.aws import clear_client_cache

    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    settings.AWS_REGION = "us-east-1"
    clear_client_cache()
    repository = make_repo(("main", "dev"))
    app = services.app_create(actor=None, name=APP_NAME, repository=str(repository), production_branch="main")
    services.branch_connect(actor=None, app=app, name="dev")
    for branch in app.branches.all():
        deploy_backend(app, branch, emulator, tmp_path / f"outputs-{branch.name}")
    try:
        yield app
    finally:
        clear_client_cache()


def emulator_client(emulator: Emulator, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def table_items(emulator: Emulator, branch: Branch) -> list[dict[str, Any]]:
    """Every item of the branch's Note table, read with boto3 (not through the console)."""
    stack = emulator_client(emulator, "cloudformation").describe_stacks(
        StackName=branch_stack_name(branch.app.app_id, branch.name)
    )["Stacks"][0]
    api_id = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "awsAppsyncApiId")
    deserializer = TypeDeserializer()
    pages = emulator_client(emulator, "dynamodb").get_paginator("scan").paginate(TableName=f"{MODEL}-{api_id}-NONE")
    return [{k: deserializer.deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]


def note_model(branch: Branch) -> Model:
    assert branch.backend_outputs is not None
    schema = schema_from_introspection(branch.backend_outputs["data"]["model_introspection"])
    model = schema.model(MODEL)
    assert model is not None
    return model


def open_model(page: Page, branch: str) -> None:
    """From any page of the app: the branch, its Data, then the Note model."""
    sidebar = page.get_by_role("navigation", name=f"App {APP_NAME}")
    sidebar.get_by_role("link", name=branch, exact=True).click()
    expect(page.get_by_role("heading", name=branch, level=1)).to_be_visible()
    sidebar.get_by_role("link", name="Data", exact=True).click()
    expect(page.get_by_role("heading", name=f"Data of {branch}", level=1)).to_be_visible()
    models = page.locator(".model-list").get_by_role("link")
    expect(models).to_have_text(["Note", "Project", "Todo"])
    models.filter(has_text=MODEL).click()
    expect(page.get_by_role("heading", name=MODEL, level=1)).to_be_visible()


def test_operator_copies_records_from_main_to_dev_through_a_csv_file(
    page: Page, live_server: Any, two_branches: App, operator_user: Any, emulator: Emulator, tmp_path: Path
) -> None:
    base = live_server.url
    main, dev = (two_branches.branches.get(name=name) for name in ("main", "dev"))
    sign_in(page, base, operator_user.username, PASSWORD)
    page.get_by_role("link", name=APP_NAME).click()

    # --- main: an empty Note table.
    open_model(page, "main")
    expect(page.get_by_role("heading", name="No records yet")).to_be_visible()

    # --- Create a record with the form: a custom type, a list and JSON go in as JSON.
    page.get_by_role("link", name="New Note").click()
    expect(page.get_by_role("heading", name="New Note", level=1)).to_be_visible()
    page.get_by_label("title *").fill("Harbour survey")
    page.get_by_label("body").fill("Tide gauge readings along the east pier.")
    page.get_by_label("location").fill('{"lat": 51.5072, "lng": -0.1276, "label": "East pier"}')
    page.get_by_label("links").fill('["https://example.com/tides", "https://example.com/pier"]')
    page.get_by_label("meta").fill('{"instrument": "gauge-7", "readings": 12}')
    page.get_by_label("contact").fill("surveyor@example.com")
    page.get_by_label("phone").fill("+14155550123")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text(r"Note id=")
    expect(page.get_by_role("status")).to_contain_text("created.")
    rows = page.locator("table.records tbody").get_by_role("row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harbour survey")

    # --- Edit it: the id cell opens the form; the saved value shows in the table.
    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Edit Note", level=1)).to_be_visible()
    expect(page.get_by_label("title *")).to_have_value("Harbour survey")
    page.get_by_label("body").fill("Tide gauge readings along the east and west piers.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Note saved.")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Tide gauge readings along the east and west piers.")

    # --- Seed 20 generated records with the seed form.
    page.get_by_label("How many", exact=True).fill(str(SEEDED))
    page.get_by_role("button", name="Seed", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"Seeded {SEEDED} Note records.")
    expect(rows).to_have_count(SEEDED + 1)
    expect(page.get_by_text(f"Page 1 · {SEEDED + 1} records")).to_be_visible()

    # --- Download the CSV: the header names the stored fields, one line per record.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "main-Note.csv"
    csv_path = tmp_path / download.suggested_filename
    download.save_as(csv_path)
    text = csv_path.read_text(encoding="utf-8")
    lines = text.splitlines()
    fields = [f.name for f in note_model(main).stored_fields]
    assert lines[0] == ",".join(fields)
    assert fields == ["id", "title", "body", "location", "links", "meta", "contact", "phone", "createdAt", "updatedAt"]
    assert len(lines) == 1 + SEEDED + 1
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == SEEDED + 1
    edited = next(row for row in parsed if row["title"] == "Harbour survey")
    assert edited["body"] == "Tide gauge readings along the east and west piers."
    assert json.loads(edited["location"]) == {"lat": 51.5072, "lng": -0.1276, "label": "East pier"}

    # --- dev: the same model, empty; import the file through the upload and mapping pages.
    open_model(page, "dev")
    expect(page.get_by_role("heading", name="No records yet")).to_be_visible()
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import Note records from CSV", level=1)).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(csv_path))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_role("heading", name="Import main-Note.csv into Note", level=1)).to_be_visible()
    # Every column is mapped to the field of its name.
    for index, name in enumerate(fields):
        expect(page.locator(f"#map-{index}")).to_have_value(name)
    expect(page.get_by_role("status")).to_have_text(f"{SEEDED + 1} of {SEEDED + 1} rows can be written.")
    page.get_by_role("button", name=f"Import {SEEDED + 1} rows").click()
    expect(page.get_by_role("heading", name="Import of Note", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(f"Done {SEEDED + 1} written of {SEEDED + 1}")

    # --- The page lists them too, and dev's table holds main's records, field by field.
    page.get_by_role("link", name=MODEL, exact=True).click()
    expect(rows).to_have_count(SEEDED + 1)
    source, copied = table_items(emulator, main), table_items(emulator, dev)
    assert len(source) == len(copied) == SEEDED + 1

    def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {item["id"]: {name: item.get(name) for name in (*fields, "__typename")} for item in items}

    expected, actual = by_id(source), by_id(copied)
    assert actual.keys() == expected.keys()
    for key, item in expected.items():
        assert actual[key] == item, key
    # What the form wrote is stored in its types: a map, a list, numbers as numbers.
    harbour = next(item for item in actual.values() if item["title"] == "Harbour survey")
    assert harbour["location"] == {"lat": Decimal("51.5072"), "lng": Decimal("-0.1276"), "label": "East pier"}
    assert harbour["links"] == ["https://example.com/tides", "https://example.com/pier"]
    assert json.loads(harbour["meta"]) == {"instrument": "gauge-7", "readings": 12}
