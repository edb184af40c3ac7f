"""CSV streamed row by row: exports hold one row in memory whatever their size."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse


class _Echo:
    """A file that hands each written line back, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
