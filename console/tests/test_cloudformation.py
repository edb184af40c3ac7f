"""The one CloudFormation module: stacks, nested resources and what "missing" means."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from console import cloudformation
from console.aws_errors import AwsNotFound

NESTED_TEMPLATE = {"Resources": {"Inner": {"Type": "AWS::DynamoDB::Table", "Properties": {
    "TableName": "Inner-api1-NONE", "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}}}  # fmt: skip


def _deploy_root_with_nested() -> str:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="nested.json", Body=json.dumps(NESTED_TEMPLATE).encode())
    template = {
        "Resources": {
            "Outer": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "TableName": "Outer-api1-NONE", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}},
            "Data": {"Type": "AWS::CloudFormation::Stack",
                     "Properties": {"TemplateURL": "https://templates.s3.amazonaws.com/nested.json"}},
        },
        "Outputs": {"awsAppsyncApiId": {"Value": "api1"}},
    }  # fmt: skip
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="root-stack", TemplateBody=json.dumps(template), Tags=[{"Key": "amplify:app-id", "Value": "d1"}]
    )
    return "root-stack"


def test_a_stack_with_its_outputs_tags_and_nested_resources() -> None:
    name = _deploy_root_with_nested()
    stack = cloudformation.describe_stack(name)
    assert stack is not None
    assert (stack.name, stack.status, stack.outputs, stack.tags) == (
        name,
        "DEPLOYED",
        {"awsAppsyncApiId": "api1"},
        {"amplify:app-id": "d1"},
    )
    resources = cloudformation.stack_resources(name)
    # Each nested stack's resources come right after it.
    assert [(r.logical_id, r.depth) for r in resources] == [("Outer", 0), ("Data", 0), ("Inner", 1)]
    assert sorted(cloudformation.physical_ids(name, "AWS::DynamoDB::Table")) == ["Inner-api1-NONE", "Outer-api1-NONE"]
    assert [r.logical_id for r in cloudformation.stack_resources(name, nested=False)] == ["Outer", "Data"]


def test_a_missing_stack_is_none_and_its_resources_not_found() -> None:
    assert cloudformation.describe_stack("no-such-stack") is None
    with pytest.raises(AwsNotFound):
        cloudformation.stack_resources("no-such-stack")


class _OneNestedStackGone:
    """ListStackResources of a root naming two nested stacks, one of them deleted meanwhile."""

    pages = {
        "root": [("AWS::DynamoDB::Table", "Root-api-NONE"), ("AWS::CloudFormation::Stack", "gone"),
                 ("AWS::CloudFormation::Stack", "data")],
        "data": [("AWS::DynamoDB::Table", "Todo-api-NONE")],
    }  # fmt: skip

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_stack_resources"
        return self

    def paginate(self, StackName: str) -> list[dict[str, Any]]:
        if StackName not in self.pages:
            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": f"Stack with id {StackName} does not exist"}},
                "ListStackResources",
            )
        rows = [
            {"ResourceType": kind, "PhysicalResourceId": physical, "LogicalResourceId": physical}
            for kind, physical in self.pages[StackName]
        ]
        return [{"StackResourceSummaries": rows}]


def test_one_nested_stack_gone_skips_only_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # The data manager's table lookup once aborted here: its not-found handler sat inside
    # the error-mapping block, so it never saw the mapped error.
    monkeypatch.setattr(cloudformation, "aws_client", lambda service, **kwargs: _OneNestedStackGone())
    assert cloudformation.physical_ids("root", "AWS::DynamoDB::Table") == ["Root-api-NONE", "Todo-api-NONE"]

    from apps.datamanager.sources import stack_table_names

    assert stack_table_names("root", "us-east-1") == ["Root-api-NONE", "Todo-api-NONE"]
