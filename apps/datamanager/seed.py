"""Rows of realistic fake data for the Seed action: one value per editable stored field,
chosen by type and field name (Faker), kept within per-field constraints, with belongsTo
keys (and those a Gen 1 hasOne keeps on this side) taken from existing parent records.
Custom primary and sort keys are unique across a Seeder's rows. Every value passes
values.check_value.

Rows are JSON-like (floats, not Decimals): what a form or an import would submit.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from faker import Faker

from apps.datamanager import seed_text
from apps.datamanager.schema import DataSchema, Field, Model
from apps.datamanager.seed_constraints import (
    EPOCH,
    KEY_TRIES,
    MAX_CUSTOM_DEPTH,
    PARENT_TRIES,
    Checker,
    ConstraintInvalid,
    FieldConstraint,
    KeysExhausted,
    ParentKeysInvalid,
    Plan,
    SeedError,
)
from apps.datamanager.seed_names import FAKER_TEXT, QUICK_TEXT, float_places, phone, random_uuid, text_kind
from apps.datamanager.values import MAX_NESTING, FieldError, check_value

# The seeder's API: the constraints and errors live in seed_constraints, re-exported here.
__all__ = ["ConstraintInvalid", "FieldConstraint", "KeysExhausted", "ParentKeysInvalid", "SeedError", "Seeder"]


def _fit(text: str, low: int, high: int, more: Callable[[], str]) -> str:
    """Text within length bounds: padded with more words, cut at a word when it can be."""
    parts, length = [text], len(text)
    while length < low:
        parts.append(more())
        length += 1 + len(parts[-1])
    text = " ".join(parts)
    if len(text) > high:
        cut = text[:high]
        space = cut.rfind(" ")
        text = cut[:space] if space >= low else cut
    return text[:-1] + "." if text.endswith(" ") else text


@dataclass(frozen=True)
class _Reference:
    """A relationship as this model's fields to fill from one parent's (related record's) key."""

    name: str
    targets: tuple[Field, ...]
    parents: tuple[dict[str, Any], ...]  # target field name -> value, one per parent record
    null_ratio: float
    in_key: bool  # some target is part of this model's own key


class Seeder:
    def __init__(
        self,
        schema: DataSchema,
        model: Model,
        *,
        constraints: dict[str, FieldConstraint] | None = None,
        parent_keys: dict[str, list[dict[str, Any]]] | None = None,
        seed: int | None = None,
    ) -> None:
        self._schema, self._model = schema, model
        self._rng = random.Random(seed)  # noqa: S311 - fake data, not secrets
        self._faker_seed = self._rng.getrandbits(64)
        # The writer gives a record without one a new UUID `id` (dynamo.stamp_new).
        self._fields = tuple(
            f for f in model.editable_fields if not (f.name == "id" and f.type == "ID" and model.primary_key == "id")
        )
        names = {f.name for f in self._fields}
        constraints = constraints or {}
        for name in constraints:
            if name not in names:
                writer_fills = name in {f.name for f in model.editable_fields}
                raise ConstraintInvalid(
                    name,
                    "is filled in by the writer (a new UUID)"
                    if writer_fills
                    else f"{model.name} has no editable field of that name",
                )
        self._plans = {f.name: Checker(f, constraints.get(f.name) or FieldConstraint(), schema).plan() for f in self._fields}
        self._nested_plans: dict[tuple[str, str], Plan] = {}
        self._key_names = model.key_fields if model.primary_key in names else ()
        self._references = self._build_references(parent_keys or {})
        targets = {t.name for r in self._references for t in r.targets}
        self._plain = tuple(f for f in self._fields if f.name not in targets and f.name not in self._key_names)
        self._key_only = tuple(f for f in self._fields if f.name not in targets and f.name in self._key_names)
        self._decks: dict[str, list[int]] = {}
        self._seen: set[tuple[Any, ...]] = set()

    @cached_property
    def _fake(self) -> Faker:
        """Made on first use: many models need none of the kinds Faker makes, and it costs a millisecond or more."""
        fake = Faker(use_weighting=False)  # weighted choices are ~10x slower; realism barely differs
        fake.seed_instance(self._faker_seed)
        return fake

    def _text(self, kind: str) -> str:
        quick = QUICK_TEXT.get(kind)
        return quick(self._rng) if quick else FAKER_TEXT[kind](self._fake)

    def rows(self, n: int) -> list[dict[str, Any]]:
        if n < 0:
            raise ValueError(f"cannot generate {n} rows")
        return [self.row() for _ in range(n)]

    def row(self) -> dict[str, Any]:
        """One record's editable values (None for an empty optional one), its key new among this seeder's rows."""
        values = {f.name: self._top(f) for f in self._plain}
        for _ in range(KEY_TRIES):
            candidate = values | {f.name: self._top(f) for f in self._key_only}
            for reference in self._references:
                candidate |= self._reference(reference, candidate)
            key = self._key(candidate)
            if key not in self._seen:
                if self._key_names:
                    self._seen.add(key)
                return {f.name: candidate.get(f.name) for f in self._fields}
        raise KeysExhausted(
            " + ".join(self._key_names),
            f"no unused key found in {KEY_TRIES} tries after {len(self._seen)} rows; widen the key fields' constraints",
        )

    def _key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values.get(name) for name in self._key_names)

    def _build_references(self, parent_keys: dict[str, list[dict[str, Any]]]) -> tuple[_Reference, ...]:
        # belongsTo, and a Gen 1 hasOne that keeps the related record's key on this side.
        relationships = {
            r.name: r
            for r in self._model.relationships
            if r.association
            and (
                r.association.connection_type == "BELONGS_TO"
                or (r.association.connection_type == "HAS_ONE" and r.association.target_names)
            )
        }
        for name in parent_keys:
            if name not in relationships:
                raise ParentKeysInvalid(name, f"{self._model.name} has no belongsTo (or hasOne keeping keys here) of that name")
        fields = {f.name: f for f in self._fields}
        references = []
        for rel in relationships.values():
            names = rel.association.target_names if rel.association else ()
            # Older schemas may name a target field the model does not declare: nothing to fill.
            targets = [(i, fields[n]) for i, n in enumerate(names) if n in fields]
            if not targets:
                continue
            parents = tuple(self._parent(rel, names, targets, record) for record in parent_keys.get(rel.name) or [])
            optional = all(not t.value_required for _, t in targets)
            references.append(
                _Reference(
                    name=rel.name,
                    targets=tuple(t for _, t in targets),
                    parents=parents,
                    null_ratio=max(self._plans[t.name].null_ratio for _, t in targets) if optional else 0.0,
                    in_key=any(t.name in self._key_names for _, t in targets),
                )
            )
        return tuple(references)

    def _parent(self, rel: Field, names: tuple[str, ...], targets: list[tuple[int, Field]], record: object) -> dict[str, Any]:
        """A parent's key values by target field: by the parent model's key order when the
        record names its key fields, else by the record's own order."""
        if not isinstance(record, dict):
            raise ParentKeysInvalid(rel.name, f"a parent key must be a dict of key fields, not {record!r}")
        parent_model = self._schema.model(rel.type)
        if parent_model and all(k in record for k in parent_model.key_fields):
            values = [record[k] for k in parent_model.key_fields]
        else:
            values = list(record.values())
        if len(values) < len(names):
            raise ParentKeysInvalid(rel.name, f"parent key {record!r} has {len(values)} values for {', '.join(names)}")
        checked = {}
        for position, target in targets:
            try:
                checked[target.name] = check_value(target, values[position], self._schema)
            except FieldError as error:
                raise ParentKeysInvalid(rel.name, f"parent key {record!r} does not fit {error}") from None
        return checked

    def _reference(self, reference: _Reference, row: dict[str, Any]) -> dict[str, Any]:
        if reference.null_ratio and self._rng.random() < reference.null_ratio:
            return dict.fromkeys(t.name for t in reference.targets)
        if reference.parents and not reference.in_key:
            return dict(self._rng.choice(reference.parents))
        # A parent whose key would repeat a row's key is used up; each is dealt once before any repeats.
        for _ in range(min(PARENT_TRIES, len(reference.parents))):
            parent = reference.parents[self._deal(reference)]
            if self._key(row | parent) not in self._seen:
                return dict(parent)
        return {t.name: self._top(t) if t.value_required else None for t in reference.targets}

    def _deal(self, reference: _Reference) -> int:
        deck = self._decks.setdefault(reference.name, [])
        if not deck:
            deck.extend(range(len(reference.parents)))
            self._rng.shuffle(deck)
        return deck.pop()

    def _top(self, field: Field) -> Any:
        return self._value(field, self._plans[field.name], self._model.name, 0)

    def _value(self, field: Field, plan: Plan, context: str, depth: int) -> Any:
        if plan.null_ratio and self._rng.random() < plan.null_ratio:
            return None
        if field.kind == "enum" and not plan.enum_values:  # optional, or a list (the plan refuses the rest)
            return [] if field.value_required else None
        if field.kind == "nonModel" and depth >= MAX_CUSTOM_DEPTH:
            if not field.value_required:
                return None
            if field.is_array:
                return []
            if depth >= MAX_NESTING - 1:
                raise ConstraintInvalid(field.name, f"custom type {field.type} requires itself; no finite value has it")
        if field.is_array:
            return [self._one(field, plan, context, depth + 1) for _ in range(self._rng.randint(*plan.list_range))]
        return self._one(field, plan, context, depth)

    def _one(self, field: Field, plan: Plan, context: str, depth: int) -> Any:
        rng = self._rng
        if field.kind == "enum":
            return rng.choice(plan.enum_values)
        if field.kind == "nonModel":
            return self._custom(field, depth)
        match field.type:
            case "ID":
                if plan.length and not plan.length[0] <= 36 <= plan.length[1]:
                    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=rng.randint(*plan.length)))
                return random_uuid(rng)
            case "Int" | "AWSTimestamp":
                return rng.randint(*plan.int_range)
            case "Float":
                low, high = plan.float_range
                share = rng.random()
                number = low * (1 - share) + high * share  # not low + (high - low) * share: that can overflow
                rounded = round(number, float_places(field.name))
                return rounded if low <= rounded <= high else min(max(number, low), high)
            case "Boolean":
                return rng.random() < plan.true_ratio
            case "AWSDate":
                low, high = ((EPOCH + timedelta(seconds=s)).date().toordinal() for s in plan.moments)
                return date.fromordinal(rng.randint(low, high)).isoformat()
            case "AWSDateTime":
                moment = EPOCH + timedelta(seconds=rng.randint(*plan.moments))
                return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            case "AWSTime":
                second = rng.randint(*plan.moments)
                return f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"
            case "AWSEmail":
                return seed_text.email(rng)
            case "AWSJSON":
                document = {seed_text.word(rng): seed_text.word(rng), "count": rng.randint(0, 100), "enabled": rng.random() < 0.5}
                return json.dumps(document, separators=(",", ":"))
            case "AWSPhone":
                return phone(rng)
            case "AWSURL":
                return self._text("image_url" if text_kind(context, field.name) == "image_url" else "url")
            case "AWSIPAddress":
                return seed_text.ipv4(rng) if rng.random() < 0.75 else seed_text.ipv6(rng)
        kind = text_kind(context, field.name)
        text = self._text(kind)
        if plan.length is None:
            return text
        low, high = plan.length
        for _ in range(3):  # a shorter or longer name of the same kind reads better than a cut one
            if low <= len(text) <= high:
                return text
            text = self._text(kind)
        return _fit(text, low, high, lambda: seed_text.word(rng))

    def _custom(self, field: Field, depth: int) -> dict[str, Any]:
        custom = self._schema.non_models.get(field.type)
        if custom is None:
            return {}  # an undeclared custom type: check_value takes any object
        result = {}
        for inner in custom.fields:
            key = (custom.name, inner.name)
            if key not in self._nested_plans:
                self._nested_plans[key] = Checker(inner, FieldConstraint(), self._schema).plan()
            value = self._value(inner, self._nested_plans[key], custom.name, depth + 1)
            if value is not None:
                result[inner.name] = value
        return result
