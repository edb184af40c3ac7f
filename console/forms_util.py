from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, [str(m) for e in errors for m in e.messages])
    else:
        form.add_error(None, error.messages)
    form.errors.setdefault(NON_FIELD_ERRORS, form.error_class())


def refused_again[F: forms.Form](make: Callable[[QueryDict], F], posted: QueryDict, error: ValidationError, **changes: str) -> F:
    """The posted form once more after a save was refused because someone saved first:
    what the user typed is kept, `changes` go into its data (the version now on record,
    so that saving again replaces it knowingly), and the service's error is shown."""
    data = posted.copy()
    for name, value in changes.items():
        data[name] = value
    form = make(data)
    form.is_valid()
    add_service_errors(form, error)
    return form
