from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from apps.branches.git import InvalidRepositoryUrl, validate_repository_url
from apps.branches.models import App, Branch
from apps.branches.models.apps import BUILD_TIMEOUT_LIMIT_MINUTES
from apps.branches.pathfilters import PathFilterError, parse_path_filters
from apps.branches.servicerole import validate_role_arn
from apps.branches.validators import (
    validate_branch_name,
    validate_env_name,
    validate_env_value,
    validate_node_version,
    validate_package_name,
)

NODE_VERSION_HELP = (
    "A Node.js major version such as 22 for builds{what}. An nvm use line of the build spec wins over it; "
    "a version the worker does not have fails the build, naming those it has."
)


def node_version_field(what: str) -> forms.CharField:
    # Room for what people type ("v22.1.0"): the validator then says what is wanted, where a
    # maxlength of 3 would cut the input short in the browser without a word.
    return forms.CharField(
        max_length=20,
        required=False,
        validators=[validate_node_version],
        label="Node.js version",
        help_text=NODE_VERSION_HELP.format(what=what),
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


class AppSettingsForm(AppForm):
    """The app's settings: AppForm's fields and what its builds may reach."""

    service_role_arn = forms.CharField(
        max_length=2048,
        required=False,
        label="Service role",
        help_text=(
            "IAM role ARN builds assume (Amplify's service role). Builds get only this role's temporary "
            "credentials, never the console's; with no role they get no AWS credentials at all."
        ),
    )
    build_network = forms.BooleanField(
        required=False,
        label="Builds reach the network",
        help_text=(
            "Needed for package registries. Off: builds run with no network at all. Either way they never reach "
            "the console's own addresses or the metadata service."
        ),
    )

    build_timeout_cap_minutes = forms.IntegerField(
        min_value=1,
        max_value=BUILD_TIMEOUT_LIMIT_MINUTES,
        required=False,
        label="Longest build (minutes)",
        help_text=(
            "Builds end after _BUILD_TIMEOUT minutes, but never after more than this: a build spec, which a pull "
            "request can change, cannot raise it."
        ),
    )

    build_path_filters = forms.CharField(
        required=False,
        label="Build only when these paths change",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "apps/web/\npackages/shared/**\n!**/*.md"}),
        help_text=(
            "One glob per line, relative to the repository root; !glob excludes. A push, poll or incoming webhook "
            "whose changed files are all outside these is skipped (a build started by hand always runs). Empty: "
            "build on every change."
        ),
    )
    node_version = node_version_field("; empty: the worker's default")

    def clean_build_timeout_cap_minutes(self) -> int:
        # Left empty (or not sent by a script): the app keeps its cap.
        value = self.cleaned_data["build_timeout_cap_minutes"]
        return int(value if value is not None else self.initial.get("build_timeout_cap_minutes") or 120)

    def clean_build_path_filters(self) -> str:
        text = str(self.cleaned_data["build_path_filters"]).strip()
        try:
            parse_path_filters(text)
        except PathFilterError as error:
            raise ValidationError(str(error)) from None
        return text

    def clean_service_role_arn(self) -> str:
        return validate_role_arn(str(self.cleaned_data["service_role_arn"]))


class ConfirmNameForm(forms.Form):
    confirm_name = forms.CharField(max_length=255, label="Type the name to confirm")


class BuildSpecForm(forms.Form):
    build_spec = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        label="amplify.yml",
    )
    # Which saved spec the editor started from: a save over someone else's newer one is refused.
    loaded_version = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

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
    node_version = node_version_field(" of this branch; empty: the app's setting")


class EnvVarForm(forms.Form):
    name = forms.CharField(max_length=255, validators=[validate_env_name])
    value = forms.CharField(
        required=False,
        strip=False,
        validators=[validate_env_value],
        widget=forms.Textarea(attrs={"rows": 1}),
    )
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), required=False, empty_label="All branches")
    # The variable as the editor saw it (services.env_var_version): a save over someone
    # else's newer one, or over one the editor did not know existed, asks first.
    replaces = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, app: App, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = app.branches.all()  # type: ignore[attr-defined]


class PreviewSettingsForm(forms.Form):
    pr_previews_enabled = forms.BooleanField(required=False, label="Preview pull requests that target this branch")
    pr_shared_backend = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        required=False,
        empty_label="A new backend for each pull request",
        label="Backend of previews",
    )

    def __init__(self, *args: Any, branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pr_shared_backend"].queryset = branch.app.branches.filter(pull_request_number__isnull=True)  # type: ignore[attr-defined]
        self.fields["pr_shared_backend"].label_from_instance = lambda b: f"Share the backend of {b.name}"  # type: ignore[attr-defined]
