"""The pull request reporting form. The token field never shows a saved token: left empty,
the saved one is kept. Where the API may be and what a repository looks like are checked by
the service (apps.prstatus.services)."""

from __future__ import annotations

from django import forms

from apps.prstatus.models import Provider


class ReportingForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices, label="Git host", widget=forms.RadioSelect, initial=Provider.GITHUB)
    api_url = forms.CharField(
        max_length=500,
        required=False,
        label="API base URL",
        help_text="Empty: https://api.github.com or https://gitlab.com/api/v4. "
        "GitHub Enterprise: https://<host>/api/v3; self-managed GitLab: https://<host>/api/v4.",
    )
    repository = forms.CharField(
        max_length=255,
        label="Repository",
        help_text="GitHub: owner/name. GitLab: the project's path (group/project) or its numeric id.",
    )
    token = forms.CharField(
        max_length=500,
        required=False,
        label="API token",
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="GitHub: a token allowed to write commit statuses and pull request comments. "
        "GitLab: a token with the api scope. Stored encrypted, never shown again; leave empty to keep the saved one.",
    )


class ConfirmRemovalForm(forms.Form):
    confirm = forms.CharField(max_length=255, label="Type the repository to confirm")

    def __init__(self, *args: object, repository: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.repository = repository

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.repository:
            raise forms.ValidationError(f"Type {self.repository} exactly to stop reporting.")
        return typed
