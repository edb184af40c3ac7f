"""The AWS Amplify REST-JSON protocol, read from botocore's `amplify` service model (the
source of truth for request and response shapes): routing a request to an operation,
parsing and validating its input, writing its output and errors as botocore reads them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape
from botocore.utils import percent_encode
from botocore.validate import ParamValidator
from django.http import HttpResponse

PREFIX = "/amplify-api"
OPERATIONS = (
    "CreateApp",
    "GetApp",
    "ListApps",
    "UpdateApp",
    "DeleteApp",
    "CreateBranch",
    "GetBranch",
    "ListBranches",
    "UpdateBranch",
    "DeleteBranch",
    "StartJob",
    "GetJob",
    "ListJobs",
    "StopJob",
    "CreateWebhook",
    "GetWebhook",
    "ListWebhooks",
    "UpdateWebhook",
    "DeleteWebhook",
    "CreateDomainAssociation",
    "GetDomainAssociation",
    "ListDomainAssociations",
    "UpdateDomainAssociation",
    "DeleteDomainAssociation",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)
# Labels that may hold `/` once decoded: branch names, and ARNs (a branch's names its branch).
_SLASHED_LABELS = frozenset({"branchName", "resourceArn"})
_LABEL = re.compile(r"\{(\w+)\}")


class ApiError(Exception):
    """An error answered in AWS's shape: the code names one of the service's error shapes."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self._status = code, message, status

    @property
    def status(self) -> int:
        """The given status, else the one the model gives the error shape (400 if none)."""
        if self._status is not None:
            return self._status
        shape = service_model().shape_for(self.code) if self.code in service_model().shape_names else None
        return int(shape.metadata.get("error", {}).get("httpStatusCode", 400)) if shape is not None else 400


def bad_request(message: str) -> ApiError:
    return ApiError("BadRequestException", message)


def not_found(message: str) -> ApiError:
    return ApiError("NotFoundException", message)


def unauthorized(message: str) -> ApiError:
    return ApiError("UnauthorizedException", message)


def limit_exceeded(message: str) -> ApiError:
    return ApiError("LimitExceededException", message)


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("amplify")


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    pattern: re.Pattern[str]  # on the raw path: labels percent-encoded, no `/` in them
    loose: re.Pattern[str]  # on a decoded path: branch names may hold `/`

    @property
    def name(self) -> str:
        return str(self.operation.name)


def _pattern(uri: str, loose: bool) -> re.Pattern[str]:
    def label(match: re.Match[str]) -> str:
        name = match[1]
        return f"(?P<{name}>.+)" if loose and name in _SLASHED_LABELS else f"(?P<{name}>[^/]+)"

    escaped = re.escape(uri).replace(r"\{", "{").replace(r"\}", "}")
    return re.compile("^" + _LABEL.sub(label, escaped) + "$")


@cache
def routes() -> tuple[Route, ...]:
    model = service_model()
    found = []
    for name in OPERATIONS:
        operation = model.operation_model(name)
        uri = operation.http["requestUri"]
        found.append(Route(operation, _pattern(uri, loose=False), _pattern(uri, loose=True)))
    # The most specific first: /branches/{b}/jobs/{j}/stop before /branches/{b}/jobs/{j} and so on.
    return tuple(sorted(found, key=lambda r: -r.operation.http["requestUri"].count("/")))


@dataclass(frozen=True)
class Match:
    route: Route
    labels: dict[str, str]  # decoded

    @property
    def signed_path(self) -> str:
        """The path as botocore sent it: each label percent-encoded (so `/` in a branch name is %2F)."""
        uri = self.route.operation.http["requestUri"]
        return PREFIX + _LABEL.sub(lambda m: percent_encode(self.labels[m[1]]), uri)


def matches(method: str, path: str, *, raw: bool) -> Iterator[Match]:
    """The operations the request can be, most specific first. `path` is below PREFIX; raw
    when the server passed it on undecoded (gunicorn), else decoded (a `/` in a branch
    name then makes several readings, and the caller picks the one whose branch exists)."""
    for route in routes():
        if route.operation.http["method"] != method:
            continue
        found = (route.pattern if raw else route.loose).match(path)
        if found:
            labels = {name: unquote(value) if raw else value for name, value in found.groupdict().items()}
            yield Match(route, labels)


def parse_input(match: Match, query: str, body: bytes) -> dict[str, Any]:
    """The operation's input from labels, query string and JSON body, checked against its shape."""
    shape = match.route.operation.input_shape
    params: dict[str, Any] = dict(match.labels)
    if body.strip():
        try:
            document = json.loads(body)
        except ValueError:
            raise bad_request("The request body is not valid JSON.") from None
        except RecursionError:
            raise bad_request("The request body is nested too deeply.") from None
        if not isinstance(document, dict):
            raise bad_request("The request body must be a JSON object.")
        _refuse_unknown(shape, document)
        params.update(_from_json(shape, document))
    for name, value in parse_qsl(query, keep_blank_values=True):
        member = _query_member(shape, name)
        if member is None:
            continue
        if member[1].type_name == "list":  # repeated: ?tagKeys=a&tagKeys=b
            params.setdefault(member[0], []).append(value)
        else:
            params[member[0]] = _query_value(member[1], value, name)
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise bad_request(report.generate_report().replace("\n", " "))
    for name, member in shape.members.items():
        _check_constraints(member, params.get(name), name)
    return params


def _refuse_unknown(shape: StructureShape, document: dict[str, Any]) -> None:
    """A body member the operation does not have would otherwise be dropped unseen: refuse it
    by name (botocore sends only the model's members, so SDK calls never meet this)."""
    body_members = {name for name, member in shape.members.items() if not member.serialization.get("location")}
    unknown = sorted(str(name)[:60] for name in document if name not in body_members)
    if unknown:
        known = ", ".join(sorted(body_members)) or "none"
        raise bad_request(
            f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown[:10])}: this operation takes {known}."
        )


def _query_member(shape: StructureShape, wire_name: str) -> tuple[str, Shape] | None:
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring" and member.serialization.get("name") == wire_name:
            return name, member
    return None


def _query_value(shape: Shape, value: str, name: str) -> Any:
    if shape.type_name == "integer":
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"{name} must be a whole number, not {value[:20]!r}.") from None
    return value


def _from_json(shape: Shape, value: Any) -> Any:
    """JSON to botocore's input form: timestamps to datetimes; members of the body only."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {
            name: _from_json(shape.members[name], item)
            for name, item in value.items()
            if name in shape.members and not shape.members[name].serialization.get("location")
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_from_json(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _from_json(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if shape.type_name == "timestamp" and isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value).astimezone()
    return value


def _check_constraints(shape: Shape, value: Any, where: str) -> None:
    """What botocore's validator leaves to the service: enums, maximum lengths and patterns."""
    if value is None:
        return
    if shape.type_name == "string" and isinstance(value, str):
        enum = shape.enum
        if enum and value not in enum:
            raise bad_request(f"{where}: {value[:40]!r} is not one of {', '.join(enum)}.")
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            raise bad_request(f"{where}: at most {maximum} characters, not {len(value)}.")
        pattern = shape.metadata.get("pattern")
        # Python's re has no Unicode classes (\p{L}); such fields are checked where they are used (tags).
        if pattern and "\\p{" not in pattern and re.fullmatch(pattern, value) is None:
            raise bad_request(f"{where}: {value[:40]!r} does not match {pattern}.")
    elif isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member in shape.members.items():
            _check_constraints(member, value.get(name), f"{where}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            raise bad_request(f"{where}: at most {maximum} items, not {len(value)}.")
        for index, item in enumerate(value):
            _check_constraints(shape.member, item, f"{where}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(value, dict):
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            raise bad_request(f"{where}: at most {maximum} entries, not {len(value)}.")
        for key, item in value.items():
            _check_constraints(shape.key, key, f"{where} key")  # type: ignore[attr-defined]
            _check_constraints(shape.value, item, f"{where}.{key}")  # type: ignore[attr-defined]


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # rest-json's default timestamp form: epoch seconds
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    return value


def respond(output: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(_to_json(output)), status=status, content_type="application/json")


def respond_error(error: ApiError) -> HttpResponse:
    response = HttpResponse(json.dumps({"message": error.message}), status=error.status, content_type="application/json")
    # botocore reads the error code from this header (rest-json).
    response["x-amzn-ErrorType"] = error.code
    return response
