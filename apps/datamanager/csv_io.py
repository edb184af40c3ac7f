"""CSV export and import of a model's records.

Export streams: it consumes records one at a time (dynamo.scan_all is a generator)
and yields one CSV line at a time. A cell holds `values.to_text` of the stored value
(lists, custom types and AWSJSON as JSON; booleans true/false), so an exported file
imports back to the same items.

Import is three steps, so a page can show the mapping and the refusals before
anything is written: `read_csv` (the file as rows with their line numbers),
`validate_rows` (each row as an item, or the reasons it is refused, naming line and
field), `import_rows` (BatchWriteItem, reporting what could not be written). Puts
overwrite by key, and a row without an `id` gets one derived from its values, so
importing the same file twice leaves the same records, never duplicates.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.datamanager import dynamo
from apps.datamanager.schema import TIMESTAMP_FIELDS, DataSchema, Model
from apps.datamanager.values import FieldError, parse_text, to_text
from console.csv_stream import _Echo, inert, restored

BOM = "\ufeff"
MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# DynamoDB items reach 400 KB; csv's default cell limit (128 KiB) would refuse some.
MAX_CELL_CHARS = 400 * 1024
WRITE_BATCH = 100  # rows per progress report (BatchWriteItem itself takes 25)
SKIP, ALL_OR_NOTHING = "skip", "all_or_nothing"
MODES = (SKIP, ALL_OR_NOTHING)
# Ids derived from a row's values live in their own namespace (uuid5 of the console's name).
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "amplify-console/datamanager/import")
_CSV_ERRORS = {
    "unexpected end of data": "a quoted cell starts on this line and is never closed",
    "',' expected after '\"'": 'a closing quote (") must be followed by a comma or the end of the line',
}


class CsvInvalid(ValueError):
    """The file as a whole cannot be read (empty, too large, bad header)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class MappingInvalid(ValueError):
    """The column-to-field mapping cannot work for any row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# Export


def export_header(model: Model) -> list[str]:
    """The stored fields in schema order (a composite sort key attribute is derived, so left out)."""
    return [f.name for f in model.stored_fields]


def export_row(model: Model, record: dict[str, Any]) -> list[str]:
    return [str(inert(to_text(f, record.get(f.name)))) for f in model.stored_fields]


def export_lines(model: Model, records: Iterable[dict[str, Any]], *, bom: bool = False) -> Iterator[str]:
    """CSV lines (header first), one record in memory at a time; `bom` for Excel."""
    writer = csv.writer(_Echo())
    header: str = writer.writerow(export_header(model))
    yield (BOM + header) if bom else header
    for record in records:
        yield writer.writerow(export_row(model, record))


def export_selected(table: dynamo.Table, model: Model, keys: Iterable[dict[str, Any]], *, bom: bool = False) -> Iterator[str]:
    """The records with these keys (those that still exist), read one by one as lines are taken."""
    records = (item for key in keys if (item := dynamo.get_item(table, key)) is not None)
    return export_lines(model, records, bom=bom)


# Reading


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts in the file (1 is the header)
    cells: list[str]
    error: str = ""  # a row the file itself gets wrong (ragged, a broken quote)


@dataclass
class ParsedCsv:
    header: list[str]
    rows: list[CsvRow]


def decode_csv(data: bytes) -> str:
    """An uploaded file's bytes as text: UTF-8 (with or without a BOM), within the size limit."""
    _check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvInvalid(
            [f"The file is not UTF-8 text (byte {error.start + 1} is not valid); save it as CSV UTF-8 and try again."]
        ) from None
    if "\x00" in text:
        # Text files hold no NUL characters (and PostgreSQL cannot keep one in a task's payload).
        raise CsvInvalid([f"The file holds a NUL character at position {text.index(chr(0)) + 1}: it is not a CSV text file."])
    return text


def _check_size(size: int) -> None:
    if size > MAX_CSV_BYTES:
        raise CsvInvalid([f"The file is {size:,} bytes; the limit is {MAX_CSV_BYTES // (1024 * 1024)} MB. Split it into parts."])


def _csv_error(error: csv.Error) -> str:
    message = str(error)
    if message.startswith("field larger than field limit"):
        return f"a cell is longer than {MAX_CELL_CHARS:,} characters"
    return _CSV_ERRORS.get(message, f"not valid CSV ({message})")


def read_csv(text: str) -> ParsedCsv:
    """The header and the data rows, each with the line it starts on (quoted cells may
    span lines). Blank lines and rows of empty cells are skipped; a row with the wrong
    number of cells is kept with an error for its line. CsvInvalid when the file as a
    whole is unusable."""
    _check_size(len(text.encode("utf-8", errors="replace")))
    text = text.removeprefix(BOM)
    if not text.strip():
        raise CsvInvalid(["The file is empty: its first line must be a header naming the columns."])
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[CsvRow] = []

    def add(row: CsvRow) -> None:
        if len(rows) == MAX_ROWS:
            raise CsvInvalid([f"The file has more than {MAX_ROWS:,} rows; split it into parts of at most {MAX_ROWS:,}."])
        rows.append(row)

    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if header is None:
                raise CsvInvalid([f"line {line}: the header is not valid CSV: {_csv_error(error)}"]) from None
            add(CsvRow(line=line, cells=[], error=_csv_error(error)))
            continue
        if header is None:
            header = _header(cells, line)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        ragged = "" if len(cells) == len(header) else f"has {len(cells)} cells but the header has {len(header)} columns"
        add(CsvRow(line=line, cells=[restored(cell) for cell in cells], error=ragged))
    if header is None:
        raise CsvInvalid(["The file is empty: its first line must be a header naming the columns."])
    return ParsedCsv(header=header, rows=rows)


def _header(cells: list[str], line: int) -> list[str]:
    header = [cell.strip() for cell in cells]
    if not any(header):
        raise CsvInvalid([f"line {line}: the header names no columns."])
    seen: dict[str, int] = {}
    problems = []
    for position, name in enumerate(header, start=1):
        if name and name in seen:
            problems.append(f"line {line}: the header has the column {name!r} twice (columns {seen[name]} and {position})")
        seen.setdefault(name, position)
    if problems:
        raise CsvInvalid(problems)
    return header


# Mapping and validation


def importable_fields(model: Model) -> tuple[str, ...]:
    return tuple(f.name for f in model.stored_fields)


def suggest_mapping(header: list[str], model: Model) -> dict[str, str]:
    """Each column's field: the same name, else the same name in another case; "" to ignore it."""
    names = importable_fields(model)
    mapping = {column: column if column in names else "" for column in header if column}
    taken = set(mapping.values())
    by_lower = {name.lower(): name for name in names}
    for column, chosen in mapping.items():
        match = by_lower.get(column.lower(), "")
        if not chosen and match and match not in taken:
            mapping[column] = match
            taken.add(match)
    return mapping


def mapping_problems(header: list[str], mapping: dict[str, str], model: Model) -> list[str]:
    """Why a mapping cannot work for any row: unknown columns or fields, a field mapped
    twice, a key or required field with no column (an `id` key is derived instead)."""
    names = importable_fields(model)
    problems = [f"there is no column {column!r} in the file" for column in mapping if column not in header]
    used: dict[str, str] = {}
    for column, name in mapping.items():
        if not name:
            continue
        if name not in names:
            problems.append(f"{model.name} has no stored field {name!r} (column {column!r})")
        elif name in used:
            problems.append(f"the field {name} is mapped from two columns, {used[name]!r} and {column!r}")
        used.setdefault(name, column)
    for f in model.stored_fields:
        derived = f.name == "id" and model.primary_key == "id"
        needed = f.name in model.key_fields or (f.value_required and f.name not in TIMESTAMP_FIELDS)
        if needed and not derived and f.name not in used:
            problems.append(f"the {'key' if f.name in model.key_fields else 'required'} field {f.name} has no column")
    return problems


@dataclass
class RowResult:
    line: int
    item: dict[str, Any] | None  # stored values, ready to stamp and write; None when refused
    errors: list[str] = field(default_factory=list)  # "field: reason", without the line

    @property
    def messages(self) -> list[str]:
        return [f"line {self.line}: {error}" for error in self.errors]


def derived_id(model: Model, item: dict[str, Any]) -> str:
    """The same values always give the same id (timestamps aside)."""
    fields = {f.name: f for f in model.stored_fields}
    content = {name: to_text(fields[name], value) for name, value in item.items() if name not in TIMESTAMP_FIELDS}
    return str(uuid.uuid5(_ID_NAMESPACE, model.name + "\n" + json.dumps(content, sort_keys=True, ensure_ascii=False)))


def validate_rows(parsed: ParsedCsv, mapping: dict[str, str], model: Model, schema: DataSchema) -> list[RowResult]:
    """Every row as an item of stored values, or refused with each reason. Raises
    MappingInvalid when the mapping itself cannot work."""
    problems = mapping_problems(parsed.header, mapping, model)
    if problems:
        raise MappingInvalid(problems)
    position = {column: index for index, column in enumerate(parsed.header)}
    columns = [(position[column], model.field(name)) for column, name in mapping.items() if name]
    derive_id = model.primary_key == "id"
    first_line_of_key: dict[str, int] = {}
    results = []
    for row in parsed.rows:
        if row.error:
            results.append(RowResult(line=row.line, item=None, errors=[row.error]))
            continue
        item: dict[str, Any] = {}
        errors = []
        for index, f in columns:
            cell = row.cells[index]
            if derive_id and f.name == "id" and not cell.strip():
                continue
            try:
                value = parse_text(f, cell, schema)
            except FieldError as error:
                errors.append(str(error))
                continue
            if value is None and f.name in model.key_fields:
                errors.append(f"{f.name}: is required (it is part of the key)")
            elif value is not None:
                item[f.name] = value
        if not errors and derive_id and "id" not in item:
            item["id"] = derived_id(model, item)
        if not errors:
            key = json.dumps([to_text(model.field(k), item[k]) for k in model.key_fields], ensure_ascii=False)
            earlier = first_line_of_key.setdefault(key, row.line)
            if earlier != row.line:
                errors.append(f"has the same key as line {earlier} ({_describe_key(model, item)}); a file holds each record once")
        results.append(RowResult(line=row.line, item=None if errors else item, errors=errors))
    return results


def _describe_key(model: Model, item: dict[str, Any]) -> str:
    return ", ".join(f"{name} {to_text(model.field(name), item[name])!r}" for name in model.key_fields)


# Writing


@dataclass
class ImportReport:
    written: int = 0
    refused: list[RowResult] = field(default_factory=list)
    unwritten: list[dict[str, Any]] = field(default_factory=list)  # keys BatchWriteItem could not write
    held_back: int = 0  # valid rows not written because all-or-nothing met a refused row
    error: str = ""  # DynamoDB's reason when a whole batch failed

    @property
    def line_errors(self) -> list[str]:
        return [message for row in self.refused for message in row.messages]

    def as_json(self, *, limit: int = 200) -> dict[str, Any]:
        """For DataTask.report: counts, the first `limit` line errors and unwritten keys."""
        return {
            "written": self.written,
            "refused": len(self.refused),
            "unwritten": len(self.unwritten),
            "held_back": self.held_back,
            "error": self.error,
            "line_errors": self.line_errors[:limit],
            "unwritten_keys": [{k: str(v) for k, v in key.items()} for key in self.unwritten[:limit]],
        }


Progress = Callable[[ImportReport], None]


def write_records(
    table: dynamo.Table,
    model: Model,
    rows: Iterable[dict[str, Any]],
    *,
    report: ImportReport | None = None,
    batch_size: int = WRITE_BATCH,
    progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
) -> ImportReport:
    """Stamp each row as the create resolver would and put it (overwriting by key), a
    batch at a time; after each batch `progress` sees the report so far."""
    report = report or ImportReport()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        result = dynamo.batch_put(table, batch, sleep=sleep or time.sleep)
        report.written += result.written
        report.unwritten.extend(table.key_of(item) for item in result.failed)
        report.error = report.error or result.error
        batch.clear()
        if progress:
            progress(report)

    for row in rows:
        batch.append(dynamo.stamp_new(model, table, row))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return report


def import_rows(
    table: dynamo.Table,
    model: Model,
    results: list[RowResult],
    *,
    mode: str = SKIP,
    batch_size: int = WRITE_BATCH,
    progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
    skip: int = 0,
) -> ImportReport:
    """Write the valid rows: all of them (mode `skip` leaves the refused ones out), or
    none when `all_or_nothing` and any row was refused. The first `skip` valid rows were
    handled by an earlier attempt and are not written again."""
    if mode not in MODES:
        raise ValueError(f"The mode must be one of {', '.join(MODES)}, not {mode!r}.")
    report = ImportReport(refused=[r for r in results if r.item is None])
    valid = [r.item for r in results if r.item is not None]
    if mode == ALL_OR_NOTHING and report.refused:
        report.held_back = len(valid)
        if progress:
            progress(report)
        return report
    return write_records(table, model, valid[skip:], report=report, batch_size=batch_size, progress=progress, sleep=sleep)
