"""The emulator's stack-state hook (console.emulator_server), over real HTTP: it
changes what CloudFormation's API says about a stack, refuses bad input, and
leaves moto's own API alone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import boto3
import pytest

from console.emulator import EMULATOR_CREDENTIALS, Emulator, EmulatorError, set_stack_state
from console.emulator_server import STACK_STATE_PATH

pytestmark = pytest.mark.emulator

REGION = "eu-west-1"
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
REASON = "The following resource(s) failed to update: [data7552DF31]."


@pytest.fixture
def cloudformation(emulator: Emulator) -> Any:
    emulator.reset()
    return boto3.client(
        "cloudformation",
        endpoint_url=emulator.endpoint_url,
        region_name=REGION,
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def post(emulator: Emulator, body: bytes, method: str = "POST") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{emulator.endpoint_url}{STACK_STATE_PATH}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_status_reason_and_times_change_as_describe_stacks_sees_them(emulator: Emulator, cloudformation: Any) -> None:
    stack_id = cloudformation.create_stack(StackName="demo-stack", TemplateBody=TEMPLATE)["StackId"]
    before = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert before["StackStatus"] == "CREATE_COMPLETE"
    assert "StackStatusReason" not in before

    state = emulator.set_stack_state(
        region=REGION, stack_name="demo-stack", status="UPDATE_ROLLBACK_COMPLETE", reason=REASON,
        created_days_ago=60, updated_days_ago=45,
    )  # fmt: skip

    assert (state["stack_id"], state["status"], state["reason"]) == (stack_id, "UPDATE_ROLLBACK_COMPLETE", REASON)
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    # Measured from the stack's first CreationTime: moto's naive times read the same way.
    created = before["CreationTime"]
    assert (stack["StackStatus"], stack["StackStatusReason"]) == ("UPDATE_ROLLBACK_COMPLETE", REASON)
    assert abs(stack["CreationTime"] - (created - timedelta(days=60))) < timedelta(minutes=1)
    assert abs(stack["LastUpdatedTime"] - (created - timedelta(days=45))) < timedelta(minutes=1)
    listed = cloudformation.list_stacks()["StackSummaries"]
    assert [(s["StackName"], s["StackStatus"]) for s in listed] == [("demo-stack", "UPDATE_ROLLBACK_COMPLETE")]

    # By stack id too, one field at a time; the others stay as they were.
    set_stack_state(emulator.endpoint_url, region=REGION, stack_name=stack_id, updated_days_ago=0)
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert abs(stack["LastUpdatedTime"] - created) < timedelta(minutes=1)
    assert abs(stack["CreationTime"] - (created - timedelta(days=60))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"stack_name": "demo-stack", "status": "CREATE_FAILED"}', "region must be a non-empty string"),
        (b'{"region": "eu-west-1", "status": "CREATE_FAILED"}', "stack_name must be a non-empty string"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack"}', "Nothing to set"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "status": "BROKEN"}', "not a CloudFormation stack status"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "status": "DELETE_COMPLETE"}', "not a CloudFormation"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "updated_days_ago": "45"}', "updated_days_ago must be a number"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "created_days_ago": -1}', "created_days_ago must be a number"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "updated_days_ago": true}', "updated_days_ago must be a number"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "reason": 7}', "reason must be a string"),
        (b'{"region": "eu-west-1", "stack_name": "demo-stack", "stauts": "CREATE_FAILED"}', "Unknown fields: stauts"),
        (b'{"region": "mars-north-1", "stack_name": "demo-stack", "status": "CREATE_FAILED"}', "Unknown region"),
    ],
)
def test_bad_input_is_refused_with_400_and_changes_nothing(
    emulator: Emulator, cloudformation: Any, body: bytes, message: str
) -> None:
    cloudformation.create_stack(StackName="demo-stack", TemplateBody=TEMPLATE)
    status, answer = post(emulator, body)
    assert status == 400, answer
    assert message in answer["error"]
    assert cloudformation.describe_stacks(StackName="demo-stack")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_unknown_stack_is_404_and_the_client_says_so(emulator: Emulator, cloudformation: Any) -> None:
    status, answer = post(emulator, b'{"region": "eu-west-1", "stack_name": "no-such-stack", "status": "CREATE_FAILED"}')
    assert (status, answer) == (404, {"error": "No live stack 'no-such-stack' in eu-west-1."})
    with pytest.raises(EmulatorError, match=r"\(404\): No live stack 'no-such-stack'"):
        emulator.set_stack_state(region=REGION, stack_name="no-such-stack", status="CREATE_FAILED")


def test_only_post_is_allowed(emulator: Emulator) -> None:
    status, answer = post(emulator, b"", method="GET")
    assert status == 405
    assert "Use POST" in answer["error"]


def test_moto_api_still_works_behind_the_hook(emulator: Emulator, cloudformation: Any) -> None:
    cloudformation.create_stack(StackName="demo-stack", TemplateBody=TEMPLATE)
    s3 = boto3.client(
        "s3",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="hook-test-bucket")
    s3.put_object(Bucket="hook-test-bucket", Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket="hook-test-bucket", Key="a.txt")["Body"].read() == b"hello"
    with urllib.request.urlopen(f"{emulator.endpoint_url}/moto-api/data.json", timeout=10) as response:
        assert response.status == 200

    emulator.reset()  # moto's own /moto-api/reset

    assert cloudformation.list_stacks()["StackSummaries"] == []
    assert s3.list_buckets()["Buckets"] == []


# --- GetTemplateSummary's Metadata, as JSON text (console.emulator_server.fix_moto)

AMPLIFY_METADATA = {
    "AWS::Amplify::Platform": {"version": "1", "stackOutputs": ["deploymentType", "region"]},
    "AWS::Amplify::Auth": {"version": "1", "stackOutputs": ["userPoolId", "authRegion"]},
}
TEMPLATE_WITH_METADATA = json.dumps(
    {
        "Metadata": AMPLIFY_METADATA,
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"region": {"Value": {"Ref": "AWS::Region"}}},
    }
)


def summary_metadata(endpoint_url: str) -> str:
    client = boto3.client(
        "cloudformation",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_stack(StackName="amplify-stack", TemplateBody=TEMPLATE_WITH_METADATA)
    metadata = client.get_template_summary(StackName="amplify-stack")["Metadata"]
    assert isinstance(metadata, str)
    return metadata


def test_template_summary_metadata_is_json_as_cloudformation_answers_it(cloudformation: Any, emulator: Emulator) -> None:
    assert json.loads(summary_metadata(emulator.endpoint_url)) == AMPLIFY_METADATA
    # By the template body too (no stack), and a template without Metadata has none.
    by_body = cloudformation.get_template_summary(TemplateBody=TEMPLATE_WITH_METADATA)
    assert json.loads(by_body["Metadata"]) == AMPLIFY_METADATA
    assert "Metadata" not in cloudformation.get_template_summary(TemplateBody=TEMPLATE)


def test_plain_moto_answers_a_python_repr_that_the_fix_replaces() -> None:
    """Why fix_moto exists: moto's own server fails the check above (when a moto release fixes
    this, this test says so and fix_moto can go)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        metadata = summary_metadata(f"http://{host}:{port}")
    finally:
        server.stop()
    with pytest.raises(json.JSONDecodeError):
        json.loads(metadata)
    assert metadata.startswith("{'AWS::Amplify::Platform'")
