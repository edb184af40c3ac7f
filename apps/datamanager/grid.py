"""The records grid: which columns a person sees (their preferences), how each cell of a
page of records is shown (truncated text, a link to the parent record, a file), and how a
cell is edited. It renders what the records page read; it reads nothing from DynamoDB."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.urls import reverse

from apps.branches.models import Branch
from apps.datamanager import values
from apps.datamanager.forms import describe_type
from apps.datamanager.models import GridPreference
from apps.datamanager.schema import TIMESTAMP_FIELDS, DataSchema, Field, Model
from apps.storage.selectors import branch_buckets, preview_kind

# Text put in a cell (CSS cuts it at the column's width) and in its hover title; the
# side panel shows a value whole.
CELL_TEXT = 200
TITLE_TEXT = 1000
MIN_WIDTH, MAX_WIDTH = 48, 800
CHECKBOX_WIDTH = 36
KEY_SALT = "datamanager.key"
_DEFAULT_WIDTHS = {"Boolean": 90, "Int": 100, "Float": 110, "AWSTimestamp": 120, "AWSDate": 120, "AWSTime": 110}
_NUMBERS = ("Int", "Float", "AWSTimestamp")


@dataclass(frozen=True)
class Preferences:
    hidden: frozenset[str] = frozenset()
    widths: dict[str, int] = field(default_factory=dict)
    file_fields: frozenset[str] = frozenset()


def preferences_of(user: Any, branch: Branch, model: Model) -> Preferences:
    found = GridPreference.objects.filter(user=user, branch=branch, model_name=model.name).first()
    if found is None:
        return Preferences()
    return Preferences(hidden=frozenset(found.hidden), widths=dict(found.widths), file_fields=frozenset(found.file_fields))


def clean_preferences(model: Model, *, hidden: list[str], widths: dict[str, str], file_fields: list[str]) -> Preferences:
    """What a person may keep: names of the model's columns only (others are dropped, never
    stored), widths as whole pixels clamped to MIN_WIDTH..MAX_WIDTH, the key column always shown,
    and only single string fields marked as files."""
    names = set(column_names(model))
    kept_widths = {}
    for name, raw in widths.items():
        text = str(raw).strip()
        if name in names and text.isdigit() and len(text) <= 6:
            kept_widths[name] = min(max(int(text), MIN_WIDTH), MAX_WIDTH)
    strings = {f.name for f in model.stored_fields if holds_text(f)}
    return Preferences(
        hidden=frozenset(n for n in hidden if n in names and n != model.primary_key),
        widths=kept_widths,
        file_fields=frozenset(n for n in file_fields if n in strings),
    )


def column_names(model: Model) -> list[str]:
    return [f.name for f in model.stored_fields] + [f.name for f in has_many(model)]


def has_many(model: Model) -> tuple[Field, ...]:
    return tuple(f for f in model.relationships if f.association and f.association.connection_type == "HAS_MANY")


def holds_text(f: Field) -> bool:
    """A single text value: what may hold a file's path."""
    return f.kind == "scalar" and not f.is_array and f.type == "String"


@dataclass(frozen=True)
class Column:
    name: str
    title: str  # the type in words
    width: int
    editor: str  # "" (not editable inline), "text", "number", "select", "toggle", "date", "datetime", "json"
    choices: tuple[str, ...] = ()
    is_key: bool = False
    field: Field | None = None  # None for a hasMany column
    parent: Model | None = None  # a belongsTo key: the record it points at
    child: tuple[str, str] | None = None  # a hasMany: (child model, its field holding this record's key)
    marked_file: bool = False

    @property
    def choices_json(self) -> str:
        return json.dumps(self.choices)


def _editor(f: Field, model: Model) -> str:
    if f.name in model.key_fields or f.is_read_only or f.name in TIMESTAMP_FIELDS:
        return ""
    if f.is_array or f.kind == "nonModel" or f.type == "AWSJSON":
        return "json"
    if f.kind == "enum":
        return "select"
    return {"Boolean": "toggle", "AWSDate": "date", "AWSDateTime": "datetime"}.get(f.type) or (
        "number" if f.type in _NUMBERS else "text"
    )


def _default_width(f: Field, model: Model) -> int:
    if f.name in model.key_fields:
        return 150
    if f.kind == "enum":
        return 110
    if f.name in TIMESTAMP_FIELDS or f.type == "AWSDateTime":
        return 200
    return _DEFAULT_WIDTHS.get(f.type, 200)


def parents_by_key(schema: DataSchema, model: Model) -> dict[str, Model]:
    """Key field -> the parent model, for belongsTo links by one key field to a parent keyed by one field."""
    found = {}
    for relation in model.belongs_to:
        parent = schema.model(relation.type)
        targets = relation.association.target_names if relation.association else ()
        if parent is not None and len(targets) == 1 and not parent.sort_keys:
            found[targets[0]] = parent
    return found


def child_key_field(schema: DataSchema, relation: Field) -> str:
    """The child model's field that holds the parent's key, for a hasMany ("" when not one field).
    Gen 2's references name it (`associatedWith: ["projectId"]`); older codegen names the child's
    belongsTo field, whose target is the key field."""
    child = schema.model(relation.type)
    named = relation.association.associated_with if relation.association else ()
    if child is None or len(named) != 1:
        return ""
    try:
        target = child.field(named[0])
    except KeyError:
        return ""
    if target.is_relationship:
        targets = target.association.target_names if target.association else ()
        return targets[0] if len(targets) == 1 else ""
    return target.name


def columns_for(schema: DataSchema, model: Model, prefs: Preferences) -> list[Column]:
    parents = parents_by_key(schema, model)
    columns = []
    # The key column comes first: it stays in view (sticky) while the others scroll.
    ordered = sorted(model.stored_fields, key=lambda f: f.name != model.primary_key)
    for f in ordered:
        if f.name in prefs.hidden:
            continue
        editor = _editor(f, model)
        choices = schema.enums[f.type].values if f.kind == "enum" and f.type in schema.enums else ()
        columns.append(
            Column(
                name=f.name,
                title=describe_type(f, schema),
                width=prefs.widths.get(f.name, _default_width(f, model)),
                editor=editor,
                choices=choices,
                is_key=f.name in model.key_fields,
                field=f,
                parent=parents.get(f.name),
                marked_file=f.name in prefs.file_fields,
            )
        )
    if not model.sort_keys:
        for relation in has_many(model):
            child_field = child_key_field(schema, relation)
            if relation.name in prefs.hidden or not child_field:
                continue
            columns.append(
                Column(
                    name=relation.name,
                    title=f"{relation.type} records pointing here ({child_field})",
                    width=prefs.widths.get(relation.name, 120),
                    editor="",
                    child=(relation.type, child_field),
                )
            )
    return columns


@dataclass(frozen=True)
class FileRef:
    bucket: str
    key: str
    image: bool


@dataclass(frozen=True)
class Files:
    """The branch's buckets and the folders their access paths start with ("media/")."""

    folders: tuple[tuple[str, str], ...]  # (bucket, folder), longest folder first
    default_bucket: str

    def find(self, text: str, *, marked: bool) -> FileRef | None:
        for bucket, folder in self.folders:
            if text.startswith(folder):
                return FileRef(bucket=bucket, key=text, image=preview_kind(text, "") == "image")
        if marked and text and self.default_bucket:
            return FileRef(bucket=self.default_bucket, key=text, image=preview_kind(text, "") == "image")
        return None

    def upload_target(self, current: str) -> tuple[str, str] | None:
        """(bucket, folder) a new file for a field goes to: the folder its value is in, else the
        default bucket's first folder; None when the branch has no bucket."""
        for bucket, folder in self.folders:
            if current.startswith(folder):
                return bucket, folder
        default = next(((b, f) for b, f in self.folders if b == self.default_bucket), None)
        return default or ((self.default_bucket, "") if self.default_bucket else None)


def files_of(branch: Branch) -> Files:
    buckets = [b for b in branch_buckets(branch) if not b.refused]
    folders = sorted({(b.name, p.folder) for b in buckets for p in b.paths if p.folder}, key=lambda pair: (-len(pair[1]), pair))
    return Files(folders=tuple(folders), default_bucket=buckets[0].name if buckets else "")


@dataclass(frozen=True)
class Cell:
    column: Column
    text: str
    title: str
    long: bool
    href: str = ""  # the parent record (belongsTo key) or the children (hasMany)
    count_url: str = ""  # hasMany: where the page fetches the number of children
    file: FileRef | None = None
    file_url: str = ""

    @property
    def kind(self) -> str:
        """How the template draws it: "text" (most cells, tested first), "empty", "key", "children", "parent", "file"."""
        if self.column.is_key:
            return "key"
        if self.count_url:
            return "children"
        if self.href:
            return "parent"
        if self.file is not None:
            return "file"
        return "text" if self.text else "empty"


@dataclass
class Row:
    token: str
    version: str  # updatedAt as rendered: a cell edit only lands if it is unchanged
    cells: list[Cell]
    edit_url: str
    child_query: str = ""


def record_token(model: Model, key: dict[str, str]) -> str:
    """A record's key, signed: pages carry it, and keys never come from raw request input."""
    return signing.dumps({"m": model.name, "k": key}, salt=KEY_SALT)


@dataclass
class GridBuilder:
    """Rows of the grid from records; the URLs it makes are the data manager's and storage's."""

    branch: Branch
    schema: DataSchema
    model: Model
    columns: list[Column]
    files: Files

    def __post_init__(self) -> None:
        args = [self.branch.app.app_id, self.branch.display_name]
        self._edit = reverse("data_record_edit", args=[*args, self.model.name])
        self._parent_edit = {c.name: reverse("data_record_edit", args=[*args, c.parent.name]) for c in self.columns if c.parent}
        self._children = {c.name: reverse("data_model", args=[*args, c.child[0]]) for c in self.columns if c.child}
        self._count = reverse("data_children", args=[*args, self.model.name])
        self._storage = {b: reverse("storage_preview", args=[*args, b]) for b in {b for b, _ in self.files.folders}}
        if self.files.default_bucket:
            self._storage.setdefault(
                self.files.default_bucket, reverse("storage_preview", args=[*args, self.files.default_bucket])
            )

    def row(self, item: dict[str, Any]) -> Row:
        model = self.model
        key = {k: values.to_text(model.field(k), item.get(k)) for k in model.key_fields}
        token = record_token(model, key)
        cells = [self._cell(column, item, key, token) for column in self.columns]
        return Row(
            token=token,
            version=str(item.get("updatedAt") or ""),
            cells=cells,
            edit_url=f"{self._edit}?{urlencode({'key': token})}",
        )

    def _cell(self, column: Column, item: dict[str, Any], key: dict[str, str], token: str) -> Cell:
        if column.child is not None:
            own = key.get(self.model.primary_key, "")
            query = urlencode({"field": column.child[1], "op": "equals", "value": own})
            count_url = f"{self._count}?{urlencode({'field': column.name, 'key': token})}"
            href = f"{self._children[column.name]}?{query}"
            return Cell(column=column, text="", title="", long=False, href=href, count_url=count_url)
        assert column.field is not None
        text = values.to_text(column.field, item.get(column.name))
        long = len(text) > CELL_TEXT
        title = text if len(text) <= TITLE_TEXT else text[:TITLE_TEXT] + "…"
        cell = Cell(column=column, text=text[:CELL_TEXT] if long else text, title=title, long=long)
        if not text:
            return cell
        if column.parent is not None:
            parent_token = record_token(column.parent, {column.parent.primary_key: text})
            href = f"{self._parent_edit[column.name]}?{urlencode({'key': parent_token})}"
            return Cell(column=column, text=cell.text, title=title, long=long, href=href)
        if column.field.kind == "scalar" and column.field.type == "String" and not column.field.is_array:
            found = self.files.find(text, marked=column.marked_file)
            if found is not None:
                url = f"{self._storage[found.bucket]}?{urlencode({'key': found.key})}"
                return Cell(column=column, text=cell.text, title=title, long=long, file=found, file_url=url)
        return cell


def table_width(columns: list[Column], *, with_checkbox: bool) -> int:
    return sum(c.width for c in columns) + (CHECKBOX_WIDTH if with_checkbox else 0)


def builder_for(user: Any, branch: Branch, schema: DataSchema, model: Model) -> tuple[GridBuilder, Preferences]:
    prefs = preferences_of(user, branch, model)
    builder = GridBuilder(
        branch=branch, schema=schema, model=model, columns=columns_for(schema, model, prefs), files=files_of(branch)
    )
    return builder, prefs


def page_context(
    user: Any, branch: Branch, schema: DataSchema, model: Model, items: list[dict[str, Any]], *, can_edit: bool
) -> dict[str, Any]:
    """The grid's part of the records page: columns, rows, its width and the column chooser."""
    builder, prefs = builder_for(user, branch, schema, model)
    texts = {f.name for f in model.stored_fields if holds_text(f)}
    chooser = [
        {
            "name": name,
            "shown": name not in prefs.hidden,
            "file": name in prefs.file_fields,
            "key": name == model.primary_key,
            "text": name in texts,
        }
        for name in column_names(model)
    ]
    return {
        "columns": builder.columns,
        "rows": [builder.row(item) for item in items],
        "can_edit": can_edit,
        "grid_width": table_width(builder.columns, with_checkbox=can_edit),
        "chooser": chooser,
    }


def pickers(branch: Branch, schema: DataSchema, model: Model, *, editing: bool) -> list[dict[str, str]]:
    """A searchable list of existing parent records for each belongsTo key field a record form asks for."""
    url = reverse("data_parents", args=[branch.app.app_id, branch.display_name, model.name])
    return [
        {"field": name, "parent": parent.name, "url": f"{url}?{urlencode({'field': name})}"}
        for name, parent in parents_by_key(schema, model).items()
        if not (editing and name in model.key_fields)
    ]


def replaceable_file_fields(user: Any, branch: Branch, model: Model, item: dict[str, Any]) -> list[str]:
    """Fields of the record an operator may replace with an uploaded file: text fields holding a
    storage path, or marked as file fields by this person."""
    prefs = preferences_of(user, branch, model)
    files = files_of(branch)
    found = []
    for f in model.stored_fields:
        if not holds_text(f) or f.name in model.key_fields:
            continue
        text = values.to_text(f, item.get(f.name))
        if f.name in prefs.file_fields or (text and files.find(text, marked=False) is not None):
            found.append(f.name)
    return found
