"""The deployed model schema of a Gen 2 API (the GraphQL SDL behind the stack output
`amplifyApiModelSchemaS3Uri`: `type Todo @model { ... }`) as a DataSchema.

It is read the way Amplify's code generator (amplify-codegen, appsync-modelgen-plugin)
builds `model_introspection` with the settings `ampx generate outputs` uses (transformer
v2, `respectPrimaryKeyAttributesOnConnectionField`, timestamps added), so a branch read
from its stack gives the same DataSchema as one read from its amplify_outputs.json.

The SDL is only parsed, never built into a schema: the Amplify directives it uses
(@model, @primaryKey, @hasMany, ...) are not declared in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from graphql import GraphQLSyntaxError, parse
from graphql.language import (
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
)
from graphql.utilities import value_from_ast_untyped

from apps.datamanager.schema import (
    MAX_SCHEMA_ERRORS,
    SCALARS,
    TIMESTAMP_FIELDS,
    Association,
    DataSchema,
    EnumType,
    Field,
    Model,
    NonModelType,
    SchemaInvalid,
)

CONNECTIONS = {"hasOne": "HAS_ONE", "hasMany": "HAS_MANY", "belongsTo": "BELONGS_TO"}
DirectiveOwner = ObjectTypeDefinitionNode | FieldDefinitionNode


def schema_from_sdl(text: str, *, source: str = "stack") -> DataSchema:
    """The SDL's models, enums and custom types; SchemaInvalid names every problem found."""
    document = _parse(text)
    types = _type_definitions(document)
    operations = _operation_type_names(document)
    objects = [t for t in types.values() if isinstance(t, ObjectTypeDefinitionNode) and t.name.value not in operations]
    kinds = {name: "enum" for name, t in types.items() if isinstance(t, EnumTypeDefinitionNode)}
    kinds |= {t.name.value: "model" if _has_directive(t, "model") else "nonModel" for t in objects}
    # Like the generator, leave out fields typed by a union or an interface.
    skipped = {name for name, t in types.items() if isinstance(t, UnionTypeDefinitionNode | InterfaceTypeDefinitionNode)}

    errors: list[str] = []
    non_models = {
        t.name.value: NonModelType(name=t.name.value, fields=tuple(_fields(t, kinds, skipped, errors)))
        for t in objects
        if kinds[t.name.value] == "nonModel"
    }
    drafts = {t.name.value: _draft(t, kinds, skipped, errors) for t in objects if kinds[t.name.value] == "model"}
    if not errors:
        # In schema order: a relationship may add key fields to both models it links.
        for draft in drafts.values():
            _connect(draft, drafts, errors)
    if errors:
        raise SchemaInvalid(errors[:MAX_SCHEMA_ERRORS])
    return DataSchema(
        models=tuple(sorted((d.model() for d in drafts.values()), key=lambda m: m.name)),
        enums={
            name: EnumType(name=name, values=tuple(v.name.value for v in t.values or ()))
            for name, t in types.items()
            if isinstance(t, EnumTypeDefinitionNode)
        },
        non_models=non_models,
        source=source,
    )


def _parse(text: str) -> DocumentNode:
    try:
        return parse(text)
    except GraphQLSyntaxError as error:
        where = ", ".join(f"line {loc.line}, column {loc.column}" for loc in error.locations or [])
        raise SchemaInvalid([f"{where}: {error.message}" if where else error.message]) from None


def _type_definitions(document: DocumentNode) -> dict[str, TypeDefinitionNode]:
    types: dict[str, TypeDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, TypeDefinitionNode):
            if definition.name.value in types:
                raise SchemaInvalid([f"{definition.name.value}: defined more than once"])
            types[definition.name.value] = definition
    return types


def _operation_type_names(document: DocumentNode) -> set[str]:
    schema = next((d for d in document.definitions if isinstance(d, SchemaDefinitionNode)), None)
    if schema is None:
        return {"Query", "Mutation", "Subscription"}
    return {operation.type.name.value for operation in schema.operation_types}


def _fields(node: ObjectTypeDefinitionNode, kinds: dict[str, str], skipped: set[str], errors: list[str]) -> list[Field]:
    fields = []
    for field_node in node.fields or ():
        name = field_node.name.value
        type_name, is_array, is_required, is_array_nullable = _type_info(field_node.type)
        kind = "scalar" if type_name in SCALARS else kinds.get(type_name)
        if kind is None:
            if type_name not in skipped:
                errors.append(
                    f"{node.name.value}.{name}: unknown type {type_name} (not an AppSync scalar, enum or type of the schema)"
                )
            continue
        field = Field(name=name, type=type_name, kind=kind, is_array=is_array, is_required=is_required)
        fields.append(replace(field, is_array_nullable=is_array_nullable))
    return fields


def _type_info(node: TypeNode) -> tuple[str, bool, bool, bool]:
    """(type name, is_array, is_required, is_array_nullable) as the generator reads
    them: a list's isRequired is its items' `!` (`[T!]`); the list's own `!` (`[T]!`)
    is isArrayNullable false."""
    if isinstance(node, NamedTypeNode):
        return node.name.value, False, False, True
    if isinstance(node, NonNullTypeNode):
        if isinstance(node.type, ListTypeNode):
            type_name, _, is_required, _ = _type_info(node.type)
            return type_name, True, is_required, False
        return _type_info(node.type)[0], False, True, True
    assert isinstance(node, ListTypeNode)
    type_name, _, is_required, _ = _type_info(node.type)
    return type_name, True, is_required, True


@dataclass
class _Draft:
    """A model while its relationships are resolved: they may add key fields to it."""

    name: str
    declared: dict[str, FieldDefinitionNode]
    fields: list[Field]
    primary_key: str = "id"
    sort_keys: tuple[str, ...] = ()
    sql_table: str = ""

    def get(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def add(self, field: Field) -> None:
        if self.get(field.name) is None:
            self.fields.append(field)

    @property
    def key_fields(self) -> list[Field]:
        return [f for name in (self.primary_key, *self.sort_keys) if (f := self.get(name)) is not None]

    def args(self, field_name: str, directive: str) -> dict[str, Any] | None:
        node = self.declared.get(field_name)
        return _args(node, directive) if node is not None else None

    def belongs_to_fields(self, field_name: str) -> tuple[str, ...]:
        return _names((self.args(field_name, "belongsTo") or {}).get("fields"))

    def model(self) -> Model:
        return Model(
            name=self.name,
            plural_name=plural(self.name),
            fields=tuple(self.fields),
            primary_key=self.primary_key,
            sort_keys=self.sort_keys,
            sql_table=self.sql_table,
        )


def _draft(node: ObjectTypeDefinitionNode, kinds: dict[str, str], skipped: set[str], errors: list[str]) -> _Draft:
    name = node.name.value
    declared = {f.name.value: f for f in node.fields or ()}
    fields = []
    for field in _fields(node, kinds, skipped, errors):
        connection = next((d for d in (*CONNECTIONS, "manyToMany") if _has_directive(declared[field.name], d)), None)
        if connection == "manyToMany":
            errors.append(f"{name}.{field.name}: @manyToMany is not supported (Gen 2 links models through a join model)")
        elif connection and field.kind != "model":
            errors.append(f"{name}.{field.name}: @{connection} needs a @model type, not {field.type}")
        elif connection or field.kind != "model":
            fields.append(field)
        # else: like the generator, drop a link to a model that has no relationship directive
    draft = _Draft(name=name, declared=declared, fields=fields, sql_table=str((_args(node, "refersTo") or {}).get("name", "")))
    _set_primary_key(draft, errors)
    _add_timestamps(draft, _args(node, "model") or {})
    return draft


def _set_primary_key(draft: _Draft, errors: list[str]) -> None:
    keyed = [f for f in draft.declared.values() if _has_directive(f, "primaryKey")]
    if len(keyed) > 1:
        errors.append(f"{draft.name}: @primaryKey on more than one field ({', '.join(f.name.value for f in keyed)})")
    if keyed:
        key = draft.get(keyed[0].name.value)
        if key is None:
            return  # its unknown type is reported
        sort_keys = _names((_args(keyed[0], "primaryKey") or {}).get("sortKeyFields"))
        if not key.is_required:
            errors.append(f"{draft.name}.{key.name}: a @primaryKey field must be non-null ({key.type}!)")
        for missing in (n for n in sort_keys if draft.get(n) is None):
            errors.append(f"{draft.name}: sortKeyFields names {missing}, which is not a field of {draft.name}")
        draft.primary_key, draft.sort_keys = key.name, sort_keys
    else:
        # No @primaryKey: the key is `id`, added as `id: ID!` when absent and made required when present.
        id_field = draft.get("id")
        if id_field is None:
            draft.fields.insert(0, Field(name="id", type="ID", kind="scalar", is_required=True))
        else:
            draft.fields[draft.fields.index(id_field)] = replace(id_field, is_required=True)
    draft.fields.sort(key=lambda f: f.name != "id")  # the generator puts `id` first


def _add_timestamps(draft: _Draft, model_args: dict[str, Any]) -> None:
    """`@model(timestamps: null)` has none; `timestamps: {createdAt: "createdOn"}` renames one.
    A timestamp declared in the schema is kept as declared."""
    if "timestamps" in model_args and model_args["timestamps"] is None:
        return
    renamed = model_args.get("timestamps")
    renamed = renamed if isinstance(renamed, dict) else {}
    for default in TIMESTAMP_FIELDS:
        draft.add(Field(name=str(renamed.get(default) or default), type="AWSDateTime", kind="scalar", is_read_only=True))


def _connect(draft: _Draft, drafts: dict[str, _Draft], errors: list[str]) -> None:
    for index, link in enumerate(list(draft.fields)):
        if link.kind != "model":
            continue
        directive = next(d for d in CONNECTIONS if draft.args(link.name, d) is not None)
        args = draft.args(link.name, directive) or {}
        where, other = f"{draft.name}.{link.name}", drafts[link.type]
        fields, references = _names(args.get("fields")), _names(args.get("references"))
        if fields and references:
            errors.append(f"{where}: @{directive} takes fields or references, not both")
            continue
        if link.is_array != (directive == "hasMany"):
            errors.append(f"{where}: @{directive} needs {'a list' if directive == 'hasMany' else 'a single'} {link.type}")
            continue
        # `references` name fields of the model holding the foreign key: the linked one for hasOne/hasMany.
        holder = draft if directive == "belongsTo" else other
        for missing in (r for r in references if holder.get(r) is None):
            errors.append(f"{where}: references names {missing}, which is not a field of {holder.name}")
        if directive != "belongsTo" and references:
            association: Association | None = Association(CONNECTIONS[directive], associated_with=references)
        elif directive == "hasMany":
            association = _has_many(draft, link, other, args, errors)
        elif directive == "hasOne":
            association = _has_one(draft, link, other, fields)
        else:
            association = _belongs_to(draft, link, other, fields + references, errors)
        if association is not None:
            draft.fields[index] = replace(link, association=association)


def _has_many(draft: _Draft, link: Field, other: _Draft, args: dict[str, Any], errors: list[str]) -> Association | None:
    """associatedWith: the field(s) of the other model pointing back; invented foreign keys when not named."""
    if not _names(args.get("fields")):
        names = [_camel(draft.name, link.name, k.name) for k in draft.key_fields]
        keys = [other.get(n) or Field(name=n, type=k.type, kind=k.kind) for n, k in zip(names, draft.key_fields, strict=True)]
    else:
        anchor = _has_many_anchor(draft, other, args.get("indexName"))
        if anchor is None:
            errors.append(f"{draft.name}.{link.name}: {other.name} has no @index named {args.get('indexName')}")
            return None
        back = next((f for f in other.fields if f.type == draft.name and other.belongs_to_fields(f.name)[:1] == (anchor,)), None)
        key = back or other.get(anchor)
        if key is None:
            errors.append(f"{draft.name}.{link.name}: {other.name} has no field {anchor}")
            return None
        keys = [key]
    for key in keys:
        other.add(key)
    return Association("HAS_MANY", associated_with=tuple(k.name for k in keys))


def _has_many_anchor(draft: _Draft, other: _Draft, index_name: object) -> str | None:
    """The other model's field a Gen 1 style `@hasMany(fields: ...)` lines up with."""
    if index_name:
        indexed = (n for n, node in other.declared.items() if any(a.get("name") == index_name for a in _all_args(node, "index")))
        return next(indexed, None)
    keyed = next((n for n, node in other.declared.items() if _has_directive(node, "primaryKey")), None)
    belongs = next((f.name for f in other.fields if f.type == draft.name and other.args(f.name, "belongsTo") is not None), None)
    return keyed or belongs or "id"


def _has_one(draft: _Draft, link: Field, other: _Draft, fields: tuple[str, ...]) -> Association:
    targets = fields or tuple(_camel(draft.name, link.name, k.name) for k in other.key_fields)
    _add_foreign_keys(draft, targets, other.key_fields, required=link.is_required)
    return Association("HAS_ONE", target_names=targets, associated_with=tuple(k.name for k in other.key_fields))


def _belongs_to(draft: _Draft, link: Field, other: _Draft, targets: tuple[str, ...], errors: list[str]) -> Association | None:
    backs = [
        f for f in other.fields if f.type == draft.name and other.args(f.name, "hasMany" if f.is_array else "hasOne") is not None
    ]
    if not backs:
        errors.append(
            f"{draft.name}.{link.name}: @belongsTo needs a @hasOne or @hasMany field of type {draft.name} on {other.name}"
        )
        return None
    if not targets:
        owner, via = (other.name, backs[0].name) if backs[0].is_array else (draft.name, link.name)
        targets = tuple(_camel(owner, via, k.name) for k in other.key_fields)
    _add_foreign_keys(draft, targets, other.key_fields, required=link.is_required)
    return Association("BELONGS_TO", target_names=targets)


def _add_foreign_keys(draft: _Draft, names: tuple[str, ...], keys: list[Field], *, required: bool) -> None:
    for name, key in zip(names, keys, strict=False):
        draft.add(Field(name=name, type=key.type, kind=key.kind, is_required=required))


def _has_directive(node: DirectiveOwner, name: str) -> bool:
    return any(d.name.value == name for d in node.directives or ())


def _all_args(node: DirectiveOwner, name: str) -> list[dict[str, Any]]:
    return [
        {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}
        for d in node.directives or ()
        if d.name.value == name
    ]


def _args(node: DirectiveOwner, name: str) -> dict[str, Any] | None:
    return next(iter(_all_args(node, name)), None)


def _names(value: object) -> tuple[str, ...]:
    """A directive's list of field names; GraphQL lets a single value stand for a list."""
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _camel(*words: str) -> str:
    """The generator's name for an invented foreign key: Post1 + comments + postId -> post1CommentsPostId."""
    return words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])


# The model's pluralName: the generator calls `plural()` of the npm package pluralize 8,
# whose rules these are (Todo -> Todos, Primary -> Primaries, Child -> Children, SSN -> SSNS).
# The word lists read better as text than as 140 lines of one-word literals.
_IRREGULAR = dict(
    pair.split(":")
    for pair in """i:we me:us he:they she:they them:them myself:ourselves yourself:yourselves itself:themselves
    herself:themselves himself:themselves themself:themselves is:are was:were has:have this:these that:those echo:echoes
    dingo:dingoes volcano:volcanoes tornado:tornadoes torpedo:torpedoes genus:genera viscus:viscera stigma:stigmata
    stoma:stomata dogma:dogmata lemma:lemmata schema:schemata anathema:anathemata ox:oxen axe:axes die:dice yes:yeses
    foot:feet eave:eaves goose:geese tooth:teeth quiz:quizzes human:humans proof:proofs carve:carves valve:valves
    looey:looies thief:thieves groove:grooves pickaxe:pickaxes passerby:passersby""".split()  # noqa: SIM905
)
_IRREGULAR_PLURALS = frozenset(_IRREGULAR.values())
_UNCOUNTABLE = frozenset(
    """adulthood advice agenda aid aircraft alcohol ammo analytics anime athletics audio bison blood bream buffalo butter
    carp cash chassis chess clothing cod commerce cooperation corps debris diabetes digestion elk energy equipment
    excretion expertise firmware flounder fun gallows garbage graffiti hardware headquarters health herpes highjinks
    homework housework information jeans justice kudos labour literature machinery mackerel mail media mews moose music
    mud manga news only personnel pike plankton pliers police pollution premises rain research rice salmon scissors
    series sewage shambles shrimp software species staff swine tennis traffic transportation trout tuna wealth welfare
    whiting wildebeest wildlife you""".split()  # noqa: SIM905
)
# Highest priority first (pluralize tries its rules from the last added).
_PLURAL_RULES = [
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        *((p, r"\g<0>") for p in ("sheep$", "pox$", "o[iu]s$", "measles$", "fish$", "deer$", "[^aeiou]ese$", "pok[eé]mon$")),
        ("^thou$", "you"),
        ("m[ae]n$", "men"),
        ("eaux$", r"\g<0>"),
        ("(child)(?:ren)?$", r"\1ren"),
        ("(pe)(?:rson|ople)$", r"\1ople"),
        (r"\b((?:tit)?m|l)(?:ice|ouse)$", r"\1ice"),
        ("(matr|cod|mur|sil|vert|ind|append)(?:ix|ex)$", r"\1ices"),
        ("(x|ch|ss|sh|zz)$", r"\1es"),
        ("([^ch][ieo][ln])ey$", r"\1ies"),
        ("([^aeiouy]|qu)y$", r"\1ies"),
        ("(?:(kni|wi|li)fe|(ar|l|ea|eo|oa|hoo)f)$", r"\1\2ves"),
        ("sis$", "ses"),
        ("(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat)(?:a|on)$", r"\1a"),
        (
            "(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi|curricul|automat|quor)(?:a|um)$",
            r"\1a",
        ),
        ("(her|at|gr)o$", r"\1oes"),
        ("(seraph|cherub)(?:im)?$", r"\1im"),
        ("(alumn|alg|vertebr)(?:a|ae)$", r"\1ae"),
        ("(alumn|syllab|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat)(?:us|i)$", r"\1i"),
        ("([^l]ias|[aeiou]las|[ejzr]as|[iu]am)$", r"\1"),
        ("(e[mn]u)s?$", r"\1s"),
        ("(alias|[^aou]us|t[lm]as|gas|ris)$", r"\1es"),
        ("(ax|test)is$", r"\1es"),
        ("([^aeiou]ese)$", r"\1"),
        (r"[^\x00-\x7f]$", r"\g<0>"),
        ("s?$", "s"),
    )
]


def plural(word: str) -> str:
    token = word.lower()
    if token in _IRREGULAR_PLURALS:
        return _restore_case(word, token)
    if token in _IRREGULAR:
        return _restore_case(word, _IRREGULAR[token])
    if not token or token in _UNCOUNTABLE:
        return word
    for pattern, replacement in _PLURAL_RULES:
        if match := pattern.search(word):
            # An empty match ("Todo" + "s") takes its case from the letter before it.
            cased = _restore_case(match.group(0) or word[match.start() - 1], match.expand(replacement))
            return word[: match.start()] + cased + word[match.end() :]
    return word


def _restore_case(word: str, token: str) -> str:
    if word == token:
        return token
    if word == word.lower():
        return token.lower()
    if word == word.upper():
        return token.upper()
    if word[0] == word[0].upper():
        return token[:1].upper() + token[1:].lower()
    return token.lower()
