"""Parsing and validating `amplify_outputs.json`, the backend's client configuration.

The backend phase of a build writes the file; the console keeps it as the
branch's backend outputs and reads `data.model_introspection` from it, so a
broken file is refused at build time with every problem named by its key path
("data.url: must be a string, not a number").

The schema (outputs_schema.json) is our own, written from the published
amplify-backend schemas v1 to v1.5: one document for all six versions, with
version gates for the keys a version does not have yet.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, NoReturn

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from console.schemas import SCHEMA_TYPE_WORDS, dotted_path, json_type_word, schema_validator

SUPPORTED_VERSIONS: tuple[str, ...] = ("1", "1.1", "1.2", "1.3", "1.4", "1.5")
# Real files are a few kB, a large data model some hundred kB; 5 MB leaves room
# while keeping a runaway file out of the database.
MAX_OUTPUTS_BYTES = 5 * 1024 * 1024
# A file with thousands of problems is not worth listing in full.
MAX_ERRORS = 100
DOCUMENT = "(document)"
SCHEMA_PATH = Path(__file__).with_name("outputs_schema.json")


class OutputsInvalid(ValueError):
    """Every problem found, each as "path.to.key: message"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _validator() -> Draft202012Validator:
    return schema_validator(SCHEMA_PATH)


def _version_of(document: dict[str, Any]) -> str:
    return json.dumps(document.get("version"))


def _messages(error: ValidationError, document: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    """(path, message) pairs for one jsonschema error, worded for a person."""
    path: list[str | int] = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "x-message" in schema:
        return [(path, str(schema["x-message"]).replace("{value}", json.dumps(error.instance)))]
    if "x-since" in schema:
        where = f"in a version {_version_of(document)} document (needs version {schema['x-since']} or later)"
        if error.validator == "not":  # the key itself is newer than the document
            return [(path, f"not allowed {where}")]
        return [(path, f"{json.dumps(error.instance)} is not allowed {where}")]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        return [([*path, key], f"unknown key; expected one of: {', '.join(known)}") for key in extra]
    if error.validator == "required" and isinstance(error.validator_value, list) and isinstance(error.instance, dict):
        missing = [key for key in error.validator_value if key not in error.instance]
        return [([*path, key], "is required") for key in missing]
    if error.validator == "type":
        wanted = [error.validator_value] if isinstance(error.validator_value, str) else list(error.validator_value)
        return [
            (path, f"must be {' or '.join(SCHEMA_TYPE_WORDS.get(w, w) for w in wanted)}, not {json_type_word(error.instance)}")
        ]
    return [(path, error.message)]


def _fail(message: str) -> NoReturn:
    raise OutputsInvalid([f"{DOCUMENT}: {message}"])


def _refuse_constant(name: str) -> NoReturn:
    # json.loads accepts NaN and Infinity, which are not JSON and no client reads.
    raise ValueError(f"{name} is not valid JSON")


def _load(text: str | bytes) -> object:
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > MAX_OUTPUTS_BYTES:
        _fail(f"the file is {size:,} bytes; the limit is {MAX_OUTPUTS_BYTES // (1024 * 1024)} MB")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        _fail(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}")
    except UnicodeDecodeError:
        _fail("not valid JSON: the file is not UTF-8 text")
    except RecursionError:
        _fail("not valid JSON: nested too deeply")
    except ValueError as error:
        _fail(f"not valid JSON: {error}")


def validation_errors(document: dict[str, Any]) -> list[str]:
    """Every schema problem of an already parsed document, sorted by key path."""
    found: set[tuple[str, str]] = set()
    for error in _validator().iter_errors(document):
        for path, message in _messages(error, document):
            found.add((dotted_path(path, empty=DOCUMENT), message))
    errors = [f"{path}: {message}" for path, message in sorted(found)]
    if len(errors) > MAX_ERRORS:
        errors = [*errors[:MAX_ERRORS], f"{DOCUMENT}: and {len(errors) - MAX_ERRORS} more problems"]
    return errors


def parse_outputs(text: str | bytes) -> dict[str, Any]:
    """Parse and validate amplify_outputs.json; raise OutputsInvalid listing every problem."""
    document = _load(text)
    if not isinstance(document, dict):
        _fail(f"must be a JSON object with a version key, not {json_type_word(document)}")
    errors = validation_errors(document)
    if errors:
        raise OutputsInvalid(errors)
    return document


FIELD_ORDER_KEY = "x-console-field-order"


def keep_field_order(outputs: object) -> None:
    """Record each model's field order as a list in the outputs document, in place:
    PostgreSQL's jsonb does not keep object key order, lists it does."""
    data = outputs.get("data") if isinstance(outputs, dict) else None
    introspection = data.get("model_introspection") if isinstance(data, dict) else None
    models = introspection.get("models") if isinstance(introspection, dict) else None
    for model in (models or {}).values() if isinstance(models, dict) else ():
        if isinstance(model, dict) and isinstance(model.get("fields"), dict) and FIELD_ORDER_KEY not in model:
            model[FIELD_ORDER_KEY] = list(model["fields"])


def outputs_as_written(outputs: dict[str, Any]) -> dict[str, Any]:
    """The document as the build wrote it: a copy without the console's field-order notes,
    each model's fields back in that order (jsonb may have sorted them)."""
    document = copy.deepcopy(outputs)
    data = document.get("data")
    introspection = data.get("model_introspection") if isinstance(data, dict) else None
    models = introspection.get("models") if isinstance(introspection, dict) else None
    for model in models.values() if isinstance(models, dict) else ():
        if not isinstance(model, dict):
            continue
        order = model.pop(FIELD_ORDER_KEY, None)
        fields = model.get("fields")
        if isinstance(order, list) and isinstance(fields, dict):
            ordered = {name: fields[name] for name in order if name in fields}
            model["fields"] = {**ordered, **{name: value for name, value in fields.items() if name not in ordered}}
    return document
