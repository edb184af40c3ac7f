"""The Monitoring page's two forms: what the charts show, and which access logs to download."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from apps.branches.models import App, Branch
from apps.hosting.monitoring import DAY, MAX_DOWNLOAD, WINDOWS, Window

ALL_BRANCHES = ("", "All branches")
# What <input type="datetime-local"> sends and shows; ISO 8601 with an offset is accepted too.
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class _BranchChoice(forms.Form):
    """A form with a `branch` field listing the app's branches by display name ("" is all)."""

    branch = forms.ChoiceField(required=False, label="Branch")

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.branches = {branch.display_name: branch for branch in app.branches.all()}
        field = self.fields["branch"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [ALL_BRANCHES, *((name, branch.name) for name, branch in self.branches.items())]

    def clean_branch(self) -> Branch | None:
        return self.branches.get(self.cleaned_data["branch"])


class TrafficFilterForm(_BranchChoice):
    window = forms.ChoiceField(choices=[(w.key, w.label) for w in WINDOWS.values()], required=False, label="Window")

    field_order = ("window", "branch")

    def clean_window(self) -> Window:
        return WINDOWS[self.cleaned_data["window"] or DAY.key]


def _local_input(label: str, help_text: str = "") -> forms.DateTimeField:
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    return forms.DateTimeField(label=label, widget=widget, help_text=help_text)


class AccessLogForm(_BranchChoice):
    start = _local_input("From")
    end = _local_input("Until", "Not included. At most 7 days after the start, as in Amplify.")

    field_order = ("start", "end", "branch")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the page holds the chart filters' `branch` field too.
        super().__init__(*args, auto_id="log-%s", **kwargs)

    @staticmethod
    def last_hour(now: datetime | None = None) -> dict[str, datetime]:
        """The default window: the last hour, to the end of the current minute."""
        moment = timezone.localtime(now or timezone.now())
        end = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return {"start": end - timedelta(hours=1), "end": end}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
        if end <= start:
            self.add_error("end", "Choose an end after the start.")
        elif end - start > MAX_DOWNLOAD:
            days = f"{(end - start) / timedelta(days=1):.1f}".removesuffix(".0")
            self.add_error(
                None,
                f"That window is {days} days long: access logs download at most {MAX_DOWNLOAD.days} days at a "
                "time (as in Amplify). Choose a shorter window, and download the rest as another one.",
            )
        return cleaned
