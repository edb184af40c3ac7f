"""Showing hostile names: invisible characters as visible escapes, everything escaped."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from apps.storage import keys

register = template.Library()


@register.filter
def visible(text: str) -> SafeString:
    """A key or name as HTML: escaped, control and format characters shown as \\x01 or \\u202e."""
    if not text:
        return mark_safe('<span class="ctl">(empty name)</span>')
    runs = keys.escape_invisible(str(text))
    if len(runs) == 1 and not runs[0][1]:
        return mark_safe(escape(runs[0][0]))  # noqa: S308 (escaped); the common case, kept fast for long pages
    parts = [
        f'<span class="ctl" title="invisible character">{escape(run)}</span>' if invisible else escape(run)
        for run, invisible in runs
    ]
    return mark_safe("".join(parts))  # noqa: S308 (each part is escaped above)


@register.filter
def plain(text: str) -> str:
    """A name as plain text (titles, labels): invisible characters written as escapes."""
    return keys.plain_name(str(text))


@register.filter
def formvalue(key: str) -> str:
    """A key for a form field (percent-encoded; see keys.form_value)."""
    return keys.form_value(str(key))
