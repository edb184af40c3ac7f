"""What the insights pages may be asked: a time range, a branch (the duration chart's), and
one chart's numbers as CSV."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.branches.models import App, Branch

RANGES = ((7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days"))
DEFAULT_DAYS = 30
ALL_BRANCHES = ("", "All branches")


class RangeForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=[(str(n), label) for n, label in RANGES],
        coerce=int,
        required=False,
        label="Time range",
        error_messages={"invalid_choice": "Choose a range of 7, 30 or 90 days."},
    )
    chart = forms.CharField(required=False, widget=forms.HiddenInput)
    format = forms.ChoiceField(choices=[("", "page"), ("csv", "CSV")], required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, charts: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chart_names = charts

    def clean_days(self) -> int:
        return self.cleaned_data["days"] or DEFAULT_DAYS

    def clean_chart(self) -> str:
        chart = self.cleaned_data["chart"]
        if chart and chart not in self.chart_names:
            raise forms.ValidationError(f"There is no chart {chart!r} here: choose one of {', '.join(self.chart_names)}.")
        return str(chart)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("format") == "csv" and not cleaned.get("chart"):
            self.add_error("chart", "Name the chart whose numbers to download (chart=...).")
        return cleaned


class BuildRangeForm(RangeForm):
    branch = forms.ChoiceField(required=False, label="Branch (duration chart)")

    field_order = ("days", "branch")

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.branches = {branch.display_name: branch for branch in app.branches.order_by("name")}
        field = self.fields["branch"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [ALL_BRANCHES, *((name, branch.name) for name, branch in self.branches.items())]

    def clean_branch(self) -> Branch | None:
        return self.branches.get(self.cleaned_data["branch"])
