"""Deletions recorded on sandbox rows before they were progress tasks survive the migration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = [("sandboxes", "0001_initial")], [("sandboxes", "0002_deletion_progress_task")]


@pytest.mark.django_db(transaction=True)
def test_each_recorded_deletion_becomes_a_sandbox_deletion(admin_user: Any) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("sandboxes", "Sandbox")
    asked_at = timezone.now() - timedelta(hours=2)

    def row(identifier: str, **deletion: object) -> int:
        return old.objects.create(
            stack_id=f"arn:{identifier}", stack_name=f"amplify-shop-{identifier}-sandbox-0123456789", region="us-east-1",
            namespace="shop", identifier=identifier, backend_hash="0123456789", status="DEPLOYED", stack_status="x",
            **deletion,
        ).pk  # fmt: skip

    failed = row(
        "ada", deletion="FAILED", deletion_reason="Bucket is not empty", deletion_with_secrets=True,
        deletion_requested_at=asked_at, deletion_requested_by_id=admin_user.pk, deletion_requested_by_name="admin",
    )  # fmt: skip
    waiting = row("bob", deletion="REQUESTED", deletion_requested_by_name="retention policy")
    untouched = row("cy")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    from apps.sandboxes.models import Sandbox, SandboxDeletion

    ada = SandboxDeletion.objects.get(sandbox_id=failed)
    assert (ada.status, ada.error, ada.with_secrets, ada.created_by_id) == ("FAILED", "Bucket is not empty", True, admin_user.pk)
    assert (ada.requested_by_name, ada.created_at, ada.finished_at is not None) == ("admin", asked_at, True)
    bob = SandboxDeletion.objects.get(sandbox_id=waiting)
    assert (bob.status, bob.requested_by_name, bob.finished_at) == ("PENDING", "retention policy", None)
    assert Sandbox.objects.get(pk=untouched).deletion_status == ""
    assert Sandbox.objects.get(pk=waiting).deletion_active
