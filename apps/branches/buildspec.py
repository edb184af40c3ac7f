"""Parsing and validating amplify.yml build specs.

Errors name the key (as a dotted path) and the line, because a person fixes a
YAML file by line: "line 7, frontend.phases.biuld: unknown key".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from console.schemas import dotted_path, schema_validator
from console.yaml_checks import AliasLoop, expanded_size, line_of

MAX_BUILD_SPEC_BYTES = 100_000
# Values the spec may hold once YAML aliases are expanded: a few hundred bytes of nested
# aliases ("billion laughs") expand to millions, which validating would walk for minutes.
MAX_BUILD_SPEC_VALUES = 50_000
_SCHEMA_PATH = Path(__file__).with_name("buildspec_schema.json")


@dataclass(frozen=True)
class SpecError:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "spec"
        return f"{where}, {self.path or '(top level)'}: {self.message}"


class BuildSpecInvalid(ValueError):
    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _validator() -> Draft202012Validator:
    return schema_validator(_SCHEMA_PATH)


# jsonschema speaks JSON; people editing amplify.yml think in YAML words.
_YAML_WORDS = {
    "array": "a list",
    "object": "a mapping",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


def _yaml_word(value: object) -> str:
    for kind, word in (
        (bool, "true or false"),
        (list, "a list"),
        (dict, "a mapping"),
        (str, "text"),
        (int, "a number"),
        (float, "a number"),
    ):
        if isinstance(value, kind):
            return word
    return "empty" if value is None else type(value).__name__


def _message(error: ValidationError) -> tuple[list[str | int], str]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known)) if isinstance(error.instance, dict) else []
        if extra:
            return [*path, extra[0]], f"unknown key {extra[0]!r}; expected one of: {', '.join(known)}"
    if error.validator == "required":
        return path, error.message.replace("is a required property", "is required")
    if error.validator == "type":
        wanted = [error.validator_value] if isinstance(error.validator_value, str) else error.validator_value
        return path, f"must be {' or '.join(_YAML_WORDS.get(w, w) for w in wanted)}, not {_yaml_word(error.instance)}"
    return path, error.message


def _check_expansion(root: yaml.Node | None) -> None:
    """Refuse a spec whose aliases expand past MAX_BUILD_SPEC_VALUES values, or refer to themselves."""
    try:
        values = expanded_size(root, MAX_BUILD_SPEC_VALUES)
    except AliasLoop as loop:
        raise BuildSpecInvalid([SpecError(loop.line, "", "an alias refers to the value that contains it")]) from None
    if values > MAX_BUILD_SPEC_VALUES:
        raise BuildSpecInvalid(
            [
                SpecError(
                    None,
                    "",
                    f"the build spec expands to more than {MAX_BUILD_SPEC_VALUES:,} values "
                    "through YAML aliases; write the repeated parts out",
                )
            ]
        )


def parse_build_spec(text: str) -> dict[str, Any]:
    """Parse and validate; raise BuildSpecInvalid with every problem found."""
    if len(text.encode("utf-8")) > MAX_BUILD_SPEC_BYTES:
        raise BuildSpecInvalid([SpecError(None, "", f"the build spec is larger than {MAX_BUILD_SPEC_BYTES // 1000} kB")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _check_expansion(node)
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise BuildSpecInvalid([SpecError(line, "", f"not valid YAML: {error.problem or error}")]) from None
    except yaml.YAMLError as error:
        raise BuildSpecInvalid([SpecError(None, "", f"not valid YAML: {error}")]) from None
    except RecursionError:
        raise BuildSpecInvalid([SpecError(None, "", "the build spec is nested too deeply")]) from None
    if not isinstance(document, dict):
        raise BuildSpecInvalid(
            [SpecError(1, "", "the build spec must be a mapping of keys such as version, backend and frontend")]
        )
    errors = []
    for problem in sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        path, message = _message(problem)
        errors.append(SpecError(line_of(node, path), dotted_path(path), message))
    if errors:
        raise BuildSpecInvalid(errors)
    return document
