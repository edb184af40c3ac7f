"""The rows of a folder page as HTML, built here rather than in the template: a page has
up to 1,000 rows, and the template engine's per-variable lookups cost a page of that size
most of a second. Every value is escaped; names go through `visible`."""

from __future__ import annotations

from datetime import datetime
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from apps.storage import keys
from apps.storage.browse import Entry
from apps.storage.templatetags.storage_tags import visible
from apps.storage.uploads import human_size

_DASH = '<span class="muted">—</span>'
_FOLDER_BADGE = '<span class="badge kind-folder">Folder</span>'


def _when(moment: datetime | None) -> str:
    if moment is None:
        return _DASH
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f'<time datetime="{escape(local.isoformat())}">{local.strftime("%Y-%m-%d %H:%M")}</time>'


def row_html(entry: Entry, href: str) -> SafeString:
    """One row; every value is escaped here (stdlib html.escape: Django's lazy-aware escape
    costs several times more per call, and a page makes ten thousand of them)."""
    folder = entry.is_folder
    kind = "folder" if folder else "file"
    size = _DASH if folder or entry.size is None else escape(human_size(entry.size))
    return mark_safe(  # noqa: S308 (built from escaped parts only)
        f'<tr class="entry-{kind}"><td><input type="checkbox" name="{"folders" if folder else "keys"}" '
        f'value="{escape(entry.form_value)}" aria-label="Select {escape(entry.type_label.lower())} '
        f'{escape(keys.plain_name(entry.name))}">'
        f'</td><td class="entry-name"><a href="{escape(href)}"><span class="icon-{kind}" aria-hidden="true"></span>'
        f"{visible(entry.name)}{'/' if folder else ''}</a></td>"
        f"<td>{_FOLDER_BADGE if folder else escape(entry.type_label)}</td>"
        f'<td class="num">{size}</td><td>{_when(entry.last_modified)}</td><td>{escape(entry.storage_class or "—")}</td></tr>'
    )
