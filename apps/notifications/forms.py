"""The Notifications page's forms: a subscription (add, edit) and typed confirmation of a removal.
Where a webhook may point is checked by the service (apps.notifications.targets)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.branches.models import App, Branch
from apps.notifications.models import Event, Subscription

ALL_BRANCHES = ("", "All branches")


class SubscriptionForm(forms.Form):
    kind = forms.ChoiceField(choices=Subscription.Kind.choices, label="Send to", widget=forms.RadioSelect, initial="EMAIL")
    target = forms.CharField(
        max_length=2000,
        label="Email address or webhook URL",
        help_text="An email address, or an http:// or https:// URL on a public address (Slack's incoming webhooks work).",
    )
    branch = forms.ChoiceField(required=False, label="Branch")
    events = forms.MultipleChoiceField(
        choices=Event.choices, label="Events", widget=forms.CheckboxSelectMultiple, initial=[Event.FAILED]
    )

    def __init__(self, *args: Any, app: App, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.branches = {str(branch.pk): branch for branch in app.branches.all()}
        branch_field = self.fields["branch"]
        assert isinstance(branch_field, forms.ChoiceField)
        branch_field.choices = [ALL_BRANCHES, *((pk, branch.name) for pk, branch in self.branches.items())]
        if editing:  # an email stays an email, a webhook a webhook (its secret goes with it)
            del self.fields["kind"]

    def clean_branch(self) -> Branch | None:
        return self.branches.get(self.cleaned_data["branch"])


class ConfirmRemovalForm(forms.Form):
    confirm = forms.CharField(max_length=2000, label="Type the address or URL to confirm")

    def __init__(self, *args: Any, subscription: Subscription, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscription = subscription

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.subscription.target:
            raise forms.ValidationError(f"Type {self.subscription.target} exactly to remove it.")
        return typed
