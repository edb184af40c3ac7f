"""deploy-manifest.json, the heart of Amplify Hosting's deployment specification:
read, checked, and matched against request paths.

The rules are the spec's
(https://docs.aws.amazon.com/amplify/latest/userguide/ssr-deployment-specification.html):

- `version` is 1; `routes` are applied in order and "the first match in a given list of
  rules determines which routing rule is applied"; there are at most 25 of them.
- A route's `path` is matched against the request path without its query string. The only
  wildcard is `*`, which "matches 0 or more characters", `/` included (the spec's own
  example puts `/_nuxt/builds/meta/*` before `/_nuxt/*` for that reason). `/*` is the
  catch-all. So `/*.*` matches every path with a dot after its first `/`: `/logo.svg`,
  and `/v1.2/about` too; the spec uses it with a Compute fallback, which answers the latter.
- A target's `src` names a compute resource and is valid only for the Compute kind;
  `cacheControl` only for Static and ImageOptimization. A fallback is used when the target
  answers 404, and cannot be of the target's own kind (Static falling back to Static).

Where the console deliberately differs, the check below says why:

- One compute resource at most: a deployment runs one Node.js server process (and Amplify
  Hosting itself supports only the resource named `default`).
- No ImageOptimization: the console has no image optimization service, so such a route is
  refused at build time with what to do, rather than answering 404 for every image later.
- A manifest without routes is refused: it would serve nothing.
"""

from __future__ import annotations

import copy
import json
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple, NoReturn

from jsonschema.exceptions import ValidationError

from console.schemas import SCHEMA_TYPE_WORDS, dotted_path, json_type_word, schema_validator

MANIFEST_NAME = "deploy-manifest.json"
MAX_MANIFEST_BYTES = 1024 * 1024  # real manifests are a few kB
SCHEMA_PATH = Path(__file__).with_name("schemas") / "deploy-manifest.schema.json"
DOCUMENT = "(document)"
STATIC, COMPUTE, IMAGE_OPTIMIZATION = "Static", "Compute", "ImageOptimization"
# Keywords whose failure the schema words itself (its "x-message"); others are worded here.
_WORDED_IN_SCHEMA = frozenset({"pattern", "const", "not"})


class ManifestInvalid(ValueError):
    """What is wrong with a deploy manifest, as "json.path: problem"."""


@dataclass(frozen=True)
class Target:
    kind: str  # Static, Compute (ImageOptimization never gets past validation)
    src: str | None = None
    cache_control: str | None = None


@dataclass(frozen=True)
class Route:
    path: str
    target: Target
    fallback: Target | None = None


@dataclass(frozen=True)
class ComputeResource:
    name: str
    runtime: str
    entrypoint: str


@dataclass(frozen=True)
class DeployManifest:
    version: int
    routes: tuple[Route, ...]
    compute_resources: tuple[ComputeResource, ...]
    framework: dict[str, str] | None = field(hash=False)
    raw: dict[str, Any] = field(hash=False, repr=False)

    @property
    def compute(self) -> ComputeResource | None:
        """The deployment's one compute resource, if it has one."""
        return self.compute_resources[0] if self.compute_resources else None

    def to_json(self) -> dict[str, Any]:
        """The validated document, as it is stored."""
        return copy.deepcopy(self.raw)

    @classmethod
    def from_json(cls, document: object) -> DeployManifest:
        """A manifest from a stored document, checked again (the rules may have grown since)."""
        return parse_manifest(document)


# --- reading ---


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def load_manifest(data: bytes) -> DeployManifest:
    """The manifest in a deploy-manifest.json file's bytes."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestInvalid(f"{DOCUMENT}: {MANIFEST_NAME} is {len(data)} bytes; at most {MAX_MANIFEST_BYTES} are read")
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ManifestInvalid(
            f"{DOCUMENT}: {MANIFEST_NAME} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ManifestInvalid(f"{DOCUMENT}: {MANIFEST_NAME} is not valid JSON: {error}") from None
    return parse_manifest(document)


def parse_manifest(document: object) -> DeployManifest:
    """Check a decoded manifest against the schema and the rules it cannot express."""
    error = _first_schema_error(document)
    if error is not None:
        raise ManifestInvalid(_describe(error))
    assert isinstance(document, dict)  # the schema says so
    _check_compute_resources(document.get("computeResources", []))
    _check_routes(document["routes"], {resource["name"] for resource in document.get("computeResources", [])})
    raw = copy.deepcopy(document)
    return DeployManifest(
        version=raw["version"],
        routes=tuple(_route(route) for route in raw["routes"]),
        compute_resources=tuple(
            ComputeResource(name=item["name"], runtime=item["runtime"], entrypoint=item["entrypoint"])
            for item in raw.get("computeResources", [])
        ),
        framework=raw.get("framework"),
        raw=raw,
    )


def _target(data: dict[str, Any]) -> Target:
    return Target(kind=data["kind"], src=data.get("src"), cache_control=data.get("cacheControl"))


def _route(data: dict[str, Any]) -> Route:
    fallback = data.get("fallback")
    return Route(path=data["path"], target=_target(data["target"]), fallback=_target(fallback) if fallback else None)


# --- schema errors, worded for a person ---


def _path_order(path: Iterable[str | int]) -> tuple[tuple[int, int | str], ...]:
    # Keys and indexes never meet at the same place; the tag keeps the tuples comparable anyway.
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def _first_schema_error(document: object) -> ValidationError | None:
    """The shallowest problem (a missing key says more than what is wrong inside a sibling), then document order."""
    errors = schema_validator(SCHEMA_PATH).iter_errors(document)
    return min(errors, key=lambda e: (len(e.absolute_path), _path_order(e.absolute_path)), default=None)


def _shown(value: object) -> str:
    if isinstance(value, dict | list):
        return json_type_word(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _where(path: Iterable[str | int]) -> str:
    return dotted_path(path, empty=DOCUMENT)


def _describe(error: ValidationError) -> str:
    path: list[str | int] = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    if error.validator in _WORDED_IN_SCHEMA and "x-message" in schema:
        return f"{_where(path)}: {str(schema['x-message']).replace('{value}', _shown(value))}"
    if error.validator == "required" and isinstance(value, dict):
        missing = next(key for key in error.validator_value if key not in value)
        return f"{_where([*path, missing])}: required"
    if error.validator == "additionalProperties" and isinstance(value, dict):
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(value) - set(known))[0]
        return f"{_where([*path, extra])}: unknown key; expected one of: {', '.join(known)}"
    if error.validator == "type":
        wanted = [error.validator_value] if isinstance(error.validator_value, str) else list(error.validator_value)
        words = " or ".join(SCHEMA_TYPE_WORDS.get(w, w) for w in wanted)
        return f"{_where(path)}: must be {words}, not {json_type_word(value)}"
    if error.validator == "enum":
        return f"{_where(path)}: {_shown(value)} is not one of {error.validator_value!r}"
    if error.validator in ("maxItems", "minItems"):
        bound = "at most" if error.validator == "maxItems" else "at least"
        count = len(value) if isinstance(value, list) else 0
        return f"{_where(path)}: has {count} items; {bound} {error.validator_value} are allowed"
    if error.validator in ("maxLength", "minLength"):
        if error.validator == "minLength":
            return f"{_where(path)}: must not be empty"
        return f"{_where(path)}: is {len(value)} characters long; at most {error.validator_value} are allowed"
    return f"{_where(path)}: {error.message[:200]}"


# --- what the schema cannot say ---


def _check_compute_resources(resources: list[dict[str, Any]]) -> None:
    if len(resources) > 1:
        raise ManifestInvalid(
            f"computeResources[1]: the manifest declares {len(resources)} compute resources; this console runs one "
            "server per deployment (Amplify Hosting itself supports only 'default'): serve everything from one"
        )
    for index, resource in enumerate(resources):
        entrypoint = resource["entrypoint"]
        normal = posixpath.normpath(entrypoint)
        if (
            PurePosixPath(entrypoint).is_absolute()
            or ".." in PurePosixPath(entrypoint).parts
            or "\\" in entrypoint
            or "\0" in entrypoint
            or normal == "."
        ):
            raise ManifestInvalid(
                f"computeResources[{index}].entrypoint: {_shown(entrypoint)} must be a file path relative to "
                f"compute/{resource['name']}/, without '..'"
            )


def _check_target(where: str, target: dict[str, Any], compute_names: set[str]) -> None:
    if target["kind"] == IMAGE_OPTIMIZATION:
        raise ManifestInvalid(
            f"{where}.kind: 'ImageOptimization' is not supported: this console has no image optimization "
            "service; serve the images as Static files or let the Compute server resize them"
        )
    if target["kind"] == COMPUTE and target["src"] not in compute_names:
        declared = ", ".join(repr(name) for name in sorted(compute_names)) or "none"
        raise ManifestInvalid(
            f"{where}.src: {_shown(target['src'])} is not a compute resource of this manifest "
            f"(computeResources declares {declared})"
        )


def _check_routes(routes: list[dict[str, Any]], compute_names: set[str]) -> None:
    for index, route in enumerate(routes):
        _check_target(f"routes[{index}].target", route["target"], compute_names)
        fallback = route.get("fallback")
        if fallback is None:
            continue
        _check_target(f"routes[{index}].fallback", fallback, compute_names)
        if fallback["kind"] == route["target"]["kind"]:
            raise ManifestInvalid(
                f"routes[{index}].fallback.kind: a {fallback['kind']} target cannot fall back to {fallback['kind']}"
            )


# --- matching requests ---


class _Pattern(NamedTuple):
    """A route path split at its `*`s: a match starts with `head`, ends with `tail` and holds `middle` in order."""

    head: str
    middle: tuple[str, ...]
    tail: str
    exact: bool


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> _Pattern:
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return _Pattern(pattern, (), "", exact=True)
    return _Pattern(pieces[0], tuple(piece for piece in pieces[1:-1] if piece), pieces[-1], exact=False)


def path_matches(pattern: str, path: str) -> bool:
    """Whether a route's path pattern matches a request path.

    Not a regex: a pattern comes from the build, and `.*a.*a.*a...` backtracks without end
    on a long path. With `*` the only wildcard, taking each literal piece at its first
    place after the last is exact and linear.
    """
    compiled = _compiled(pattern)
    if compiled.exact:
        return path == pattern
    head, tail = compiled.head, compiled.tail
    if len(path) < len(head) + len(tail) or not path.startswith(head) or not path.endswith(tail):
        return False
    position, end = len(head), len(path) - len(tail)
    for piece in compiled.middle:
        found = path.find(piece, position, end)
        if found == -1:
            return False
        position = found + len(piece)
    return True


def match_route(routes: Sequence[Route], path: str) -> Route | None:
    """The first route whose pattern matches the request path (any query string is ignored)."""
    path = path.split("?", 1)[0]
    for route in routes:
        if path_matches(route.path, path):
            return route
    return None
