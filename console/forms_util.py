from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, [str(m) for e in errors for m in e.messages])
    else:
        form.add_error(None, error.messages)
    form.errors.setdefault(NON_FIELD_ERRORS, form.error_class())
