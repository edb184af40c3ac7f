"""A branch's data schema: its models, enums and custom (non-model) types, as the
console works with them, whether read from `amplify_outputs.json`
(`data.model_introspection`) or built from the deployed GraphQL SDL (see sdl.py).

Only this shape is used past this module; nothing else reads the raw documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from apps.branches.selectors import FIELD_ORDER_KEY, OUTPUTS_SCHEMA_PATH
from console.schemas import dotted_path, schema_validator

SCALARS = (
    "ID",
    "String",
    "Int",
    "Float",
    "Boolean",
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSPhone",
    "AWSURL",
    "AWSIPAddress",
)
# Set by the AppSync resolvers on every write; shown, never edited.
TIMESTAMP_FIELDS = ("createdAt", "updatedAt")
MAX_SCHEMA_ERRORS = 50


class SchemaInvalid(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Association:
    connection_type: str  # HAS_ONE, HAS_MANY, BELONGS_TO
    target_names: tuple[str, ...] = ()  # this model's fields holding the related keys
    associated_with: tuple[str, ...] = ()  # the related model's fields pointing back


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a scalar name, or the name of an enum, model or non-model type
    kind: str  # "scalar", "enum", "model" or "nonModel"
    is_array: bool = False
    is_required: bool = False
    is_read_only: bool = False
    association: Association | None = None
    # For lists: is_required is about the items (`[T!]`); the list itself may be
    # absent unless this is False (`[T]!`).
    is_array_nullable: bool = True

    @property
    def value_required(self) -> bool:
        """Whether a record must have a value here (for a list: the list itself)."""
        return not self.is_array_nullable if self.is_array else self.is_required

    @property
    def is_relationship(self) -> bool:
        """A link to other records (hasOne/hasMany/belongsTo): not a stored value."""
        return self.kind == "model"

    @property
    def is_stored(self) -> bool:
        return not self.is_relationship


@dataclass(frozen=True)
class EnumType:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class NonModelType:
    name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Model:
    name: str
    plural_name: str
    fields: tuple[Field, ...]
    primary_key: str = "id"
    sort_keys: tuple[str, ...] = ()
    sql_table: str = ""  # `refersTo`: a model over an SQL table, not DynamoDB

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.primary_key, *self.sort_keys)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        """Fields held in the table, in schema order (relationship objects are not)."""
        return tuple(f for f in self.fields if f.is_stored)

    @property
    def editable_fields(self) -> tuple[Field, ...]:
        """What a record form asks for: stored fields but read-only ones and timestamps."""
        return tuple(f for f in self.stored_fields if not f.is_read_only and f.name not in TIMESTAMP_FIELDS)

    @property
    def relationships(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_relationship)

    @property
    def belongs_to(self) -> tuple[Field, ...]:
        return tuple(f for f in self.relationships if f.association and f.association.connection_type == "BELONGS_TO")


@dataclass(frozen=True)
class DataSchema:
    models: tuple[Model, ...]
    enums: dict[str, EnumType] = field(default_factory=dict)
    non_models: dict[str, NonModelType] = field(default_factory=dict)
    source: str = ""  # where it came from, for the page: "build", "upload", "stack"

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)


def _introspection_validator() -> Draft202012Validator:
    """The outputs schema's own `model_introspection` definition, for a bare document."""
    outputs = schema_validator(OUTPUTS_SCHEMA_PATH).schema
    return Draft202012Validator({"$defs": outputs["$defs"], "$ref": "#/$defs/model_introspection"})


def validate_introspection(document: object) -> None:
    """Raise SchemaInvalid naming every problem by its key path."""
    if not isinstance(document, dict):
        raise SchemaInvalid(["(document): must be a JSON object"])
    errors = sorted(_introspection_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise SchemaInvalid(
            [f"{dotted_path(e.absolute_path, empty='(document)')}: {e.message}" for e in errors[:MAX_SCHEMA_ERRORS]]
        )


def _association(raw: object) -> Association | None:
    if not isinstance(raw, dict):
        return None
    # Older generators write one `targetName`; newer ones a `targetNames` list.
    targets = raw.get("targetNames") or ([raw["targetName"]] if "targetName" in raw else [])
    return Association(
        connection_type=str(raw.get("connectionType", "")),
        target_names=tuple(str(t) for t in targets),
        associated_with=tuple(str(a) for a in raw.get("associatedWith") or []),
    )


def _field(raw: dict[str, Any]) -> Field:
    raw_type = raw.get("type")
    if isinstance(raw_type, dict):
        kind = next((k for k in ("enum", "model", "nonModel") if k in raw_type), "scalar")
        type_name = str(raw_type.get(kind, "String"))
    else:
        kind, type_name = "scalar", str(raw_type)
    return Field(
        name=str(raw["name"]),
        type=type_name,
        kind=kind,
        is_array=bool(raw.get("isArray")),
        is_required=bool(raw.get("isRequired")),
        is_read_only=bool(raw.get("isReadOnly")),
        association=_association(raw.get("association")),
        is_array_nullable=bool(raw.get("isArrayNullable", True)),
    )


def _ordered_fields(raw: dict[str, Any]) -> list[Any]:
    fields = raw.get("fields") or {}
    order = raw.get(FIELD_ORDER_KEY)
    if isinstance(order, list) and set(order) == set(fields):
        return [fields[name] for name in order]
    return list(fields.values())


def _model(raw: dict[str, Any]) -> Model:
    key_info = raw.get("primaryKeyInfo") or {}
    sql_table = next(
        (str((a.get("properties") or {}).get("name", "")) for a in raw.get("attributes", []) if a.get("type") == "refersTo"), ""
    )
    return Model(
        name=str(raw["name"]),
        plural_name=str(raw.get("pluralName") or f"{raw['name']}s"),
        fields=tuple(_field(f) for f in _ordered_fields(raw)),
        primary_key=str(key_info.get("primaryKeyFieldName") or "id"),
        sort_keys=tuple(key_info.get("sortKeyFieldNames") or ()),
        sql_table=sql_table,
    )


def schema_from_introspection(document: object, *, source: str = "") -> DataSchema:
    """A validated `model_introspection` document as a DataSchema."""
    validate_introspection(document)
    assert isinstance(document, dict)
    return DataSchema(
        models=tuple(sorted((_model(m) for m in document.get("models", {}).values()), key=lambda m: m.name)),
        enums={
            name: EnumType(name=str(e.get("name", name)), values=tuple(str(v) for v in e.get("values", [])))
            for name, e in document.get("enums", {}).items()
        },
        non_models={
            name: NonModelType(name=str(t.get("name", name)), fields=tuple(_field(f) for f in (t.get("fields") or {}).values()))
            for name, t in document.get("nonModels", {}).items()
        },
        source=source,
    )
