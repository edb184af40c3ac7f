"""What the logs pages take: a filter pattern (CloudWatch's syntax, passed as typed) and
a time range, either from/to (UTC) or one of the recent spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms

SPANS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
SPAN_LABELS = [("", "Any time"), ("15m", "Last 15 minutes"), ("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days")]
_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class LogsForm(forms.Form):
    filter = forms.CharField(
        label="Filter pattern",
        required=False,
        max_length=1024,
        strip=False,
        help_text='CloudWatch filter pattern syntax: ERROR, "exact phrase", ?ERROR ?WARN, { $.level = "error" }.',
    )
    since = forms.ChoiceField(label="Time range", choices=SPAN_LABELS, required=False)
    start = forms.DateTimeField(
        label="From (UTC)",
        required=False,
        input_formats=_LOCAL_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
    )
    end = forms.DateTimeField(
        label="To (UTC)",
        required=False,
        input_formats=_LOCAL_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "“To” is before “From”.")
        return data

    def window(self, now: datetime | None = None) -> tuple[int | None, int | None]:
        """(startTime, endTime) in ms for CloudWatch; a span wins over From."""
        data = self.cleaned_data
        now = now or datetime.now(UTC)
        start, end = data.get("start"), data.get("end")
        if data.get("since"):
            start = now - SPANS[data["since"]]
        return _ms(start), _ms(end)


def _ms(when: datetime | None) -> int | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)
