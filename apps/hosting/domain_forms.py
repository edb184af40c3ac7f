"""The custom domain form: the name, prefix -> branch rows and automatic sub domains.

Rows come as parallel `prefix` and `branch` lists (one pair per table row), so the page
needs no formset bookkeeping; a row without a branch is an unused row."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from apps.branches.models import App, Branch

# Empty rows offered under the filled ones, for names to add.
SPARE_ROWS = 2


@dataclass(frozen=True)
class Row:
    prefix: str
    branch_pk: str


class DomainForm(forms.Form):
    domain_name = forms.CharField(
        max_length=300,
        label="Domain",
        help_text="A domain you own, such as example.com; the rows below say which branch each of its names serves.",
    )
    enable_auto_sub_domain = forms.BooleanField(
        required=False, label="Automatic sub domains: serve each matching branch at <branch>.<domain>"
    )
    auto_sub_domain_patterns = forms.CharField(
        max_length=1000,
        required=False,
        label="Branch patterns for automatic sub domains",
        help_text="Comma-separated globs as in Git settings: ** matches every branch, feature/** some, !pattern excludes.",
    )

    def __init__(self, *args: Any, app: App, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        if editing:
            del self.fields["domain_name"]  # a domain is not renamed: remove it and add the new one

    def rows(self) -> list[Row]:
        """The posted rows (all of them, as typed), for showing the form again."""
        data = self.data if isinstance(self.data, QueryDict) else QueryDict()
        prefixes, branches = data.getlist("prefix"), data.getlist("branch")
        return [Row(p.strip(), b) for p, b in zip_longest(prefixes, branches, fillvalue="")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        branches = {str(b.pk): b for b in self.app.branches.all()}
        mapping: list[tuple[str, Branch]] = []
        for row in self.rows():
            if not row.branch_pk:
                if row.prefix:
                    raise ValidationError(f"Choose the branch that {row.prefix}.… serves, or clear the prefix.")
                continue
            branch = branches.get(row.branch_pk)
            if branch is None:
                raise ValidationError("A row names a branch this app does not have (removed meanwhile?): choose again.")
            mapping.append((row.prefix, branch))
        data["sub_domains"] = mapping
        patterns = str(data.get("auto_sub_domain_patterns") or "")
        data["auto_sub_domain_patterns"] = [p.strip() for p in patterns.split(",") if p.strip()]
        return data


class ConfirmDomainForm(forms.Form):
    confirm_name = forms.CharField(max_length=300, label="Type the domain name to confirm")
