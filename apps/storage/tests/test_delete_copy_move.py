"""Delete, copy and move of files and folders with nested folders: exactly the expected
keys are left, typed confirmation guards folders, failures are listed, big ones go to a worker."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.branches.models import Branch
from apps.storage import operations
from apps.storage import s3 as storage_s3
from apps.storage.keys import form_value
from apps.storage.models import StorageTask
from apps.storage.tests.conftest import all_keys, url
from console.models import AuditEvent

TREE = [
    "docs/",  # the folder's marker object
    "docs/a.txt",
    "docs/sub/",
    "docs/sub/b.txt",
    "docs/sub/deeper/c.txt",
    "docs/empty/",
    "other/keep.txt",
    "top.txt",
    "docs-sibling.txt",  # shares "docs" but is not inside the folder
]


@pytest.fixture
def tree(put: Callable[..., None]) -> list[str]:
    put(*TREE)
    return TREE


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data, follow=True)


# Delete


def test_deleting_a_folder_needs_the_typed_phrase_then_removes_everything_under_it(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str]
) -> None:
    data = {"prefix": "", "folders": form_value("docs/")}
    confirm_page = operator_client.post(url("storage_delete", branch), data)
    assert confirm_page.status_code == 200
    assert "Type <code>delete 6 objects</code>" in confirm_page.content.decode()
    assert all_keys(s3) == sorted(TREE)  # nothing deleted yet
    wrong = operator_client.post(url("storage_delete", branch), {**data, "confirm": "delete 5 objects"})
    assert wrong.status_code == 200
    assert all_keys(s3) == sorted(TREE)
    done = follow(operator_client, url("storage_delete", branch), {**data, "confirm": "delete 6 objects"})
    assert all_keys(s3) == ["docs-sibling.txt", "other/keep.txt", "top.txt"]
    assert "Deleted 6 objects." in messages_of(done)
    event = AuditEvent.objects.get(action="storage.delete")
    assert event.target == "shop-main-files/"
    assert event.detail["objects"] == 6
    assert event.detail["folders"] == ["docs/"]


def test_a_lone_folder_may_be_confirmed_by_its_name_and_empty_folders_go_too(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str]
) -> None:
    follow(operator_client, url("storage_delete", branch), {"prefix": form_value("docs/"), "folders": form_value("docs/empty/"),
                                                            "confirm": "empty"})  # fmt: skip
    assert "docs/empty/" not in all_keys(s3)
    assert len(all_keys(s3)) == len(TREE) - 1


def test_deleting_files_asks_once_without_typing(operator_client: Client, branch: Branch, s3: Any, tree: list[str]) -> None:
    data = {"keys": [form_value("top.txt"), form_value("other/keep.txt")]}
    page = operator_client.post(url("storage_delete", branch), data)
    assert page.status_code == 200
    assert 'name="confirmed" value="1"' in page.content.decode()
    follow(operator_client, url("storage_delete", branch), {**data, "confirmed": "1"})
    assert "top.txt" not in all_keys(s3)
    assert "other/keep.txt" not in all_keys(s3)


def test_partial_delete_failures_are_listed(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = storage_s3.delete_batch

    def refusing(bucket: str, region: str, keys: list[str]) -> list[tuple[str, str]]:
        kept = [k for k in keys if k.endswith("b.txt")]
        real(bucket, region, [k for k in keys if k not in kept])
        return [(k, "AccessDenied: Access Denied") for k in kept]

    monkeypatch.setattr(storage_s3, "delete_batch", refusing)
    done = follow(operator_client, url("storage_delete", branch), {"folders": form_value("docs/"), "confirm": "docs"})
    assert all_keys(s3, "docs/") == ["docs/sub/b.txt"]
    [message] = messages_of(done)
    assert message.startswith("Deleted 5 of 6 objects. 1 failed: docs/sub/b.txt (AccessDenied: Access Denied)")
    assert AuditEvent.objects.get(action="storage.delete").outcome == "failure"


def test_recursive_delete_goes_in_batches_of_1000(bucket: str, s3: Any, calls: Any) -> None:
    from apps.storage.buckets import Bucket

    for n in range(2100):
        s3.put_object(Bucket=bucket, Key=f"many/{n:05d}", Body=b"")
    outcome = operations.delete(Bucket(bucket, "us-east-1", bucket, "outputs"), operations.Selection(folders=("many/",)))
    assert outcome.done == 2100
    assert outcome.failed == 0
    assert calls.count("DeleteObjects") == 3
    assert all_keys(s3) == []


# Copy and move


def transfer(client: Client, branch: Branch, mode: str, dest: str, replace: bool = False, **selection: list[str]) -> Any:
    data: dict[str, Any] = {"mode": mode, "go": "typed", "dest": dest, **({"replace": "1"} if replace else {})}
    data["keys"] = [form_value(k) for k in selection.get("files", [])]
    data["folders"] = [form_value(f) for f in selection.get("folders", [])]
    return client.post(url("storage_transfer", branch), data, follow=True)


def test_copying_a_folder_with_nested_folders_leaves_exactly_the_expected_keys(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str]
) -> None:
    done = transfer(operator_client, branch, "copy", "other/", folders=["docs/"])
    copied = ["other/docs/", "other/docs/a.txt", "other/docs/empty/", "other/docs/sub/", "other/docs/sub/b.txt",
              "other/docs/sub/deeper/c.txt"]  # fmt: skip
    assert all_keys(s3) == sorted(TREE + copied)
    assert "Copied to other/: 6 objects." in messages_of(done)
    assert done.redirect_chain[-1][0].endswith("prefix=other%2F")


def test_moving_a_folder_and_a_file_leaves_exactly_the_expected_keys(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str]
) -> None:
    s3.put_object(
        Bucket="shop-main-files", Key="docs/a.txt", Body=b"the a file", ContentType="text/plain", Metadata={"owner": "ada"}
    )
    transfer(operator_client, branch, "move", "archive/2024", folders=["docs/sub/"], files=["top.txt"])
    assert all_keys(s3) == sorted(
        ["docs/", "docs/a.txt", "docs/empty/", "other/keep.txt", "docs-sibling.txt", "archive/2024/top.txt",
         "archive/2024/sub/", "archive/2024/sub/b.txt", "archive/2024/sub/deeper/c.txt"]
    )  # fmt: skip
    transfer(operator_client, branch, "move", "archive/", files=["docs/a.txt"])
    moved = s3.get_object(Bucket="shop-main-files", Key="archive/a.txt")
    assert moved["Body"].read() == b"the a file"
    assert moved["ContentType"] == "text/plain"
    assert moved["Metadata"] == {"owner": "ada"}
    audit = AuditEvent.objects.filter(action="storage.move").first()
    assert audit is not None
    assert audit.detail["destination"] == "archive/"


def test_copy_then_move_back_round_trips(operator_client: Client, branch: Branch, s3: Any, tree: list[str]) -> None:
    transfer(operator_client, branch, "copy", "other/", files=["top.txt"])
    assert all_keys(s3) == sorted([*TREE, "other/top.txt"])
    transfer(operator_client, branch, "move", "", files=["other/top.txt"], replace=True)  # replaces the original
    assert all_keys(s3) == sorted(TREE)


def test_copy_or_move_onto_names_the_destination_holds_asks_first_and_changes_nothing(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str], bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="other/top.txt", Body=b"theirs")
    s3.put_object(Bucket=bucket, Key="other/docs/z.txt", Body=b"theirs")
    before = all_keys(s3)
    asked = transfer(operator_client, branch, "move", "other/", files=["top.txt"], folders=["docs/"])
    page = asked.content.decode()
    assert asked.status_code == 200
    warning = page.split('class="message warning"', 1)[1].split("</form>", 1)[0]
    assert "2 items of the same name are already in" in warning
    assert "docs, top.txt." in warning
    assert "Replace and move" in warning
    assert all_keys(s3) == before  # nothing moved yet
    assert s3.get_object(Bucket=bucket, Key="other/top.txt")["Body"].read() == b"theirs"
    # The warning's own form: its hidden fields and its button, as a browser would post them.
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', warning):
        fields.setdefault(name, []).append(html.unescape(value))
    fields["go"] = ["here"]
    done = operator_client.post(url("storage_transfer", branch), fields, follow=True)
    assert messages_of(done)[0].startswith("Moved to other/")
    assert s3.get_object(Bucket=bucket, Key="other/top.txt")["Body"].read() != b"theirs"
    assert "top.txt" not in all_keys(s3)


def test_a_folder_cannot_go_into_itself(operator_client: Client, branch: Branch, s3: Any, tree: list[str]) -> None:
    done = transfer(operator_client, branch, "move", "docs/sub/", folders=["docs/"])
    assert all_keys(s3) == sorted(TREE)
    assert "cannot go into itself" in messages_of(done)[0]


def test_copying_into_the_folder_it_is_in_is_refused(operator_client: Client, branch: Branch, s3: Any, tree: list[str]) -> None:
    done = transfer(operator_client, branch, "copy", "other/", files=["other/keep.txt"])
    assert messages_of(done) == ["Nothing was copied: keep.txt is in that folder already; pick another one."]
    moved = transfer(operator_client, branch, "move", "docs/", folders=["docs/sub/"])
    assert messages_of(moved) == ["Nothing was moved: sub is in that folder already; pick another one."]
    assert all_keys(s3) == sorted(TREE)


def test_an_object_that_lands_on_itself_is_reported_not_copied(bucket: str, s3: Any) -> None:
    from apps.storage.buckets import Bucket

    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"x")
    reason = operations._copy_one(Bucket(bucket, "us-east-1", bucket, "outputs"), operations.Transfer("a/b.txt", "a/b.txt", 1))
    assert reason == "already in that folder"


def test_a_failed_copy_keeps_the_source_of_a_move_and_says_so(
    operator_client: Client, branch: Branch, s3: Any, tree: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = storage_s3.copy

    def flaky(bucket: str, region: str, source: str, target: str, size: int) -> None:
        if source.endswith("c.txt"):
            from console.aws_errors import AwsError

            raise AwsError("s3:CopyObject failed: InternalError", action="s3:CopyObject")
        real(bucket, region, source, target, size)

    monkeypatch.setattr(storage_s3, "copy", flaky)
    done = transfer(operator_client, branch, "move", "other/", folders=["docs/sub/"])
    assert "docs/sub/deeper/c.txt" in all_keys(s3)  # not copied, so not deleted
    assert "docs/sub/b.txt" not in all_keys(s3)
    assert "other/sub/b.txt" in all_keys(s3)
    assert "Moved to other/: 2 of 3 objects. 1 failed: docs/sub/deeper/c.txt (s3:CopyObject failed" in messages_of(done)[0]


def test_objects_over_5_gb_are_copied_in_parts(bucket: str, s3: Any, calls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from apps.storage.buckets import Bucket

    # Scaled down: "5 GB" becomes 6 MiB, parts of 5 MiB, so a 12 MiB object needs 3 parts.
    monkeypatch.setattr(storage_s3, "COPY_OBJECT_LIMIT", 6 * 1024 * 1024)
    monkeypatch.setattr(storage_s3, "COPY_PART_BYTES", 5 * 1024 * 1024)
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)
    s3.put_object(Bucket=bucket, Key="big/video.bin", Body=data, ContentType="video/mp4", Metadata={"camera": "a"})
    s3.put_object(Bucket=bucket, Key="big/small.txt", Body=b"small")
    outcome = operations.copy(Bucket(bucket, "us-east-1", bucket, "outputs"), operations.Selection(folders=("big/",)), "copy/")
    assert (outcome.done, outcome.failed) == (2, 0)
    assert calls.count("UploadPartCopy") == 3
    assert calls.count("CopyObject") == 1
    copied = s3.get_object(Bucket=bucket, Key="copy/big/video.bin")
    assert copied["Body"].read() == data
    assert copied["ContentType"] == "video/mp4"
    assert copied["Metadata"] == {"camera": "a"}


# Large selections run in a worker


def test_a_big_folder_is_deleted_by_a_worker_with_progress(
    operator_client: Client, branch: Branch, s3: Any, bucket: str, settings: Any,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:  # fmt: skip
    settings.STORAGE_INLINE_OBJECTS = 10
    for n in range(25):
        s3.put_object(Bucket=bucket, Key=f"logs/{n:02d}.log", Body=b"")
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            url("storage_delete", branch), {"folders": form_value("logs/"), "confirm": "delete 25 objects"}
        )
    task = StorageTask.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/storage/tasks/{task.pk}/")
    assert (task.kind, task.status, task.total, task.done, task.failed) == ("DELETE", "SUCCEEDED", 25, 25, 0)
    assert all_keys(s3) == []
    page = operator_client.get(response["Location"]).content.decode()
    assert "25 of 25 objects done" in page
    assert AuditEvent.objects.filter(action="storage.delete_queued").exists()
    assert AuditEvent.objects.get(action="storage.delete").detail["objects"] == 25


def test_a_big_move_runs_in_a_worker_and_lists_failures(
    operator_client: Client, branch: Branch, s3: Any, bucket: str, settings: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:  # fmt: skip
    settings.STORAGE_INLINE_OBJECTS = 5
    for n in range(12):
        s3.put_object(Bucket=bucket, Key=f"src/{n:02d}.txt", Body=b"x")
    real = storage_s3.copy

    def flaky(bucket: str, region: str, source: str, target: str, size: int) -> None:
        if source == "src/07.txt":
            from console.aws_errors import AwsError

            raise AwsError("s3:CopyObject failed: SlowDown", action="s3:CopyObject")
        real(bucket, region, source, target, size)

    monkeypatch.setattr(storage_s3, "copy", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(url("storage_transfer", branch), {"mode": "move", "go": "typed", "dest": "dst/",
                                                               "folders": form_value("src/")})  # fmt: skip
    task = StorageTask.objects.get()
    assert (task.kind, task.status, task.done, task.failed) == ("MOVE", "FAILED", 11, 1)
    assert task.report["failures"] == [["src/07.txt", "s3:CopyObject failed: SlowDown"]]
    assert all_keys(s3, "src/") == ["src/07.txt"]
    assert len(all_keys(s3, "dst/")) == 11
