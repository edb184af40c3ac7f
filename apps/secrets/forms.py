from __future__ import annotations

import json
from typing import Any

from django import forms

from apps.branches.models import App

SHARED = "__shared__"


class ScopesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


def scope_choices(app: App) -> list[tuple[str, str]]:
    return [(SHARED, "All branches (shared)")] + [
        (name, f"Branch {name}") for name in app.branches.values_list("name", flat=True)
    ]


class SecretSetForm(forms.Form):
    name = forms.CharField(max_length=512, help_text="Letters, digits, _ . and - ; e.g. STRIPE_SECRET_KEY")
    value = forms.CharField(widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}), strip=False)
    scopes = ScopesField(label="Where", help_text="One parameter is written per choice.")
    # The versions the admin knowingly replaces, as JSON {path: version}; empty: none. A
    # save over a secret saved since, or one the admin did not know was there, asks first.
    replaces = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20_000)

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = scope_choices(app)  # type: ignore[attr-defined]

    def clean_replaces(self) -> dict[str, int]:
        try:
            seen = json.loads(self.cleaned_data["replaces"] or "{}")
        except ValueError:
            seen = {}
        if not isinstance(seen, dict):
            return {}
        return {str(path): version for path, version in seen.items() if isinstance(version, int)}


class SecretImportForm(forms.Form):
    text = forms.CharField(
        label=".env lines", strip=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"})
    )
    scopes = ScopesField(label="Where")

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = scope_choices(app)  # type: ignore[attr-defined]


class SecretCopyForm(forms.Form):
    source = forms.ChoiceField(label="From branch")
    target = forms.ChoiceField(label="To branch")
    overwrite = forms.BooleanField(required=False, label="Overwrite secrets the target already has")

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        branches = [(n, n) for n in app.branches.values_list("name", flat=True)]
        self.fields["source"].choices = branches  # type: ignore[attr-defined]
        self.fields["target"].choices = branches  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") and data.get("source") == data.get("target"):
            raise forms.ValidationError("Choose two different branches.")
        return data
