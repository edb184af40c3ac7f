"""The git settings form: what the app does when branches and pull requests come and go."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from apps.branches.models import App, Branch
from apps.branches.selectors import PatternError, parse_patterns


class GitSettingsForm(forms.Form):
    auto_detect_branches = forms.BooleanField(required=False, label="Connect new branches that match the patterns")
    auto_detect_patterns = forms.CharField(
        max_length=1000,
        required=False,
        label="Branch patterns",
        help_text=(
            "Comma-separated globs: * stays within one path segment, ** crosses /, !pattern excludes. "
            "Example: feature/*, dev, !feature/wip-*"
        ),
    )
    auto_detect_stage = forms.ChoiceField(choices=Branch.Stage.choices, label="Stage of detected branches")
    auto_disconnect = forms.BooleanField(required=False, label="Disconnect branches deleted in git")
    delete_backend_on_disconnect = forms.BooleanField(required=False, label="Also delete their backend stacks")
    pr_build_drafts = forms.BooleanField(required=False, label="Build previews of draft pull requests")
    fork_previews = forms.ChoiceField(
        choices=App.ForkPreviews.choices,
        widget=forms.RadioSelect,
        label="Previews of pull requests from forks",
        help_text=(
            'A fork\'s code is untrusted: anyone can open such a pull request. "With secrets" hands it the '
            "branch secrets and the service role's credentials."
        ),
    )

    def clean_auto_detect_patterns(self) -> str:
        text = str(self.cleaned_data["auto_detect_patterns"])
        try:
            parse_patterns(text)
        except PatternError as error:
            raise ValidationError(str(error)) from None
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("auto_detect_branches") and not str(data.get("auto_detect_patterns", "")).strip():
            self.add_error("auto_detect_patterns", "Give at least one pattern, e.g. feature/*, or turn auto-detection off.")
        return data
