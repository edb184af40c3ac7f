"""Schemas and tables for data manager tests: an introspection document covering
every field type, the real codegen fixtures, and DynamoDB tables made the way
Amplify names and keys them. Use inside the in-process moto mock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from django.conf import settings

from apps.datamanager import dynamo
from apps.datamanager.schema import DataSchema, Model, schema_from_introspection
from conftest import fixture_missing

API_ID = "testapi1234567890"
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "model-introspection"
NUMBER_TYPES = ("Int", "Float", "AWSTimestamp")


def field(name: str, type_: str | dict[str, str], *, required: bool = False, array: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "isArray": array, "type": type_, "isRequired": required, "attributes": [], **extra}


def timestamps() -> dict[str, Any]:
    return {
        name: field(name, "AWSDateTime", isReadOnly=True) for name in ("createdAt", "updatedAt")
    }  # fmt: skip


def model(name: str, fields: list[dict[str, Any]], *, key: tuple[str, ...] = ("id",), plural: str = "") -> dict[str, Any]:
    attributes: list[dict[str, Any]] = [{"type": "model", "properties": {}}]
    if key != ("id",):
        attributes.append({"type": "key", "properties": {"fields": list(key)}})
    return {
        "name": name,
        "fields": {**{f["name"]: f for f in fields}, **timestamps()},
        "syncable": True,
        "pluralName": plural or f"{name}s",
        "attributes": attributes,
        "primaryKeyInfo": {
            "isCustomPrimaryKey": key != ("id",),
            "primaryKeyFieldName": key[0],
            "sortKeyFieldNames": list(key[1:]),
        },
    }


def every_type_introspection() -> dict[str, Any]:
    """`Item` has a field of every scalar type, an enum, a custom type and lists of
    each kind; `Post` (key blogId + title + description) belongs to `Blog`."""
    scalars = [
        field("id", "ID", required=True),
        field("title", "String", required=True),
        field("count", "Int"),
        field("price", "Float"),
        field("done", "Boolean"),
        field("due", "AWSDate"),
        field("at", "AWSTime"),
        field("when", "AWSDateTime"),
        field("stamp", "AWSTimestamp"),
        field("email", "AWSEmail"),
        field("meta", "AWSJSON"),
        field("phone", "AWSPhone"),
        field("site", "AWSURL"),
        field("ip", "AWSIPAddress"),
        field("priority", {"enum": "Priority"}),
        field("address", {"nonModel": "Address"}),
        field("tags", "String", array=True),
        field("scores", "Int", array=True),
        field("ratios", "Float", array=True),
        field("flags", "Boolean", array=True),
        field("levels", {"enum": "Priority"}, array=True),
        field("places", {"nonModel": "Address"}, array=True),
        field("blobs", "AWSJSON", array=True),
    ]
    blog = model("Blog", [field("id", "ID", required=True), field("name", "String", required=True),
                          field("posts", {"model": "Post"}, array=True, association={
                              "connectionType": "HAS_MANY", "associatedWith": ["blog"]})])  # fmt: skip
    post = model(
        "Post",
        [
            field("blogId", "ID", required=True),
            field("title", "String", required=True),
            field("description", "String", required=True),
            field("body", "String"),
            field("blog", {"model": "Blog"}, association={"connectionType": "BELONGS_TO", "targetNames": ["blogId"]}),
        ],
        key=("blogId", "title", "description"),
    )
    return {
        "version": 1,
        "models": {"Item": model("Item", scalars), "Blog": blog, "Post": post},
        "enums": {"Priority": {"name": "Priority", "values": ["low", "medium", "high"]}},
        "nonModels": {
            "Address": {
                "name": "Address",
                "fields": {
                    f["name"]: f
                    for f in (
                        field("street", "String", required=True),
                        field("zip", "Int"),
                        field("lat", "Float"),
                        field("lines", "String", array=True),
                        field("extra", "AWSJSON"),
                    )
                },
            }
        },
    }


def every_type_schema() -> DataSchema:
    return schema_from_introspection(every_type_introspection(), source="test")


def outputs_document(introspection: dict[str, Any], *, region: str = "") -> dict[str, Any]:
    """A minimal amplify_outputs.json holding the introspection."""
    return {
        "version": "1.4",
        "data": {
            "url": "https://example.appsync-api.us-east-1.amazonaws.com/graphql",
            "aws_region": region or settings.AWS_REGION,
            "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
            "authorization_types": [],
            "model_introspection": introspection,
        },
    }


def fixture_introspection(name: str) -> dict[str, Any]:
    """A real codegen document from ../shared (conftest.fixture_missing when it is not there)."""
    path = FIXTURES / name
    if not path.exists():
        fixture_missing(f"{path} is not available")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def make_table(model: Model, *, api_id: str = API_ID, region: str = "", name: str = "") -> dynamo.Table:
    """`<Model>-<apiId>-NONE` keyed as Amplify keys it: the primary key, and a sort key
    attribute named after the sort key field, or "a#b" for several."""
    region = region or settings.AWS_REGION
    name = name or dynamo.table_name(model, api_id)
    range_key = "#".join(model.sort_keys)
    attribute_type = "N" if model.field(model.primary_key).type in NUMBER_TYPES else "S"
    keys = [{"AttributeName": model.primary_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": model.primary_key, "AttributeType": attribute_type}]
    if range_key:
        single = len(model.sort_keys) == 1 and model.field(range_key).type in NUMBER_TYPES
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "N" if single else "S"})
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
    )
    table = dynamo.describe_table(name, region)
    assert table is not None
    return table


def scan(table: dynamo.Table) -> list[dict[str, Any]]:
    """Every item of the table, as Python values, in key order."""
    items = list(dynamo.scan_all(table))
    return sorted(items, key=lambda item: json.dumps(table.key_of(item), default=str))
