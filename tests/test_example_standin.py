"""The example app's `ampx` stand-in, run as a subprocess against a real moto server.

examples/todo-app/tools/ampx_standin.py lives in the user's repository and is
what the example's amplify.yml runs; these tests deploy with it exactly as a
build would (a subprocess in a copy of the project) and check the result
through boto3 against the same emulator.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import jsonschema
import pytest

from apps.branches.outputs import parse_outputs
from apps.datamanager.schema import schema_from_introspection
from conftest import fixture_missing
from console.emulator import EMULATOR_CREDENTIALS, Emulator

pytestmark = pytest.mark.emulator

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = REPO_ROOT / "examples" / "todo-app"
SCRIPT = EXAMPLE_DIR / "tools" / "ampx_standin.py"
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
OUTPUTS_SCHEMA_DIR = SHARED_DIR / "fixtures" / "amplify-outputs-schema"
INTROSPECTION_SCHEMA = SHARED_DIR / "fixtures" / "model-introspection" / "ModelIntrospectionSchema.json"

REGION = "us-east-1"
MODELS = ("Project", "Todo", "Note")  # the @model types of amplify/data/schema.graphql
APP_ID = "d1a2b3c4d5e6f7"
BRANCH = "main"
BRANCH_STACK = "amplify-d1a2b3c4d5e6f7-main-branch-779dbfc7c3"
BRANCH_TAGS = {
    "created-by": "amplify",
    "amplify:app-id": APP_ID,
    "amplify:branch-name": BRANCH,
    "amplify:deployment-type": "branch",
}
SANDBOX_TAGS = {"created-by": "amplify", "amplify:deployment-type": "sandbox"}
REQUIRED_OUTPUTS = {
    "awsAppsyncRegion",
    "awsAppsyncApiEndpoint",
    "awsAppsyncAuthenticationType",
    "awsAppsyncApiId",
    "amplifyApiModelSchemaS3Uri",
    "awsAppsyncAdditionalAuthenticationTypes",
    "bucketName",
    "storageRegion",
    "buckets",
    "authRegion",
    "userPoolId",
    "webClientId",
    "identityPoolId",
    "deploymentType",
    "region",
}


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_env(emulator: Emulator) -> dict[str, str]:
    """What a build would export: the emulator endpoint and its credentials, nothing else of AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(EMULATOR_CREDENTIALS)
    env.update(
        AWS_ENDPOINT_URL=emulator.endpoint_url,
        AWS_DEFAULT_REGION=REGION,
        AWS_MAX_ATTEMPTS="2",  # fail fast when something is wrong
    )
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example, as a build would clone it (no outputs from earlier runs)."""
    target = tmp_path_factory.mktemp("todo-app") / "todo-app"
    ignore = shutil.ignore_patterns("amplify_outputs.json", "dist", "__pycache__", "node_modules")
    shutil.copytree(EXAMPLE_DIR, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def aws(emulator: Emulator) -> Any:
    """A boto3 client factory bound to the emulator."""
    session = boto3.session.Session(
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return lambda service: session.client(service, endpoint_url=emulator.endpoint_url)


@pytest.fixture(scope="module")
def branch_deploy(project: Path, aws_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One `pipeline-deploy` of branch main, shared by the tests that inspect it."""
    result = run_standin(project, aws_env, "pipeline-deploy", "--branch", BRANCH, "--app-id", APP_ID)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def branch_stack(aws: Any, branch_deploy: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    stacks = aws("cloudformation").describe_stacks(StackName=BRANCH_STACK)["Stacks"]
    assert len(stacks) == 1
    return dict(stacks[0])


# --- helpers ----------------------------------------------------------------------


def run_standin(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/ampx_standin.py", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_standin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ampx_standin", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def stack_tags(stack: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in stack.get("Tags", [])}


def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def live_stack_names(aws: Any) -> list[str]:
    names: list[str] = []
    for page in aws("cloudformation").get_paginator("list_stacks").paginate():
        names += [s["StackName"] for s in page["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    return names


def user_pool_ids(aws: Any) -> set[str]:
    return {p["Id"] for p in aws("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]}


def read_outputs_file(project: Path) -> dict[str, Any]:
    return dict(json.loads((project / "amplify_outputs.json").read_text(encoding="utf-8")))


def validate_outputs(document: dict[str, Any]) -> None:
    if not OUTPUTS_SCHEMA_DIR.is_dir():
        fixture_missing(f"{OUTPUTS_SCHEMA_DIR} is absent")
    version = document["version"]
    suffix = "" if version == "1" else version.removeprefix("1")
    schema = json.loads((OUTPUTS_SCHEMA_DIR / f"schema_v1{suffix}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    introspection = json.loads(INTROSPECTION_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(introspection)(introspection).validate(document["data"]["model_introspection"])


# --- tests ------------------------------------------------------------------------


def test_stack_name_matches_the_toolchain_examples() -> None:
    standin = load_standin()
    assert standin.stack_name("d1a2b3c4d5e6f7", "main", "branch") == BRANCH_STACK
    assert standin.stack_name("my-next-app", "alice", "sandbox") == "amplify-mynextapp-alice-sandbox-36e957df1b"


def test_stack_name_is_cut_to_the_cloudformation_limit() -> None:
    name = load_standin().stack_name("n" * 200, "feature/" + "x" * 80, "branch")
    parts = name.split("-")
    assert len(name) <= 128
    assert len(parts) == 5
    assert len(parts[2]) == 50  # the name part is cut to 50 chars, sanitized


def test_pipeline_deploy_prints_progress_and_hides_credentials(branch_deploy: subprocess.CompletedProcess[str]) -> None:
    assert f"[Deploy] Stack {BRANCH_STACK} deployed" in branch_deploy.stdout
    assert "amplify_outputs.json" in branch_deploy.stdout
    secret = EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    assert secret not in branch_deploy.stdout + branch_deploy.stderr


def test_branch_stack_has_exact_tags_and_all_outputs(branch_stack: dict[str, Any]) -> None:
    assert branch_stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert stack_tags(branch_stack) == BRANCH_TAGS
    outputs = stack_outputs(branch_stack)
    assert outputs.keys() >= REQUIRED_OUTPUTS
    assert outputs["awsAppsyncAuthenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert outputs["deploymentType"] == "branch"
    assert outputs["region"] == outputs["awsAppsyncRegion"] == REGION
    # An array of JSON strings, one per bucket, as the real storage construct writes it.
    encoded = json.loads(outputs["buckets"])
    assert [type(b) for b in encoded] == [str]
    buckets = [json.loads(b) for b in encoded]
    assert buckets == [
        {
            "name": "todoFiles",
            "bucketName": outputs["bucketName"],
            "storageRegion": REGION,
            "paths": buckets[0]["paths"],
        }
    ]


def test_template_metadata_maps_every_output_as_the_real_reader_needs(aws: Any, branch_stack: dict[str, Any]) -> None:
    """`ampx generate outputs` reads GetTemplateSummary's Metadata (JSON text), then takes each
    part's `stackOutputs` from DescribeStacks: every output must be listed under its part."""
    summary = aws("cloudformation").get_template_summary(StackName=BRANCH_STACK)
    metadata = json.loads(summary["Metadata"])
    assert list(metadata) == ["AWS::Amplify::Platform", "AWS::Amplify::Auth", "AWS::Amplify::GraphQL", "AWS::Amplify::Storage"]
    assert {entry["version"] for entry in metadata.values()} == {"1"}
    listed = [name for entry in metadata.values() for name in entry["stackOutputs"]]
    assert len(listed) == len(set(listed))
    outputs = stack_outputs(branch_stack)
    assert set(listed) == set(outputs)
    assert metadata["AWS::Amplify::Platform"]["stackOutputs"] == ["deploymentType", "region"]
    assert metadata["AWS::Amplify::Storage"]["stackOutputs"] == ["buckets", "storageRegion", "bucketName"]
    # Real auth stacks always write these, "[]" when empty.
    assert outputs["mfaTypes"] == outputs["groups"] == "[]"


def test_branch_resources_exist(aws: Any, branch_stack: dict[str, Any]) -> None:
    outputs = stack_outputs(branch_stack)
    for model in MODELS:  # one table per @model type, keyed on id
        table = aws("dynamodb").describe_table(TableName=f"{model}-{outputs['awsAppsyncApiId']}-NONE")["Table"]
        assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert aws("appsync").get_graphql_api(apiId=outputs["awsAppsyncApiId"])["graphqlApi"]["name"] == BRANCH_STACK

    uri = urlsplit(outputs["amplifyApiModelSchemaS3Uri"])
    assert uri.scheme == "s3"
    sdl = aws("s3").get_object(Bucket=uri.netloc, Key=uri.path.lstrip("/"))["Body"].read().decode()
    assert "type Todo @model" in sdl

    aws("s3").head_bucket(Bucket=outputs["bucketName"])
    pool = aws("cognito-idp").describe_user_pool(UserPoolId=outputs["userPoolId"])["UserPool"]
    assert pool["Id"] == outputs["userPoolId"]
    client = aws("cognito-idp").describe_user_pool_client(UserPoolId=outputs["userPoolId"], ClientId=outputs["webClientId"])
    assert "ClientSecret" not in client["UserPoolClient"]


def test_functions_are_in_a_nested_stack_tagged_with_their_friendly_names(aws: Any, branch_stack: dict[str, Any]) -> None:
    cfn = aws("cloudformation")
    root = cfn.list_stack_resources(StackName=BRANCH_STACK)["StackResourceSummaries"]
    nested = [r for r in root if r["ResourceType"] == "AWS::CloudFormation::Stack"]
    assert [r["LogicalResourceId"] for r in nested] == ["function1351588B"]
    inner = cfn.list_stack_resources(StackName=nested[0]["PhysicalResourceId"])["StackResourceSummaries"]
    functions = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in inner if r["ResourceType"] == "AWS::Lambda::Function"}
    assert functions == {"sayHellolambda": f"{BRANCH_STACK}-sayHello", "todoCleanuplambda": f"{BRANCH_STACK}-todoCleanup"}
    lam = aws("lambda")
    for friendly, name in (("sayHello", functions["sayHellolambda"]), ("todoCleanup", functions["todoCleanuplambda"])):
        config = lam.get_function_configuration(FunctionName=name)
        assert lam.list_tags(Resource=config["FunctionArn"])["Tags"]["amplify:friendly-name"] == friendly
    environment = lam.get_function_configuration(FunctionName=functions["sayHellolambda"])["Environment"]["Variables"]
    assert json.loads(environment["AMPLIFY_SSM_ENV_CONFIG"])["API_KEY"]["sharedPath"].endswith("/API_KEY")
    assert environment["API_KEY"] == "<value will be resolved during runtime>"


def test_outputs_file_matches_the_stack_and_the_schema(project: Path, branch_stack: dict[str, Any]) -> None:
    outputs = stack_outputs(branch_stack)
    document = read_outputs_file(project)
    assert document["version"] in ("1.4", "1.5")
    assert document["data"]["url"] == outputs["awsAppsyncApiEndpoint"]
    assert document["storage"]["bucket_name"] == outputs["bucketName"]
    assert document["auth"]["user_pool_id"] == outputs["userPoolId"]
    todo = document["data"]["model_introspection"]["models"]["Todo"]
    assert todo["fields"]["priority"]["type"] == {"enum": "TodoPriority"}
    assert todo["primaryKeyInfo"]["primaryKeyFieldName"] == "id"
    assert document["data"]["model_introspection"]["enums"]["TodoPriority"]["values"] == ["low", "medium", "high"]
    assert todo["fields"]["project"]["association"] == {"connectionType": "BELONGS_TO", "targetNames": ["projectId"]}
    # The models' @auth rules, with the operations the real generator fills in.
    assert todo["attributes"] == [
        {"type": "model", "properties": {}},
        {"type": "auth", "properties": {"rules": [{"allow": "private", "operations": ["create", "update", "delete", "read"]}]}},
    ]
    # The auth section as the real generator builds it from those outputs.
    assert document["auth"]["mfa_methods"] == document["auth"]["groups"] == []
    assert document["auth"]["mfa_configuration"] == "NONE"
    validate_outputs(document)
    # What a build captures: the console's own check of the file, and its reading of the models.
    parsed = parse_outputs(json.dumps(document))
    schema = schema_from_introspection(parsed["data"]["model_introspection"])
    assert sorted(m.name for m in schema.models) == sorted(MODELS)


def test_pipeline_deploy_twice_is_harmless(
    aws: Any, project: Path, aws_env: dict[str, str], branch_stack: dict[str, Any]
) -> None:
    before = stack_outputs(branch_stack)
    pools_before = user_pool_ids(aws)

    again = run_standin(project, aws_env, "pipeline-deploy", "--branch", BRANCH, "--app-id", APP_ID, "--outputs-version", "1.5")
    assert again.returncode == 0, again.stderr

    assert live_stack_names(aws).count(BRANCH_STACK) == 1
    after = stack_outputs(aws("cloudformation").describe_stacks(StackName=BRANCH_STACK)["Stacks"][0])
    assert after == before
    tables = aws("dynamodb").list_tables()["TableNames"]
    assert [t for t in tables if t.startswith("Todo-")] == [f"Todo-{before['awsAppsyncApiId']}-NONE"]
    assert user_pool_ids(aws) == pools_before
    apis = aws("appsync").list_graphql_apis()["graphqlApis"]
    assert [a["name"] for a in apis].count(BRANCH_STACK) == 1
    document = read_outputs_file(project)
    assert document["version"] == "1.5"
    validate_outputs(document)


def test_sandbox_deploy_and_delete(aws: Any, project: Path, aws_env: dict[str, str], branch_stack: dict[str, Any]) -> None:
    stack = load_standin().stack_name("todo-app", "alice", "sandbox")
    assert stack.startswith("amplify-todoapp-alice-sandbox-")

    deployed = run_standin(project, aws_env, "sandbox", "--identifier", "alice")
    assert deployed.returncode == 0, deployed.stderr
    sandbox = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert stack_tags(sandbox) == SANDBOX_TAGS
    outputs = stack_outputs(sandbox)
    assert outputs["deploymentType"] == "sandbox"
    aws("dynamodb").describe_table(TableName=f"Todo-{outputs['awsAppsyncApiId']}-NONE")
    # A file in the bucket must not block the delete.
    aws("s3").put_object(Bucket=outputs["bucketName"], Key="media/note.txt", Body=b"hello")

    deleted = run_standin(project, aws_env, "sandbox", "delete", "--identifier", "alice", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert stack not in live_stack_names(aws)
    assert outputs["userPoolId"] not in user_pool_ids(aws)
    assert f"Todo-{outputs['awsAppsyncApiId']}-NONE" not in aws("dynamodb").list_tables()["TableNames"]
    buckets = {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
    assert outputs["bucketName"] not in buckets
    # The branch backend is untouched.
    assert BRANCH_STACK in live_stack_names(aws)

    again = run_standin(project, aws_env, "sandbox", "delete", "--identifier", "alice", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to delete" in again.stdout


def test_sandbox_delete_needs_confirmation(project: Path, aws_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "tools/ampx_standin.py", "sandbox", "delete", "--identifier", "bob"],
        cwd=project,
        env=aws_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "--yes" in result.stderr


def test_aws_error_is_one_clear_line(project: Path, aws_env: dict[str, str]) -> None:
    env = {**aws_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    result = run_standin(project, env, "pipeline-deploy", "--branch", "dev", "--app-id", APP_ID)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[Error] ")
    assert "Traceback" not in result.stderr
    assert EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in result.stderr


def test_empty_branch_is_refused(project: Path, aws_env: dict[str, str]) -> None:
    # What `--branch "$AWS_BRANCH"` becomes when the variable is unset.
    result = run_standin(project, aws_env, "pipeline-deploy", "--branch", "", "--app-id", APP_ID)
    assert result.returncode != 0
    assert "AWS_BRANCH" in result.stderr
