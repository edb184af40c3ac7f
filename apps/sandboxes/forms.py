from __future__ import annotations

from django import forms

from apps.sandboxes.models import InventorySettings


class InventorySettingsForm(forms.ModelForm):
    class Meta:
        model = InventorySettings
        fields = ["stale_after_days", "retention_enabled", "retention_days", "retention_with_secrets"]
        labels = {
            "stale_after_days": "Stale after (days without an update)",
            "retention_enabled": "Delete sandboxes idle longer than the retention period (checked every hour)",
            "retention_days": "Retention period (days)",
            "retention_with_secrets": "Delete their secrets too",
        }

    def clean_stale_after_days(self) -> int:
        days = int(self.cleaned_data["stale_after_days"])
        if not 1 <= days <= 3650:
            raise forms.ValidationError("Enter a number of days from 1 to 3650.")
        return days

    def clean_retention_days(self) -> int:
        days = int(self.cleaned_data["retention_days"])
        if not 1 <= days <= 3650:
            raise forms.ValidationError("Enter a number of days from 1 to 3650.")
        return days
