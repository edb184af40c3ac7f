"""JSON Schemas of the documents that come from outside, loaded once each."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator


@cache
def schema_validator(path: Path) -> Draft202012Validator:
    """A validator for the schema file at `path`; the schema itself is checked first."""
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# A JSON Schema "type" as a person names it in an error message.
SCHEMA_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


def json_type_word(value: object) -> str:
    """How a person names a JSON value's type in an error message."""
    # bool before int: True is an int to Python, never to JSON.
    for kind, word in ((bool, "true or false"), (dict, "an object"), (list, "an array"), (str, "a string")):
        if isinstance(value, kind):
            return word
    return "null" if value is None else "a number"


def dotted_path(path: Iterable[str | int], *, empty: str = "") -> str:
    """`data.models[0].name` from a jsonschema error's absolute path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or empty
