"""Record forms built from a model's fields: a widget per type, every value checked by
values.parse_text, so a form refuses exactly what a CSV import refuses."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.datamanager import values
from apps.datamanager.schema import DataSchema, Field, Model

_INPUT_TYPES = {"AWSEmail": "email", "AWSURL": "url", "AWSPhone": "tel", "AWSDate": "date"}
_PLACEHOLDERS = {
    "AWSTime": "14:30:00Z",
    "AWSDateTime": "2026-11-26T14:30:00.000Z",
    "AWSTimestamp": "seconds since 1970, e.g. 1795000000",
    "AWSPhone": "+14155550123",
    "AWSIPAddress": "192.0.2.10 or 2001:db8::1",
    "AWSJSON": '{"key": "value"}',
    "Int": "a whole number",
    "Float": "a number, e.g. 3.14",
}


def describe_type(field: Field, schema: DataSchema) -> str:
    """What the field holds, in words, for help texts and column titles."""
    if field.kind == "enum":
        allowed = schema.enums[field.type].values if field.type in schema.enums else ()
        base = f"one of {', '.join(allowed)}"
    elif field.kind == "nonModel":
        custom = schema.non_models.get(field.type)
        inner = ", ".join(f"{f.name}: {f.type}{'!' if f.is_required else ''}" for f in custom.fields) if custom else ""
        base = f"a {field.type} object ({inner})" if inner else f"a {field.type} object"
    else:
        base = field.type
    if field.is_array:
        return f"a JSON list of {base}"
    return base


def _widget(field: Field, schema: DataSchema) -> forms.Widget:
    if field.is_array or field.kind == "nonModel" or field.type == "AWSJSON":
        return forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"})
    attrs: dict[str, Any] = {"autocomplete": "off"}
    if field.type in _PLACEHOLDERS:
        attrs["placeholder"] = _PLACEHOLDERS[field.type]
    if field.type in ("Int", "AWSTimestamp"):
        attrs["inputmode"] = "numeric"
    if field.type == "Float":
        attrs["inputmode"] = "decimal"
    input_type = _INPUT_TYPES.get(field.type)
    return forms.TextInput(attrs={**attrs, "type": input_type} if input_type else attrs)


def _form_field(field: Field, schema: DataSchema, *, locked: bool) -> forms.Field:
    label = f"{field.name}{' *' if field.value_required else ''}"
    help_text = describe_type(field, schema)
    if not field.is_array and (field.kind == "enum" or field.type == "Boolean"):
        options = schema.enums[field.type].values if field.kind == "enum" and field.type in schema.enums else ("true", "false")
        choices = [("", "—")] + [(v, v) for v in options]
        return forms.ChoiceField(choices=choices, required=False, label=label, help_text=help_text, disabled=locked)
    return forms.CharField(
        required=False, label=label, help_text=help_text, widget=_widget(field, schema), disabled=locked, strip=False
    )


class RecordForm(forms.Form):
    """`cleaned_values` holds stored-form values keyed by field name (None = no value)."""

    loaded_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, schema: DataSchema, model: Model, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema, self.model, self.editing = schema, model, editing
        self.cleaned_values: dict[str, Any] = {}
        for field in model.editable_fields:
            locked = editing and field.name in model.key_fields
            self.fields[field.name] = _form_field(field, schema, locked=locked)
            if field.name == "id" and model.primary_key == "id" and not editing:
                self.fields["id"].help_text = "Leave blank for a generated id."

    @classmethod
    def initial_from(cls, model: Model, item: dict[str, Any]) -> dict[str, str]:
        initial = {f.name: values.to_text(f, item.get(f.name)) for f in model.editable_fields}
        initial["loaded_updated_at"] = str(item.get("updatedAt") or "")
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in self.model.editable_fields:
            if self.editing and field.name in self.model.key_fields:
                continue  # keys identify the record; they are not edited
            raw = cleaned.get(field.name)
            if field.name == "id" and self.model.primary_key == "id" and not self.editing and not (raw or "").strip():
                continue  # generated on save
            try:
                self.cleaned_values[field.name] = values.parse_text(field, raw, self.schema)
            except values.FieldError as error:
                # A list item or an object's inner field names itself ("tags[2]: ...").
                self.add_error(field.name, error.message if error.field == field.name else str(error))
        return cleaned


class CellForm(forms.Form):
    """One field of a record edited in the grid, checked exactly as the record form checks it
    (the same form field, then values.parse_text). `cleaned_value` is the stored form."""

    loaded_updated_at = forms.CharField(required=False, max_length=64)

    def __init__(self, *args: Any, schema: DataSchema, field: Field, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema, self.model_field = schema, field
        self.fields["value"] = _form_field(field, schema, locked=False)
        self.cleaned_value: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "value" in cleaned:
            try:
                self.cleaned_value = values.parse_text(self.model_field, cleaned["value"], self.schema)
            except values.FieldError as error:
                self.add_error("value", error.message if error.field == self.model_field.name else str(error))
        return cleaned

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


# The seed form: which generation rules each field offers.
TEXT_TYPES = ("String", "ID")
NUMBER_TYPES = ("Int", "Float", "AWSTimestamp")
MOMENT_TYPES = ("AWSDate", "AWSDateTime", "AWSTime")


def rules_for(field: Field) -> list[str]:
    """The rules the seed form offers for a field (the template draws the inputs)."""
    rules: list[str] = []
    if field.is_array:
        rules.append("list")
    if field.kind == "enum":
        rules.append("enum")
    elif field.type in TEXT_TYPES and field.kind == "scalar":
        rules.append("length")
    elif field.type in NUMBER_TYPES:
        rules.append("range")
    elif field.type in MOMENT_TYPES:
        rules.append("moments")
    elif field.type == "Boolean":
        rules.append("ratio")
    if not field.value_required:
        rules.append("empty")
    return rules
