"""The forms of user management. They hold what was typed (and show errors by their
fields); the checks themselves are in `inputs` and the services, which raise
`InputInvalid` naming the field."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.users.cognito import CognitoUser
from apps.users.inputs import MAX_ATTRIBUTE_VALUE, MAX_DESCRIPTION, MAX_GROUP_NAME, MAX_USERNAME, SEARCH_FIELDS, InputInvalid
from apps.users.pool import EMAIL, PHONE
from apps.users.services import CONFIRMATION, READ_ONLY_ATTRIBUTES, VERIFIED_FLAGS

PHONE_HELP = "E.164 form: + and the country code, then the number (e.g. +14155550123)."
# Shown on every user's form, set or not; the user's other attributes follow.
COMMON_ATTRIBUTES = ("email", "phone_number", "name", "given_name", "family_name", "preferred_username")
_NO_AUTOFILL = {"autocomplete": "off", "spellcheck": "false"}


def show_error(form: forms.Form, error: InputInvalid) -> None:
    """The service's refusal next to its field (or at the top of the form)."""
    form.add_error(error.field if error.field in form.fields else None, str(error))


class SearchForm(forms.Form):
    field = forms.ChoiceField(label="Search in", choices=list(SEARCH_FIELDS.items()), required=False)
    q = forms.CharField(label="Starts with", required=False, max_length=256, strip=False)


class UserCreateForm(forms.Form):
    email = forms.CharField(
        label="Email address", required=False, max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label="Phone number",
        required=False,
        max_length=40,
        help_text=PHONE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    username = forms.CharField(
        label="Username", required=False, max_length=MAX_USERNAME, widget=forms.TextInput(attrs=_NO_AUTOFILL)
    )
    temporary_password = forms.CharField(
        label="Temporary password",
        strip=False,
        max_length=256,
        help_text="Give it to the person: they choose their own password when they first sign in.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    verified = forms.BooleanField(label="Mark the email address and phone number as verified", required=False, initial=True)
    group = forms.CharField(
        label="Add to group (optional)", required=False, max_length=MAX_GROUP_NAME, widget=forms.TextInput(attrs=_NO_AUTOFILL)
    )

    def __init__(self, *args: Any, username_attributes: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if username_attributes:  # people sign in with an email address or phone number: no usernames
            del self.fields["username"]
        else:
            self.fields["username"].help_text = "What the person signs in with; it cannot be changed later."
            self.fields["username"].required = True
        for name, field_name in ((EMAIL, "email"), (PHONE, "phone")):
            if username_attributes == (name,):
                self.fields[field_name].required = True
        if EMAIL in username_attributes and PHONE in username_attributes:
            self.fields["email"].help_text = "The email address or the phone number (or both): the person signs in with either."


class AttributesForm(forms.Form):
    new_name = forms.CharField(
        label="Add an attribute: name",
        required=False,
        max_length=40,
        help_text="A standard attribute (e.g. locale) or custom:name.",
        widget=forms.TextInput(attrs=_NO_AUTOFILL),
    )
    new_value = forms.CharField(label="Its value", required=False, max_length=MAX_ATTRIBUTE_VALUE)

    def __init__(self, *args: Any, user: CognitoUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        others = sorted(n for n in user.attributes if n not in (*COMMON_ATTRIBUTES, *READ_ONLY_ATTRIBUTES, *VERIFIED_FLAGS))
        self.attribute_names = [*COMMON_ATTRIBUTES, *others]
        fields: dict[str, forms.Field] = {
            name: forms.CharField(
                label=name,
                required=False,
                max_length=MAX_ATTRIBUTE_VALUE,
                initial=user.attributes.get(name, ""),
                help_text=PHONE_HELP if name == "phone_number" else "",
            )
            for name in self.attribute_names
        }
        for flag in VERIFIED_FLAGS:
            fields[flag] = forms.BooleanField(label=flag, required=False, initial=user.attributes.get(flag) == "true")
        # Unticked boxes are not posted: this says the flags were on the form.
        fields["flags_shown"] = forms.CharField(required=False, initial="1", widget=forms.HiddenInput)
        self.fields = {**fields, **self.fields}

    def values(self) -> dict[str, str]:
        """The attributes the form posted ("" = remove); the service keeps what changed.
        A field left out of the post is left alone, never removed."""
        data = self.cleaned_data
        values = {name: data.get(name, "") for name in self.attribute_names if name in self.data}
        for flag in VERIFIED_FLAGS:
            # An unset flag left unticked stays unset.
            if data.get("flags_shown") and (data.get(flag) or flag in self.user.attributes):
                values[flag] = "true" if data.get(flag) else "false"
        new_name = data.get("new_name", "").strip()
        if new_name:
            if new_name in values:
                raise InputInvalid(f"{new_name} has its own field above.", "new_name")
            values[new_name] = data.get("new_value", "")
        return values


class TemporaryPasswordForm(forms.Form):
    password = forms.CharField(
        label="New temporary password",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class DeleteForm(forms.Form):
    confirm = forms.CharField(label=f"Type {CONFIRMATION} to confirm", max_length=20, widget=forms.TextInput(attrs=_NO_AUTOFILL))


class GroupCreateForm(forms.Form):
    name = forms.CharField(
        label="Group name",
        max_length=MAX_GROUP_NAME,
        widget=forms.TextInput(attrs=_NO_AUTOFILL),
        help_text="Letters, digits, symbols and punctuation; no spaces.",
    )
    description = forms.CharField(
        label="Description", required=False, max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 2})
    )
    precedence = forms.CharField(
        label="Precedence",
        required=False,
        max_length=10,
        help_text="0 or more. When a user is in several groups, the lowest number wins.",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class AddMembersForm(forms.Form):
    members = forms.CharField(
        label="People to add",
        strip=False,
        help_text="One per line: an email address, a phone number (+14155550123) or a username. "
        "If any line names nobody, nobody is added and those lines are listed.",
        widget=forms.Textarea(attrs={"rows": 4, **_NO_AUTOFILL}),
    )
