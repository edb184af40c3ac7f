"""No field is dropped silently: each one the API used to accept and drop is now kept
(customHeaders, iamServiceRoleArn, tags, the cacheConfig and jobConfig the console has) or
refused with BadRequest and its reason, with nothing written; tags are listed, added and
removed by ARN; a body member the operation does not have is refused by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from apps.amplify_api.models import ResourceTag
from apps.amplify_api.protocol import ApiError, matches, parse_input
from apps.amplify_api.tests.conftest import assert_valid_output, error_code
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job
from console.models import AuditEvent

HEADERS = "customHeaders:\n  - pattern: '**/*'\n    headers:\n      - key: X-Frame-Options\n        value: DENY\n"
ROLE = "arn:aws:iam::123456789012:role/amplify-build"


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(("main", "dev"))


@pytest.fixture
def app_id(admin_api: Any, repo: Path) -> str:
    return str(admin_api.create_app(name="Site", repository=str(repo))["app"]["appId"])


def refused(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as error:
        call(**params)
    assert error_code(error) == ("BadRequestException", 400)
    return str(error.value.response["Error"]["Message"])


# --- kept -----------------------------------------------------------------------------------


def test_custom_headers_are_kept_and_given_back(admin_api: Any, repo: Path) -> None:
    created = admin_api.create_app(name="Site", repository=str(repo), customHeaders=HEADERS)["app"]
    assert created["customHeaders"] == HEADERS
    assert admin_api.get_app(appId=created["appId"])["app"]["customHeaders"] == HEADERS
    changed = HEADERS.replace("DENY", "SAMEORIGIN")
    assert admin_api.update_app(appId=created["appId"], customHeaders=changed)["app"]["customHeaders"] == changed


def test_the_service_role_is_kept_and_a_bad_one_refused(admin_api: Any, repo: Path) -> None:
    created = admin_api.create_app(name="Site", repository=str(repo), iamServiceRoleArn=ROLE)["app"]
    assert created["iamServiceRoleArn"] == ROLE
    assert App.objects.get(app_id=created["appId"]).service_role_arn == ROLE
    message = refused(admin_api.update_app, appId=created["appId"], iamServiceRoleArn="arn:aws:iam::123456789012:user/x")
    assert message.startswith("iamServiceRoleArn: ")
    assert App.objects.get(app_id=created["appId"]).service_role_arn == ROLE


def test_tags_of_create_app_and_create_branch_are_kept_and_listed(admin_api: Any, repo: Path) -> None:
    app = admin_api.create_app(name="Site", repository=str(repo), tags={"team": "web", "cost-centre": "42"})["app"]
    assert app["tags"] == {"team": "web", "cost-centre": "42"}
    branch = admin_api.create_branch(appId=app["appId"], branchName="dev", tags={"env": "dev"})["branch"]
    assert branch["tags"] == {"env": "dev"}
    assert admin_api.get_app(appId=app["appId"])["app"]["tags"] == {"team": "web", "cost-centre": "42"}
    assert admin_api.get_branch(appId=app["appId"], branchName="dev")["branch"]["tags"] == {"env": "dev"}
    assert admin_api.list_tags_for_resource(resourceArn=app["appArn"])["tags"] == {"team": "web", "cost-centre": "42"}
    assert admin_api.list_tags_for_resource(resourceArn=branch["branchArn"])["tags"] == {"env": "dev"}


def test_tag_and_untag_resource_change_only_the_named_tags(admin_api: Any, viewer_api: Any, app_id: str) -> None:
    arn = admin_api.get_app(appId=app_id)["app"]["appArn"]
    assert_valid_output(admin_api, "TagResource", admin_api.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"}))
    admin_api.tag_resource(resourceArn=arn, tags={"b": "two", "c": "3"})
    listed = viewer_api.list_tags_for_resource(resourceArn=arn)
    assert_valid_output(viewer_api, "ListTagsForResource", listed)
    assert listed["tags"] == {"a": "1", "b": "two", "c": "3"}
    admin_api.untag_resource(resourceArn=arn, tagKeys=["a", "c", "never-set"])
    assert viewer_api.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "two"}
    assert list(AuditEvent.objects.filter(action__startswith="tags.").values_list("action", flat=True).order_by("pk")) == [
        "tags.set",
        "tags.set",
        "tags.remove",
    ]


def test_a_branch_with_a_slash_is_tagged_by_its_arn(admin_api: Any, repo: Path, make_repo: Callable[..., Path]) -> None:
    bare = make_repo(("main", "feature/login"))
    app = admin_api.create_app(name="Site", repository=str(bare))["app"]
    branch = admin_api.create_branch(appId=app["appId"], branchName="feature/login")["branch"]
    admin_api.tag_resource(resourceArn=branch["branchArn"], tags={"owner": "alice"})
    assert admin_api.list_tags_for_resource(resourceArn=branch["branchArn"])["tags"] == {"owner": "alice"}
    assert ResourceTag.objects.get().branch == Branch.objects.get(name="feature/login")


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"aws:owner": "x"}, "tags key: 'aws:owner' does not match"),  # the model's key pattern
        ({"k": "v" * 257}, "at most 256"),
        ({"k" * 129: "v"}, "at most 128 characters"),  # botocore's own length check, answered by the console
        ({"k": "semi;colon"}, "use letters, digits, spaces"),
        ({f"k{n}": "v" for n in range(51)}, "at most 50 entries"),
    ],
)
def test_tags_past_aws_limits_are_refused_and_nothing_is_written(
    admin_api: Any, app_id: str, tags: dict[str, str], reason: str
) -> None:
    arn = admin_api.get_app(appId=app_id)["app"]["appArn"]
    with pytest.raises(ClientError) as error:
        admin_api.tag_resource(resourceArn=arn, tags=tags)
    assert error_code(error) == ("BadRequestException", 400)
    assert reason in error.value.response["Error"]["Message"]
    assert not ResourceTag.objects.exists()


def test_tagging_past_50_in_all_is_refused(admin_api: Any, app_id: str) -> None:
    arn = admin_api.get_app(appId=app_id)["app"]["appArn"]
    admin_api.tag_resource(resourceArn=arn, tags={f"k{n}": "v" for n in range(40)})
    message = refused(admin_api.tag_resource, resourceArn=arn, tags={f"x{n}": "v" for n in range(11)})
    assert "at most 50 tags; this would make 51" in message
    assert ResourceTag.objects.count() == 40


def test_a_bad_tag_on_create_app_creates_no_app(admin_api: Any, repo: Path) -> None:
    refused(admin_api.create_app, name="Site", repository=str(repo), tags={"aws:x": "y"})
    assert not App.objects.exists()


def test_tags_of_unknown_or_untaggable_resources(admin_api: Any, app_id: str) -> None:
    with pytest.raises(ClientError) as error:
        admin_api.list_tags_for_resource(resourceArn="arn:aws:amplify:us-east-1:000000000000:apps/dnosuchapp")
    assert error_code(error) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as error:
        admin_api.tag_resource(resourceArn=f"arn:aws:amplify:us-east-1:000000000000:apps/{app_id}/branches/nope", tags={"a": "b"})
    assert error_code(error) == ("ResourceNotFoundException", 404)
    webhook_arn = f"arn:aws:amplify:us-east-1:000000000000:apps/{app_id}/webhooks/abc"
    assert "only apps and branches can be tagged" in refused(admin_api.list_tags_for_resource, resourceArn=webhook_arn)


def test_viewers_and_operators_cannot_tag(viewer_api: Any, operator_api: Any, admin_api: Any, app_id: str) -> None:
    arn = admin_api.get_app(appId=app_id)["app"]["appArn"]
    for api in (viewer_api, operator_api):
        with pytest.raises(ClientError) as error:
            api.tag_resource(resourceArn=arn, tags={"a": "b"})
        assert error_code(error)[0] == "UnauthorizedException"
        with pytest.raises(ClientError) as error:
            api.untag_resource(resourceArn=arn, tagKeys=["a"])
        assert error_code(error)[0] == "UnauthorizedException"
    assert not ResourceTag.objects.exists()


def test_the_cache_and_job_config_the_console_has_are_accepted_and_given_back(admin_api: Any, repo: Path) -> None:
    app = admin_api.create_app(
        name="Site",
        repository=str(repo),
        cacheConfig={"type": "AMPLIFY_MANAGED_NO_COOKIES"},
        jobConfig={"buildComputeType": "STANDARD_8GB"},
    )["app"]
    assert (app["cacheConfig"], app["jobConfig"]) == (
        {"type": "AMPLIFY_MANAGED_NO_COOKIES"},
        {"buildComputeType": "STANDARD_8GB"},
    )


# --- refused ----------------------------------------------------------------------------------


def test_cache_config_that_keys_on_cookies_is_refused(admin_api: Any, app_id: str) -> None:
    message = refused(admin_api.update_app, appId=app_id, name="Renamed", cacheConfig={"type": "AMPLIFY_MANAGED"})
    assert message.startswith("cacheConfig: AMPLIFY_MANAGED is not supported: the console's hosting never caches by cookie")
    assert App.objects.get(app_id=app_id).name == "Site"


@pytest.mark.parametrize("size", ["LARGE_16GB", "XLARGE_72GB"])
def test_a_bigger_build_instance_is_refused(admin_api: Any, repo: Path, size: str) -> None:
    message = refused(admin_api.create_app, name="Site", repository=str(repo), jobConfig={"buildComputeType": size})
    assert message.startswith(f"jobConfig: {size} is not supported: every build here gets the limits")
    assert "BUILD_MEMORY_LIMIT_MB" in message
    assert not App.objects.exists()


def test_enable_notification_is_refused_on_and_accepted_off(admin_api: Any, app_id: str) -> None:
    message = refused(admin_api.create_branch, appId=app_id, branchName="dev", enableNotification=True)
    assert message.startswith("enableNotification: not supported by this console: build notifications are subscriptions")
    assert not Branch.objects.exists()
    branch = admin_api.create_branch(appId=app_id, branchName="dev", enableNotification=False)["branch"]
    assert branch["enableNotification"] is False
    refused(admin_api.update_branch, appId=app_id, branchName="dev", enableNotification=True, description="x")
    assert Branch.objects.get(name="dev").description == ""


@pytest.mark.parametrize(
    ("operation", "params", "field"),
    [
        ("create_app", {"oauthToken": "gho_x"}, "oauthToken"),
        ("create_app", {"computeRoleArn": ROLE}, "computeRoleArn"),
        (
            "create_app",
            {"autoBranchCreationConfig": {"stage": "BETA", "framework": "React"}},
            "autoBranchCreationConfig.framework",
        ),
        ("create_branch", {"branchName": "dev", "buildSpec": "version: 1"}, "buildSpec"),
        ("create_branch", {"branchName": "dev", "enableSkewProtection": True}, "enableSkewProtection"),
    ],
)
def test_other_settings_the_console_cannot_honour_are_refused_by_name(
    admin_api: Any, repo: Path, app_id: str, operation: str, params: dict[str, Any], field: str
) -> None:
    base = {"name": "Other", "repository": str(repo)} if operation == "create_app" else {"appId": app_id}
    message = refused(getattr(admin_api, operation), **base, **params)
    assert message.startswith(f"{field}: not supported")
    assert (App.objects.count(), Branch.objects.count()) == (1, 0)


def test_an_unknown_body_field_is_refused_by_name() -> None:
    match = next(matches("POST", "/apps", raw=True))
    with pytest.raises(ApiError) as raised:
        parse_input(match, "", json.dumps({"name": "Site", "enableTurbo": True, "tag": {"a": "b"}}).encode())
    assert raised.value.code == "BadRequestException"
    assert raised.value.message.startswith("Unknown fields enableTurbo, tag: this operation takes accessToken, ")


def test_a_path_member_sent_in_the_body_is_refused() -> None:
    match = next(matches("POST", "/apps/d1/branches", raw=True))
    with pytest.raises(ApiError) as raised:
        parse_input(match, "", json.dumps({"branchName": "dev", "appId": "d2"}).encode())
    assert raised.value.message.startswith("Unknown field appId: ")


def test_a_skipped_job_reads_as_cancelled_with_its_reason(admin_api: Any, app_id: str) -> None:
    admin_api.create_branch(appId=app_id, branchName="main")
    branch = Branch.objects.get(name="main")
    reason = "Skipped: the head commit's message contains [skip-cd]."
    jobs.job_start(
        branch=branch, job_type=Job.Type.RELEASE, triggered_by="push", commit_id="a" * 40, automatic=True, skip_reason=reason
    )
    summary = admin_api.list_jobs(appId=app_id, branchName="main")["jobSummaries"][0]
    assert summary["status"] == "CANCELLED"
    job = admin_api.get_job(appId=app_id, branchName="main", jobId="1")
    assert_valid_output(admin_api, "GetJob", job)
    assert job["job"]["summary"]["status"] == "CANCELLED"
    assert {step["stepName"]: (step["status"], step["statusReason"]) for step in job["job"]["steps"]} == {
        "BUILD": ("CANCELLED", reason),
        "DEPLOY": ("CANCELLED", reason),
        "VERIFY": ("CANCELLED", reason),
    }


def test_start_job_keeps_the_commit_it_is_given_until_the_build_reads_the_commit_itself(
    admin_api: Any, app_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_api.create_branch(appId=app_id, branchName="main")
    monkeypatch.setattr(jobs, "_queue_branch", lambda branch_pk: None)  # the job stays PENDING
    when = datetime(2026, 11, 30, 14, 5, 6, tzinfo=UTC)
    started = admin_api.start_job(
        appId=app_id, branchName="main", jobType="RELEASE", commitId="c" * 40, commitMessage="Ship it", commitTime=when
    )
    assert started["jobSummary"]["commitTime"] == when
    job = Job.objects.get(branch__app__app_id=app_id, job_id=1)
    assert (job.status, job.commit_id, job.commit_message, job.commit_time) == (Job.Status.PENDING, "c" * 40, "Ship it", when)
    summary = admin_api.get_job(appId=app_id, branchName="main", jobId="1")["job"]["summary"]
    assert (summary["commitId"], summary["commitMessage"], summary["commitTime"]) == ("c" * 40, "Ship it", when)
