"""CSV streamed row by row: exports hold one row in memory whatever their size, and no
cell of theirs runs as a formula in a spreadsheet."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def inert(cell: object) -> object:
    """A cell no spreadsheet runs: text starting like a formula gets a leading apostrophe (and
    so does text that starts with one, so `restored` gives back exactly what was exported).
    Plain numbers ("-5", "+1.5e3") are left as they are: they cannot be formulas."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restored(cell: str) -> str:
    """A cell of the console's own export read back: the apostrophe `inert` added goes."""
    if cell.startswith("'") and (cell[1:].startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell[1:])):
        return cell[1:]
    return cell


class _Echo:
    """A file that hands each written line back, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([inert(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
