"""Forms of the rewrites and redirects page: one rule, the whole list as JSON, moves, deletes, the tester."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from apps.branches.models import Branch
from apps.hosting.rules import STATUS_LABELS, Rule, RulesInvalid, parse_rules

# The rule's fields as the form names them (Amplify's console calls the condition "Country code").
_FORM_FIELD = {"source": "source", "target": "target", "status": "status", "condition": "country"}


class _Versioned(forms.Form):
    # rules_version() of the rules the page showed: an edit of rules changed since is refused.
    version = forms.CharField(max_length=64, widget=forms.HiddenInput)


class _Numbered(_Versioned):
    number = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RuleForm(_Versioned):
    number = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)  # empty: a new rule, added last
    source = forms.CharField(
        max_length=2048,
        label="Source address",
        help_text="A path such as /docs/<*> or /docs/<year>/<slug>, with an optional query (/docs?id=<id>), "
        "or a regular expression written </…/>.",
    )
    target = forms.CharField(
        max_length=2048,
        label="Target address",
        help_text="A path of the deployment; a redirect may also go to an https:// URL. <*> and the source's "
        "<placeholders> carry their values here.",
    )
    status = forms.ChoiceField(choices=list(STATUS_LABELS.items()), label="Type")
    country = forms.CharField(
        max_length=4,
        required=False,
        label="Country code (optional)",
        help_text="Two letters, such as US. This console knows no visitor's country, so a rule with one never applies.",
    )

    def clean_country(self) -> str | None:
        code = str(self.cleaned_data["country"]).strip().strip("<>").upper()
        return f"<{code}>" if code else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        rule = Rule(data["source"], data["target"], data["status"], data["country"])
        try:
            data["rule"] = parse_rules([rule.as_json()])[0]
        except RulesInvalid as error:
            for problem in error.problems:
                self.add_error(_FORM_FIELD.get(problem.field), problem.message)
        return data


class RulesJsonForm(_Versioned):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "json_%s")  # its `version` shares the page with the rule form's
        super().__init__(*args, **kwargs)

    rules_json = forms.CharField(
        max_length=2_000_000,
        required=False,
        strip=False,
        label="Rules as JSON",
        help_text="The format of the Amplify console's text editor: paste an export to replace all rules.",
        widget=forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "false"}),
    )

    def clean_rules_json(self) -> list[Rule]:
        text = str(self.cleaned_data["rules_json"])
        try:
            data = json.loads(text) if text.strip() else []
        except json.JSONDecodeError as error:
            raise ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).") from None
        try:
            return parse_rules(data)
        except RulesInvalid as error:
            raise ValidationError(error.errors) from None


class MoveForm(_Numbered):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class DeleteForm(_Numbered):
    pass


class TesterForm(forms.Form):
    url = forms.CharField(
        max_length=2048,
        label="URL path",
        help_text="A path with an optional query, such as /docs?id=42.",
        widget=forms.TextInput(attrs={"placeholder": "/docs?id=42", "spellcheck": "false"}),
    )
    branch = forms.ChoiceField(
        label="Files of",
        help_text="404 rules apply only to files this branch's live deployment does not have.",
    )

    def __init__(self, *args: Any, branches: list[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(b.display_name, b.name) for b in branches]
        field.required = bool(branches)
        self.branches = {b.display_name: b for b in branches}

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):  # a whole URL pasted: its path and query are what the rules see
            url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not url.startswith("/"):
            raise ValidationError("Start with / (a path of the site), for example /docs?id=42.")
        return url
