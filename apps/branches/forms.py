from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from apps.branches.git import InvalidRepositoryUrl, validate_repository_url
from apps.branches.models import App, Branch
from apps.branches.validators import (
    validate_branch_name,
    validate_env_name,
    validate_env_value,
    validate_package_name,
)


class RepositoryField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        try:
            return validate_repository_url(value)
        except InvalidRepositoryUrl as error:
            raise ValidationError(str(error), code="invalid") from None


class AppForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="Shown in the console.")
    repository = RepositoryField(
        max_length=1000,
        help_text="https://host/owner/repo.git, git@host:owner/repo.git, ssh://…, file:///path or /path/to/repo.git",
    )
    production_branch = forms.CharField(max_length=255, initial="main", validators=[validate_branch_name])
    platform = forms.ChoiceField(choices=App.Platform.choices, initial=App.Platform.WEB)
    package_name = forms.CharField(
        max_length=214,
        required=False,
        validators=[validate_package_name],
        help_text="The project's package.json name: sandboxes of this project are listed under this app.",
    )
    description = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConfirmNameForm(forms.Form):
    confirm_name = forms.CharField(max_length=255, label="Type the name to confirm")


class BuildSpecForm(forms.Form):
    build_spec = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        label="amplify.yml",
    )

    def clean_build_spec(self) -> str:
        # Browsers send textarea lines with CRLF; the spec is stored as written in git.
        return str(self.cleaned_data["build_spec"]).replace("\r\n", "\n")


class BranchConnectForm(forms.Form):
    name = forms.CharField(max_length=255, label="Branch", validators=[validate_branch_name])
    stage = forms.ChoiceField(choices=Branch.Stage.choices, initial=Branch.Stage.DEVELOPMENT)
    enable_auto_build = forms.BooleanField(required=False, initial=True, label="Build on every push")


class BranchSettingsForm(forms.Form):
    stage = forms.ChoiceField(choices=Branch.Stage.choices)
    enable_auto_build = forms.BooleanField(required=False, label="Build on every push")
    description = forms.CharField(max_length=1000, required=False)


class EnvVarForm(forms.Form):
    name = forms.CharField(max_length=255, validators=[validate_env_name])
    value = forms.CharField(
        required=False,
        strip=False,
        validators=[validate_env_value],
        widget=forms.Textarea(attrs={"rows": 1}),
    )
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), required=False, empty_label="All branches")

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = app.branches.all()  # type: ignore[attr-defined]
