"""A branch backend with functions, deployed through CloudFormation as real Gen 2 deploys
it: the root stack holds a nested stack (TemplateURL in an assets bucket) that holds the
functions, each with a role and the `amplify:friendly-name` tag. Works with moto in
process and with the emulator (give `client` a factory bound to it)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

SECRET_VALUE = "sk-live-DO-NOT-SHOW-4f9a1c"  # a secret-backed variable's value, never to be shown
PLAIN_VALUE = "plain-value-7e21"  # a plain variable's value: shown nowhere either (names only)
ASSETS = "functions-test-assets"

Client = Callable[[str], Any]


def function_resources(logical: str, name: str, friendly: str | None, environment: dict[str, str]) -> dict[str, Any]:
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }
        },
    }
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": name,
            "Runtime": "nodejs20.x",
            "Handler": "index.handler",
            "MemorySize": 512,
            "Timeout": 25,
            "Role": {"Fn::GetAtt": [f"{logical}Role", "Arn"]},
            "Code": {"ZipFile": "exports.handler = async () => 'ok';"},
            "Environment": {"Variables": environment},
        },
    }
    return {f"{logical}Role": role, logical: function}


def deploy_backend(client: Client, stack: str, *, prefix: str = "fn") -> dict[str, str]:
    """Root stack `stack` -> nested `data` stack -> nested `function` stack with two functions,
    and one function in the root itself. Returns {friendly name or logical id: Lambda name}."""
    s3, cfn, lam = client("s3"), client("cloudformation"), client("lambda")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=ASSETS)
    names = {"sayHello": f"{prefix}-sayHello", "todoCleanup": f"{prefix}-todoCleanup", "rootWorker": f"{prefix}-rootWorker"}
    secrets = {"API_KEY": {"path": "/amplify/x/main-branch-1/API_KEY", "sharedPath": "/amplify/shared/x/API_KEY"}}
    functions = {
        **function_resources(
            "sayHellolambda",
            names["sayHello"],
            "sayHello",
            {"GREETING": PLAIN_VALUE, "AMPLIFY_SSM_ENV_CONFIG": json.dumps(secrets), "API_KEY": SECRET_VALUE},
        ),
        **function_resources("todoCleanuplambda", names["todoCleanup"], "todoCleanup", {"DB_PASSWORD": SECRET_VALUE}),
    }
    templates = {
        "function.json": {"Resources": functions},
        "data.json": {
            "Resources": {
                "function1351588B": {
                    "Type": "AWS::CloudFormation::Stack",
                    "Properties": {"TemplateURL": f"https://{ASSETS}.s3.amazonaws.com/{prefix}-function.json"},
                }
            }
        },
    }
    for key, template in templates.items():
        s3.put_object(Bucket=ASSETS, Key=f"{prefix}-{key}", Body=json.dumps(template).encode())
    root = {
        "Resources": {
            "data7552DF31": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": f"https://{ASSETS}.s3.amazonaws.com/{prefix}-data.json"},
            },
            **function_resources("rootWorker", names["rootWorker"], None, {}),
        }
    }
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(root))
    for friendly in ("sayHello", "todoCleanup"):  # moto's CloudFormation drops a function's Tags
        arn = lam.get_function_configuration(FunctionName=names[friendly])["FunctionArn"]
        lam.tag_resource(Resource=arn, Tags={"amplify:friendly-name": friendly})
    return names


def write_events(client: Client, group: str, messages: list[str], *, stream: str = "s1", start_ms: int) -> None:
    """One event a millisecond from `start_ms`, 10,000 a PutLogEvents call (its limit)."""
    logs = client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    for first in range(0, len(messages), 10_000):
        batch = [{"timestamp": start_ms + first + i, "message": m} for i, m in enumerate(messages[first : first + 10_000])]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
