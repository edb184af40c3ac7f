"""`manage.py data export|import|seed`: output, exit codes, sources, audit."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.branches import services as branch_services
from apps.branches.models import App
from apps.datamanager import csv_io, dynamo
from apps.datamanager.management.commands.data import Command
from apps.datamanager.schema import DataSchema, Model, schema_from_introspection
from apps.datamanager.tests.factories import (
    every_type_introspection,
    every_type_schema,
    fixture_introspection,
    make_table,
    outputs_document,
    scan,
)
from console.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema() -> DataSchema:
    return every_type_schema()


@pytest.fixture
def items(schema: DataSchema) -> Model:
    found = schema.model("Item")
    assert found is not None
    return found


@pytest.fixture
def outputs(tmp_path: Path) -> str:
    path = tmp_path / "amplify_outputs.json"
    path.write_text(json.dumps(outputs_document(every_type_introspection())))
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("data", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("data", *args, stdout=out, stderr=err)
    return out.getvalue(), str(caught.value)


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


RECORDS: list[dict[str, Any]] = [
    {"id": "a", "title": "one, with a comma", "done": True, "tags": ["x"], "price": 2, "__typename": "Item",
     "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-02T00:00:00.000Z"},
    {"id": "b", "title": "two\nlines", "address": {"street": "Main"}, "__typename": "Item",
     "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-02T00:00:00.000Z"},
]  # fmt: skip


# Export


def test_export_writes_the_csv_to_standard_output(outputs: str, items: Model) -> None:
    table = make_table(items)
    dynamo.batch_put(table, RECORDS)
    out, _ = run("export", "--outputs", outputs, "--model", "Item")

    assert out == "".join(csv_io.export_lines(items, dynamo.scan_all(table)))
    parsed = csv_io.read_csv(out)
    assert parsed.header[:5] == ["id", "title", "count", "price", "done"]
    assert [r.cells[:2] for r in parsed.rows] == [["a", "one, with a comma"], ["b", "two\nlines"]]
    event = AuditEvent.objects.get(action="data.export")
    assert event.actor is None
    assert event.target == "outputs:amplify_outputs.json/Item"
    assert event.detail == {"model": "Item", "records": 2, "via": "cli"}


def test_export_with_bom(outputs: str, items: Model) -> None:
    make_table(items)
    out, _ = run("export", "--outputs", outputs, "--model", "Item", "--bom")
    assert out.startswith("\ufeffid,title,")
    assert out.count("\n") == 1


def test_export_then_import_round_trips_through_the_cli(outputs: str, items: Model, tmp_path: Path) -> None:
    table = make_table(items)
    dynamo.batch_put(table, RECORDS)
    exported, _ = run("export", "--outputs", outputs, "--model", "Item")
    before = scan(table)
    dynamo.batch_delete(table, [{"id": "a"}, {"id": "b"}])

    out, _ = run("import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, exported))

    assert out == "written 2, refused 0, unwritten 0\n"
    assert scan(table) == before


# Import


BAD = "id,title,priority,colour\na,one,low,red\nb,two,urgent,blue\nc,,high,green\nd,four,medium,\n"


def test_import_all_or_nothing_refuses_and_exits_non_zero(outputs: str, items: Model, tmp_path: Path) -> None:
    table = make_table(items)
    out, error = run_failing("import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, BAD))

    assert out.splitlines() == [
        "line 3: priority: 'urgent' is not one of low, medium, high",
        "line 4: title: is required",
        "Nothing was written (--mode all-or-nothing): 2 valid rows held back.",
        "written 0, refused 2, unwritten 0",
    ]
    assert error == "2 rows refused, 0 not written; nothing was written."
    assert scan(table) == []
    assert AuditEvent.objects.get(action="data.import").detail["refused"] == 2


def test_import_skip_writes_the_good_rows_and_still_exits_non_zero(outputs: str, items: Model, tmp_path: Path) -> None:
    table = make_table(items)
    out, error = run_failing("import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, BAD),
                             "--mode", "skip")  # fmt: skip

    assert out.splitlines()[-1] == "written 2, refused 2, unwritten 0"
    assert error == "2 rows refused, 0 not written."
    assert [i["id"] for i in scan(table)] == ["a", "d"]


def test_import_names_the_ignored_columns(outputs: str, items: Model, tmp_path: Path) -> None:
    make_table(items)
    _, err = run("import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, "id,title,colour\na,b,c\n"))
    assert err.strip() == "Ignored columns (no field of Item has their name): colour"


def test_import_reads_standard_input(outputs: str, items: Model, monkeypatch: pytest.MonkeyPatch) -> None:
    table = make_table(items)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\ufeffid,title\nx,from stdin\n".encode())))
    out, _ = run("import", "--outputs", outputs, "--model", "Item", "--file", "-")
    assert out == "written 1, refused 0, unwritten 0\n"
    assert [(i["id"], i["title"]) for i in scan(table)] == [("x", "from stdin")]


def test_import_reports_rows_that_could_not_be_written(
    outputs: str, items: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = make_table(items)

    def unprocessed_b(table: dynamo.Table, rows: list[dict[str, Any]], **kwargs: Any) -> dynamo.BatchResult:
        return dynamo.BatchResult(written=len(rows) - 1, failed=[r for r in rows if r["id"] == "b"])

    monkeypatch.setattr(dynamo, "batch_put", unprocessed_b)
    out, error = run_failing(
        "import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, "id,title\na,1\nb,2\n")
    )
    assert out.splitlines() == ["not written: id=b", "written 1, refused 0, unwritten 1"]
    assert error == "0 rows refused, 1 not written."
    assert AuditEvent.objects.get(action="data.import").outcome == "failure"
    assert table.name == "Item-testapi1234567890-NONE"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "The file is empty: its first line must be a header naming the columns."),
        ("id,id\n1,2\n", "line 1: the header has the column 'id' twice (columns 1 and 2)"),
        ("title\nx\n", None),  # an `id` key needs no column
        ("count\n1\n", "the required field title has no column"),
    ],
)
def test_import_refuses_unusable_files(outputs: str, items: Model, tmp_path: Path, text: str, error: str | None) -> None:
    make_table(items)
    args = ("import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, text))
    if error is None:
        assert run(*args)[0] == "written 1, refused 0, unwritten 0\n"
    else:
        assert run_failing(*args)[1] == error


def test_import_of_a_missing_file(outputs: str, items: Model, tmp_path: Path) -> None:
    make_table(items)
    _, error = run_failing("import", "--outputs", outputs, "--model", "Item", "--file", str(tmp_path / "nope.csv"))
    assert error == f"Cannot read {tmp_path / 'nope.csv'}: No such file or directory."


def test_a_failed_import_exits_with_status_1(
    outputs: str, items: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(items)
    with pytest.raises(SystemExit) as exit_status:
        Command().run_from_argv(
            ["manage.py", "data", "import", "--outputs", outputs, "--model", "Item", "--file", write_csv(tmp_path, BAD)]
        )
    assert exit_status.value.code == 1
    assert "CommandError: 2 rows refused" in capsys.readouterr().err


# Seed


def test_seed_writes_the_records_and_says_how_many(outputs: str, items: Model) -> None:
    table = make_table(items)
    out, _ = run("seed", "--outputs", outputs, "--model", "Item", "--count", "25", "--seed", "3")
    assert out == "Seeded 25 Item records into Item-testapi1234567890-NONE.\n"
    assert len(scan(table)) == 25
    event = AuditEvent.objects.get(action="data.seed")
    assert (event.actor, event.detail) == (None, {"model": "Item", "written": 25, "unwritten": 0, "via": "cli"})


@pytest.mark.parametrize("count", ["0", "10001", "-3"])
def test_seed_count_must_be_between_1_and_10000(outputs: str, items: Model, count: str) -> None:
    make_table(items)
    _, error = run_failing("seed", "--outputs", outputs, "--model", "Item", "--count", count)
    assert error == f"--count must be between 1 and 10,000, not {count}."


def test_seed_fills_belongs_to_keys_from_a_real_schema(tmp_path: Path) -> None:
    introspection = fixture_introspection("23-schemas-with-pk-on-a-belongsto-fk-works-for-v2.json")
    schema = schema_from_introspection(introspection)
    blog, post = schema.model("Blog"), schema.model("Post")
    assert blog is not None
    assert post is not None
    blogs, posts = make_table(blog), make_table(post)
    dynamo.batch_put(blogs, [{"id": "blog-1", "__typename": "Blog"}, {"id": "blog-2", "__typename": "Blog"}])
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs_document(introspection)))

    out, _ = run("seed", "--outputs", str(path), "--model", "Post", "--count", "12")

    assert out == "Seeded 12 Post records into Post-testapi1234567890-NONE.\n"
    written = scan(posts)
    assert len(written) == 12
    assert {p["blogId"] for p in written} <= {"blog-1", "blog-2"}
    assert all(p["title#description"] == f"{p['title']}#{p['description']}" for p in written)


# Sources and models


def test_an_unknown_model_lists_the_models(outputs: str) -> None:
    _, error = run_failing("export", "--outputs", outputs, "--model", "Todo")
    assert error == "The schema has no model 'Todo'; its models are: Blog, Item, Post."


def test_a_missing_table_is_a_clear_error(outputs: str) -> None:
    _, error = run_failing("export", "--outputs", outputs, "--model", "Item")
    assert error.startswith("No DynamoDB table named Item-<apiId>-NONE in us-east-1")


def test_an_invalid_outputs_file_names_its_problems(tmp_path: Path) -> None:
    bad_json, wrong = tmp_path / "bad.json", tmp_path / "wrong.json"
    bad_json.write_text("{not json")
    wrong.write_text(json.dumps({"version": "1.4", "data": {"url": 5}}))

    _, error = run_failing("export", "--outputs", str(bad_json), "--model", "Item")
    assert error.startswith(f"{bad_json} is not a valid amplify_outputs.json:\n  (document): not valid JSON")
    _, error = run_failing("export", "--outputs", str(wrong), "--model", "Item")
    assert "data.url: must be a string, not a number" in error
    _, error = run_failing("export", "--outputs", str(tmp_path / "absent.json"), "--model", "Item")
    assert error == f"Cannot read {tmp_path / 'absent.json'}: No such file or directory."


def test_an_outputs_file_without_data_models(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"version": "1.4"}))
    _, error = run_failing("export", "--outputs", str(path), "--model", "Item")
    assert error == "The file has no data.model_introspection: the backend has no data models."


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "No data given. Give either --outputs FILE, or --app-id ID with --branch NAME."),
        (("--app-id", "d1"), "--app-id needs --branch. Give either"),
        (("--branch", "main"), "--branch needs --app-id. Give either"),
        (("--outputs", "x.json", "--app-id", "d1", "--branch", "main"), "--outputs does not go with --app-id or --branch."),
    ],
)
def test_exactly_one_source_is_needed(args: tuple[str, ...], error: str) -> None:
    _, message = run_failing("export", "--model", "Item", *args)
    assert message.startswith(error)


@pytest.fixture
def app(make_repo: Callable[..., Path]) -> App:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    branch = app.branches.get(name="main")
    branch.backend_outputs = outputs_document(every_type_introspection())
    branch.save()
    return app


def test_a_registered_branch_is_found_by_app_id_and_name(app: App, items: Model, tmp_path: Path) -> None:
    table = make_table(items)
    out, _ = run("import", "--app-id", app.app_id, "--branch", "main", "--model", "Item",
                 "--file", write_csv(tmp_path, "id,title\nq,registered\n"))  # fmt: skip
    assert out == "written 1, refused 0, unwritten 0\n"
    assert [i["id"] for i in scan(table)] == ["q"]
    assert AuditEvent.objects.get(action="data.import").target == f"{app.app_id}/main/Item"

    exported, _ = run("export", "--app-id", app.app_id, "--branch", "main", "--model", "Item")
    assert exported.splitlines()[1].startswith("q,registered,")


def test_an_unknown_app_or_branch_is_a_clear_error(app: App) -> None:
    _, error = run_failing("export", "--app-id", "dnope", "--branch", "main", "--model", "Item")
    assert error == "No app with the id 'dnope' is registered in the console."
    _, error = run_failing("export", "--app-id", app.app_id, "--branch", "dev", "--model", "Item")
    assert error == f"The app {app.app_id} has no branch 'dev' connected in the console."


def test_a_branch_without_a_schema_says_what_to_do(app: App) -> None:
    app.branches.filter(name="main").update(backend_outputs=None)
    _, error = run_failing("export", "--app-id", app.app_id, "--branch", "main", "--model", "Item")
    assert error.startswith("No data schema for main:")
    assert "upload its amplify_outputs.json" in error
