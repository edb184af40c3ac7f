"""The branch's buckets: from its outputs (friendly names, paths), and added by an admin
after their name is checked and HeadBucket finds them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.storage.buckets import bucket_name_problem, outputs_buckets
from apps.storage.models import ExtraBucket
from apps.storage.tests.conftest import BUCKET, FRIENDLY, outputs_with_storage, url
from console.models import AuditEvent


def test_outputs_buckets_put_the_default_first_with_friendly_names_and_paths() -> None:
    outputs = outputs_with_storage()
    outputs["storage"]["buckets"].insert(0, {"name": "archive", "bucket_name": "archive-bucket", "aws_region": "eu-west-1",
                                             "paths": {"old/{entity_id}/*": {"entityidentity": ["get"]}}})  # fmt: skip
    first, second = outputs_buckets(outputs)
    assert (first.name, first.label, first.default, first.region) == (BUCKET, FRIENDLY, True, "us-east-1")
    assert [p.pattern for p in first.paths] == ["media/*"]
    assert first.paths[0].folder == "media/"
    assert first.paths[0].rules == (("authenticated", "get, list, write, delete"), ("guest", "get, list"))
    assert (second.name, second.region, second.default) == ("archive-bucket", "eu-west-1", False)
    assert second.paths[0].folder == "old/"


def test_outputs_with_only_a_default_bucket() -> None:
    [only] = outputs_buckets({"version": "1", "storage": {"aws_region": "us-east-2", "bucket_name": "plain-bucket"}})
    assert (only.name, only.label, only.region, only.paths) == ("plain-bucket", "plain-bucket", "us-east-2", ())
    assert outputs_buckets({"version": "1"}) == []
    assert outputs_buckets(None) == []


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "Upper-case", "under_score", "-leading", "trailing-", "two..dots", "dot.-dash", "192.168.1.1",
     "xn--punycode", "name-s3alias"],
)  # fmt: skip
def test_bad_bucket_names_are_refused(name: str) -> None:
    assert bucket_name_problem(name)


def test_good_bucket_names_pass() -> None:
    assert bucket_name_problem("my-bucket.example-1") == ""


def test_an_admin_adds_an_existing_bucket(admin_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket="legacy-uploads", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    response = admin_client.post(url("storage_bucket_add", branch), {"name": " legacy-uploads ", "region": "us-east-1"},
                                 follow=True)  # fmt: skip
    assert "Bucket legacy-uploads added to main." in [str(m) for m in response.context["messages"]]
    extra = ExtraBucket.objects.get()
    assert (extra.name, extra.region, extra.added_by.username) == ("legacy-uploads", "eu-west-1", "ada")  # type: ignore[union-attr]
    page = admin_client.get(url("storage_home", branch)).content.decode()
    assert "legacy-uploads" in page
    assert "Remove from this list" in page
    assert admin_client.get(f"/apps/{branch.app.app_id}/branches/main/storage/buckets/legacy-uploads/").status_code == 200
    event = AuditEvent.objects.get(action="storage.bucket_add")
    assert event.detail["region"] == "eu-west-1"


@pytest.mark.parametrize(
    ("name", "message"),
    [("no-such-bucket-here", "There is no bucket named no-such-bucket-here"), ("Bad_Name", "lowercase letters"),
     (BUCKET, "already one of this branch's buckets")],
)  # fmt: skip
def test_bad_or_missing_buckets_are_not_added(admin_client: Client, branch: Branch, bucket: str, name: str, message: str) -> None:
    response = admin_client.post(url("storage_bucket_add", branch), {"name": name, "region": "us-east-1"}, follow=True)
    [shown] = [str(m) for m in response.context["messages"]]
    assert shown.startswith("The bucket was not added:")
    assert message in shown
    assert not ExtraBucket.objects.exists()


def test_removing_an_added_bucket_keeps_its_files(admin_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket="legacy-uploads")
    s3.put_object(Bucket="legacy-uploads", Key="keep.txt", Body=b"x")
    extra = ExtraBucket.objects.create(branch=branch, name="legacy-uploads", region="us-east-1")
    admin_client.post(f"/apps/{branch.app.app_id}/branches/main/storage/added/{extra.pk}/remove/")
    assert not ExtraBucket.objects.exists()
    assert s3.list_objects_v2(Bucket="legacy-uploads")["KeyCount"] == 1
    assert admin_client.get(f"/apps/{branch.app.app_id}/branches/main/storage/buckets/legacy-uploads/").status_code == 404


def test_a_branch_without_outputs_can_still_browse_an_added_bucket(viewer_client: Client, branch: Branch, s3: Any) -> None:
    branch.backend_outputs = None
    branch.save()
    s3.create_bucket(Bucket="legacy-uploads")
    ExtraBucket.objects.create(branch=branch, name="legacy-uploads", region="us-east-1")
    page = viewer_client.get(url("storage_home", branch)).content.decode()
    assert "No storage for this branch yet" not in page
    assert "legacy-uploads" in page
    assert "Remove from this list" not in page  # viewers
