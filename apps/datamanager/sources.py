"""Where a branch's data schema and tables come from, in this order: the
amplify_outputs.json its last build captured; one an operator uploaded; else the
deployed branch stack (its `amplifyApiModelSchemaS3Uri` SDL, read with graphql-core)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.branches.models import Branch
from apps.datamanager import dynamo
from apps.datamanager.models import SchemaUpload
from apps.datamanager.schema import DataSchema, Model, SchemaInvalid, schema_from_introspection
from console.amplify_names import branch_stack_name
from console.aws import aws_client
from console.aws_errors import aws_errors
from console.cloudformation import describe_stack, physical_ids

MAX_SDL_BYTES = 5 * 1024 * 1024
_S3_URI = re.compile(r"^s3://([^/]+)/(.+)$")


class NoSchema(Exception):
    pass


@dataclass
class BranchData:
    """A branch's schema and where its tables are."""

    schema: DataSchema
    region: str
    api_id: str  # "" when no stack tells it (an uploaded file for an unknown stack)
    stack_name: str = ""

    def table(self, model: Model) -> dynamo.Table:
        return dynamo.find_table(model, self.api_id, self.region, self._stack_tables if self.stack_name else None)

    def _stack_tables(self) -> list[str]:
        return stack_table_names(self.stack_name, self.region)


def introspection_of(outputs: dict[str, Any] | None) -> dict[str, Any] | None:
    data = (outputs or {}).get("data") or {}
    introspection = data.get("model_introspection")
    return introspection if isinstance(introspection, dict) else None


def stack_table_names(stack_name: str, region: str) -> list[str]:
    """Physical names of the DynamoDB tables in the stack and its nested stacks."""
    return physical_ids(stack_name, "AWS::DynamoDB::Table", region=region)


def sdl_from_s3(uri: str, region: str) -> str:
    match = _S3_URI.match(uri)
    if not match:
        raise NoSchema(f"The stack output amplifyApiModelSchemaS3Uri is not an s3:// URI: {uri[:200]!r}.")
    with aws_errors("s3:GetObject"):
        body = aws_client("s3", region=region).get_object(Bucket=match.group(1), Key=match.group(2))["Body"]
        data = body.read(MAX_SDL_BYTES + 1)
    if len(data) > MAX_SDL_BYTES:
        raise NoSchema(f"The model schema at {uri} is larger than {MAX_SDL_BYTES // 1024 // 1024} MB.")
    return data.decode("utf-8", errors="replace")


def branch_data(branch: Branch) -> BranchData:
    """The branch's schema and table location; NoSchema says what to do when there is none."""
    stack_name = branch_stack_name(branch.app.app_id, branch.name)
    stack = describe_stack(stack_name)
    live_stack = stack is not None and stack.status != "DELETED"
    outputs_of_stack = stack.outputs if stack is not None and live_stack else {}
    api_id = outputs_of_stack.get("awsAppsyncApiId", "")
    introspection = introspection_of(branch.backend_outputs)
    source, outputs = "build", branch.backend_outputs
    if introspection is None:
        upload = SchemaUpload.objects.filter(branch=branch).first()
        if upload is not None:
            introspection, source, outputs = introspection_of(upload.document), "upload", upload.document
    region = str(((outputs or {}).get("data") or {}).get("aws_region") or outputs_of_stack.get("awsAppsyncRegion") or "")
    region = region or settings.AWS_REGION
    if introspection is not None:
        schema = schema_from_introspection(introspection, source=source)
    elif outputs_of_stack.get("amplifyApiModelSchemaS3Uri"):
        from apps.datamanager.sdl import schema_from_sdl

        try:
            schema = schema_from_sdl(sdl_from_s3(outputs_of_stack["amplifyApiModelSchemaS3Uri"], region), source="stack")
        except SchemaInvalid as error:
            raise NoSchema(f"The deployed model schema could not be read: {error}") from None
    else:
        raise NoSchema(
            f"No data schema for {branch.name}: no build has captured amplify_outputs.json with a data section, "
            "none was uploaded, and the branch stack "
            f"{'has no data outputs' if live_stack else 'is not deployed'}. "
            "Deploy the branch, or upload its amplify_outputs.json."
        )
    return BranchData(schema=schema, region=region, api_id=api_id, stack_name=stack_name if live_stack else "")


def outputs_data(outputs: dict[str, Any], *, region: str = "") -> BranchData:
    """For the CLI's --outputs FILE: the schema of the file; tables by model name."""
    introspection = introspection_of(outputs)
    if introspection is None:
        raise NoSchema("The file has no data.model_introspection: the backend has no data models.")
    region = region or str((outputs.get("data") or {}).get("aws_region") or settings.AWS_REGION)
    return BranchData(schema=schema_from_introspection(introspection, source="file"), region=region, api_id="")
