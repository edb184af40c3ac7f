"""What a build's amplify_outputs.json names is the branch's only when the branch's own
stack owns it: a preview naming production's bucket or user pool cannot be browsed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.test import Client

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.tests.builds import build, log_of, make_app, preview_branch
from console.amplify_names import branch_stack_name
from console.aws import aws_client
from console.models import AuditEvent

MAIN_BUCKET, MAIN_POOL = "shop-main-storage", "us-east-1_MainPool1"
OUTPUTS = {
    "version": "1.4",
    "storage": {"aws_region": "us-east-1", "bucket_name": MAIN_BUCKET},
    "auth": {"aws_region": "us-east-1", "user_pool_id": MAIN_POOL, "user_pool_client_id": "client"},
}
# The backend phase writes outputs naming main's bucket and pool, whichever branch builds.
SPEC = "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n        - cp outputs.json amplify_outputs.json\n"
FILES = {"outputs.json": json.dumps(OUTPUTS)}


def deploy_stack(branch: Branch, *, bucket: str, pool: str = "", tag_branch: str | None = None) -> None:
    """The branch's root stack as `ampx pipeline-deploy` leaves it: its bucket, outputs and tags."""
    outputs: dict[str, Any] = {"bucketName": {"Value": {"Ref": "Storage"}}}
    if pool:
        outputs["userPoolId"] = {"Value": pool}
    template = {"Resources": {"Storage": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}}, "Outputs": outputs}
    tags = {"created-by": "amplify", "amplify:app-id": branch.app.app_id, "amplify:branch-name": tag_branch or branch.name}
    aws_client("cloudformation").create_stack(
        StackName=branch_stack_name(branch.app.app_id, branch.name),
        TemplateBody=json.dumps(template),
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def _app_with_main_deployed(make_repo: Callable[..., Path]) -> App:
    app = make_app(make_repo, SPEC, FILES)
    deploy_stack(app.branches.get(name="main"), bucket=MAIN_BUCKET, pool=MAIN_POOL)
    return app


def test_outputs_the_branchs_stack_owns_are_used(db: None, make_repo: Callable[..., Path], operator_client: Client) -> None:
    app = _app_with_main_deployed(make_repo)
    job = build(app)
    assert job.status == Job.Status.SUCCEED, job.status_reason
    main = app.branches.get(name="main")
    assert main.backend_outputs_unowned == []
    assert f"belongs to the branch's stack {main.backend_stack_name}" in log_of(job)
    browse = operator_client.get(f"/apps/{app.app_id}/branches/main/storage/buckets/{MAIN_BUCKET}/")
    assert browse.status_code == 200


def test_a_preview_naming_mains_bucket_and_pool_cannot_browse_them(
    db: None, make_repo: Callable[..., Path], operator_client: Client, admin_client: Client
) -> None:
    app = _app_with_main_deployed(make_repo)
    preview = preview_branch(app, 7, "dev", from_fork=False)
    job = build(app, "pr-7")
    assert job.status == Job.Status.SUCCEED, job.status_reason
    preview.refresh_from_db()
    refused = [(e["kind"], e["name"]) for e in preview.backend_outputs_unowned]
    assert refused == [("bucket", MAIN_BUCKET), ("user pool", MAIN_POOL)]
    log = log_of(job)
    assert f"names the bucket {MAIN_BUCKET}, but the branch has no deployed stack {preview.backend_stack_name}" in log

    browse = operator_client.get(f"/apps/{app.app_id}/branches/pr-7/storage/buckets/{MAIN_BUCKET}/")
    assert browse.status_code == 403
    assert f"pr-7&#x27;s amplify_outputs.json names the bucket {MAIN_BUCKET}" in browse.content.decode()
    delete = operator_client.post(f"/apps/{app.app_id}/branches/pr-7/storage/buckets/{MAIN_BUCKET}/delete/", {"keys": "a.txt"})
    assert delete.status_code == 403
    home = operator_client.get(f"/apps/{app.app_id}/branches/pr-7/storage/").content.decode()
    assert "not the branch's</span>" in home
    assert f"/storage/buckets/{MAIN_BUCKET}/" not in home  # no link to open it
    users = operator_client.get(f"/apps/{app.app_id}/branches/pr-7/users/")
    assert users.status_code == 403
    assert f"names the user pool {MAIN_POOL}" in users.content.decode()

    # An admin who means it adds the bucket by hand: allowed, and audited.
    added = admin_client.post(
        f"/apps/{app.app_id}/branches/pr-7/storage/add-bucket/", {"name": MAIN_BUCKET, "region": "us-east-1"}
    )
    assert added.status_code == 302
    assert AuditEvent.objects.filter(action="storage.bucket_add", target__contains=MAIN_BUCKET).exists()
    assert operator_client.get(f"/apps/{app.app_id}/branches/pr-7/storage/buckets/{MAIN_BUCKET}/").status_code == 200


def test_a_stack_tagged_for_another_branch_owns_nothing_of_this_one(
    db: None, make_repo: Callable[..., Path], operator_client: Client
) -> None:
    app = make_app(make_repo, SPEC, FILES)
    dev = app.branches.create(name="dev", display_name="dev")
    deploy_stack(dev, bucket=MAIN_BUCKET, tag_branch="main")  # named for dev, tagged as main's
    build(app, "dev")
    dev.refresh_from_db()
    reason = dev.backend_outputs_unowned[0]["reason"]
    assert reason.endswith("is not tagged as this branch's (amplify:app-id, amplify:branch-name)")
    assert operator_client.get(f"/apps/{app.app_id}/branches/dev/storage/buckets/{MAIN_BUCKET}/").status_code == 403
