"""JSON Schemas of the documents that come from outside, loaded once each."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator


@cache
def schema_validator(path: Path) -> Draft202012Validator:
    """A validator for the schema file at `path`; the schema itself is checked first."""
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
