"""The sweep lists preview stacks whose pull request is gone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import boto3
from django.test import Client

from apps.branches import services
from apps.branches.models import Branch
from apps.gitops.sweep import orphaned_preview_stacks, sweep_app
from console.amplify_names import branch_stack_name, sandbox_stack_name

TEMPLATE = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'


def test_preview_stacks_without_a_preview_are_listed(db: None, make_repo: Callable[..., Path], viewer_client: Client) -> None:
    app = services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    Branch.objects.create(app=app, name="pr-1", display_name="pr-1", stage="PULL_REQUEST", pull_request_number=1)
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    for name in (
        branch_stack_name(app.app_id, "pr-1"),  # open preview: fine
        branch_stack_name(app.app_id, "pr-2"),  # left behind
        branch_stack_name(app.app_id, "main"),  # a branch, not a preview
        branch_stack_name("dother0000000", "pr-3"),  # another app
        sandbox_stack_name("shop", "pr4"),  # a sandbox
    ):
        cloudformation.create_stack(StackName=name, TemplateBody=TEMPLATE)
    assert orphaned_preview_stacks(app) is None
    found = sweep_app(app)
    assert [(o.stack_name, o.pull_request, o.status) for o in found] == [
        (branch_stack_name(app.app_id, "pr-2"), "2", "CREATE_COMPLETE")
    ]
    assert orphaned_preview_stacks(app) == found
    assert branch_stack_name(app.app_id, "pr-2") in viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()
