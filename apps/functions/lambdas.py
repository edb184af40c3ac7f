"""Lambda, in one place: a function's configuration and tags (GetFunction).

Environment values never leave this module: a Function carries the variables' names
and which of them hold secrets, so no page can show a value by mistake."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.dateparse import parse_datetime

from console.aws import aws_client
from console.aws_errors import AwsNotFound, aws_errors

FRIENDLY_NAME_TAG = "amplify:friendly-name"
# Gen 2 functions get their secrets as environment variables named in this JSON map
# (name -> {path, sharedPath}); the function reads the values from SSM when it starts.
SSM_ENV_CONFIG = "AMPLIFY_SSM_ENV_CONFIG"
# Names that usually hold a credential, even when no SSM map names them.
_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIALS?|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY)$", re.IGNORECASE)

SSM_SECRET = "secret (from SSM)"  # noqa: S105 (a label, not a secret)
NAMED_SECRET = "secret (by its name)"  # noqa: S105 (a label, not a secret)


@dataclass(frozen=True)
class Variable:
    name: str
    secret: str  # "" for a plain variable, else why it is treated as a secret


@dataclass(frozen=True)
class Function:
    name: str  # the Lambda function's name (the stack resource's physical id)
    logical_id: str
    friendly_name: str
    runtime: str = ""
    memory_mb: int | None = None
    timeout_seconds: int | None = None
    last_modified: datetime | None = None
    handler: str = ""
    variables: list[Variable] = field(default_factory=list)
    missing: bool = False  # the stack names it but Lambda has no such function

    @property
    def log_group(self) -> str:
        return log_group_of(self.name)


def log_group_of(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def ssm_secret_names(raw: str) -> set[str]:
    """The variable names AMPLIFY_SSM_ENV_CONFIG lists (its keys); none when it is not a JSON map."""
    try:
        config = json.loads(raw)
    except ValueError:
        return set()
    return {str(name) for name in config} if isinstance(config, dict) else set()


def variables_of(environment: dict[str, str]) -> list[Variable]:
    from_ssm = ssm_secret_names(environment.get(SSM_ENV_CONFIG, ""))
    listed = []
    for name in sorted(environment):
        if name in from_ssm:
            listed.append(Variable(name, SSM_SECRET))
        elif _SECRET_NAME.search(name):
            listed.append(Variable(name, NAMED_SECRET))
        else:
            listed.append(Variable(name, ""))
    return listed


def _modified(raw: str) -> datetime | None:
    # Lambda says "2024-05-01T10:00:00.000+0000"; moto "...000000Z".
    text = re.sub(r"\.(\d{6})\d*", r".\1", raw or "")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    return parse_datetime(text) if text else None


def get_function(name: str, *, logical_id: str, region: str | None = None) -> Function:
    """The function's configuration and tags; one Lambda no longer has is `missing`."""
    try:
        with aws_errors("lambda:GetFunction"):
            answer = aws_client("lambda", region=region).get_function(FunctionName=name)
    except AwsNotFound:
        return Function(name=name, logical_id=logical_id, friendly_name=logical_id, missing=True)
    config = answer.get("Configuration", {})
    tags = answer.get("Tags") or {}
    if FRIENDLY_NAME_TAG not in tags and config.get("FunctionArn"):
        # GetFunction answers tags only with lambda:ListTags allowed (and moto never does).
        with aws_errors("lambda:ListTags"):
            tags = aws_client("lambda", region=region).list_tags(Resource=config["FunctionArn"]).get("Tags", {})
    environment = (config.get("Environment") or {}).get("Variables") or {}
    return Function(
        name=name,
        logical_id=logical_id,
        friendly_name=tags.get(FRIENDLY_NAME_TAG) or logical_id,
        runtime=config.get("Runtime", "") or config.get("PackageType", ""),
        memory_mb=config.get("MemorySize"),
        timeout_seconds=config.get("Timeout"),
        last_modified=_modified(config.get("LastModified", "")),
        handler=config.get("Handler", ""),
        variables=variables_of(environment),
    )
