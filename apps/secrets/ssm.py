"""SSM Parameter Store, for secrets: the only module here that talks to boto3.

Listing uses DescribeParameters (names, versions, who and when: never values);
a value is read only by `get_value`, for reveal, copy and builds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from console.aws import aws_client
from console.aws_errors import AwsError, AwsNotFound, aws_errors

DESCRIPTION = "Amplify Secret"
# The largest value SSM stores (the advanced tier; up to 4 KB stay in the standard one).
ADVANCED_TIER_MAX_BYTES = 8192


class ValueTooLarge(AwsError):
    pass


@dataclass(frozen=True)
class ParameterInfo:
    path: str
    version: int
    last_modified: datetime | None
    last_modified_by: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _info(parameter: dict[str, object]) -> ParameterInfo:
    return ParameterInfo(
        path=str(parameter["Name"]),
        version=int(parameter.get("Version", 0)),  # type: ignore[call-overload]
        last_modified=parameter.get("LastModifiedDate"),  # type: ignore[arg-type]
        last_modified_by=str(parameter.get("LastModifiedUser", "")),
    )


def list_parameters(prefix: str, *, recursive: bool = False, region: str | None = None) -> Iterator[ParameterInfo]:
    """Parameters under `prefix` (one level, or all levels), paged; never their values."""
    filters = [{"Key": "Path", "Option": "Recursive" if recursive else "OneLevel", "Values": [prefix.rstrip("/")]}]
    with aws_errors("ssm:DescribeParameters"):
        paginator = aws_client("ssm", region=region).get_paginator("describe_parameters")
        pages = paginator.paginate(ParameterFilters=filters, MaxResults=50)
        for page in pages:
            for parameter in page.get("Parameters", []):
                yield _info(parameter)


class ParameterExists(AwsError):
    """A create (overwrite off) found the parameter there already."""


def version_of(path: str) -> ParameterInfo | None:
    """The parameter's version and when it was saved (its value stays encrypted), or None."""
    try:
        with aws_errors("ssm:GetParameter"):
            return _info(aws_client("ssm").get_parameter(Name=path, WithDecryption=False)["Parameter"])
    except AwsNotFound:
        return None


def put_value(path: str, value: str, *, kms_key_id: str = "", overwrite: bool = True) -> int:
    """Create or overwrite a SecureString; returns the new version. With `overwrite` off,
    ParameterExists when it is there already (someone created it first)."""
    size = len(value.encode("utf-8"))
    if size > ADVANCED_TIER_MAX_BYTES:
        raise ValueTooLarge(
            f"The value is {size:,} bytes; SSM holds at most {ADVANCED_TIER_MAX_BYTES:,} bytes.", action="ssm:PutParameter"
        )
    request = {
        "Name": path,
        "Value": value,
        "Type": "SecureString",
        "Description": DESCRIPTION,
        "Overwrite": overwrite,
        # AWS picks Standard or Advanced by size; unlike an explicit "Standard", this
        # never fails on a secret that once was Advanced (there is no way back).
        "Tier": "Intelligent-Tiering",
    }
    if kms_key_id:
        request["KeyId"] = kms_key_id
    try:
        with aws_errors("ssm:PutParameter"):
            return int(aws_client("ssm").put_parameter(**request)["Version"])
    except AwsError as error:
        if error.code == "ParameterAlreadyExists":
            raise ParameterExists(f"{path} exists already.", action="ssm:PutParameter", code=error.code) from error
        raise


def get_value(path: str) -> str | None:
    """The decrypted value, or None if there is no such parameter."""
    try:
        with aws_errors("ssm:GetParameter"):
            return str(aws_client("ssm").get_parameter(Name=path, WithDecryption=True)["Parameter"]["Value"])
    except AwsNotFound:
        return None


def delete(path: str, *, region: str | None = None) -> bool:
    """Delete; False if it did not exist."""
    try:
        with aws_errors("ssm:DeleteParameter"):
            aws_client("ssm", region=region).delete_parameter(Name=path)
    except AwsNotFound:
        return False
    return True


def history(path: str) -> list[ParameterInfo]:
    """The versions SSM keeps, newest first, without values."""
    versions: list[ParameterInfo] = []
    with aws_errors("ssm:GetParameterHistory"):
        for page in aws_client("ssm").get_paginator("get_parameter_history").paginate(Name=path, WithDecryption=False):
            versions.extend(_info(p) for p in page.get("Parameters", []))
    return sorted(versions, key=lambda v: v.version, reverse=True)


def values_under(prefix: str) -> dict[str, str]:
    """{name: decrypted value} directly under `prefix`: what a build of the branch gets."""
    values = {}
    with aws_errors("ssm:GetParametersByPath"):
        pages = (
            aws_client("ssm").get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=False, WithDecryption=True)
        )
        for page in pages:
            for parameter in page.get("Parameters", []):
                values[str(parameter["Name"]).rsplit("/", 1)[-1]] = str(parameter["Value"])
    return values
