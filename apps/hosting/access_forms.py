"""Forms of the Custom headers and Password protection pages."""

from __future__ import annotations

from django import forms

from apps.hosting.custom_headers import MAX_TEXT_BYTES


def _password_field() -> forms.CharField:
    # render_value=False: a password typed into a refused form is never sent back in the page.
    return forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password.",
    )


class CustomHeadersForm(forms.Form):
    custom_headers = forms.CharField(
        required=False,
        strip=False,
        max_length=MAX_TEXT_BYTES,
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false", "class": "code"}),
        label="Custom headers (YAML)",
    )

    def clean_custom_headers(self) -> str:
        # Browsers send textarea lines with CRLF; the YAML is kept as written.
        return str(self.cleaned_data["custom_headers"]).replace("\r\n", "\n")


class AppProtectionForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Ask for a username and password on every branch")
    username = forms.CharField(max_length=255, required=False)
    password = _password_field()


class BranchProtectionForm(forms.Form):
    APP = "app"
    ON = "on"
    OFF = "off"

    mode = forms.ChoiceField(
        choices=[(APP, "Use the app's setting"), (ON, "On, with its own username and password"), (OFF, "Off")],
        widget=forms.RadioSelect,
        label="Password protection",
    )
    username = forms.CharField(max_length=255, required=False)
    password = _password_field()
