"""One progress fragment for every kind of task: each says its progress in its own words."""

from __future__ import annotations

from django.template.loader import render_to_string

from apps.datamanager.models import DataTask
from apps.gitops.models import Teardown
from apps.storage.models import StorageTask


def test_each_kind_says_its_progress_in_its_words() -> None:
    storage = StorageTask(kind=StorageTask.Kind.COPY, bucket="b", done=1, total=1, failed=2, resume_at=3)
    assert (storage.progress_text, storage.retry_text) == (
        "1 of 1 object done, 2 failed",
        "Continues after the 3 objects already handled.",
    )
    data = DataTask(kind=DataTask.Kind.SEED, model_name="Todo", done=5, refused=1, total=9, resume_at=1, attempts=2)
    assert (data.progress_text, data.retry_text) == (
        "5 written, 1 refused of 9",
        "Continues after the 1 record already handled (attempt 3).",
    )
    teardown = Teardown(kind=Teardown.Kind.PREVIEW, branch_name="pr-1", done=2, total=5)
    assert (teardown.progress_text, teardown.percent) == ("2 of 5 steps done", 40)


def test_the_fragment_polls_while_active_and_offers_retry_only_to_operators_when_it_may() -> None:
    running = StorageTask(pk=7, kind=StorageTask.Kind.DELETE, bucket="b", status="RUNNING", done=1, total=4)
    html = render_to_string("console/progress.html", {"task": running, "poll_url": "/poll/", "retry_url": "/retry/"})
    assert 'hx-get="/poll/"' in html
    assert "1 of 4 objects done" in html
    assert 'value="25"' in html
    assert "Retry" not in html

    failed = StorageTask(pk=7, kind=StorageTask.Kind.DELETE, bucket="b", status="FAILED", retryable=True, error="S3 said no")
    context = {"task": failed, "poll_url": "/poll/", "retry_url": "/retry/"}
    assert "hx-get" not in render_to_string("console/progress.html", context)
    for_viewer = render_to_string("console/progress.html", {**context, "is_operator": False})
    for_operator = render_to_string("console/progress.html", {**context, "is_operator": True})
    assert "S3 said no" in for_viewer
    assert 'action="/retry/"' not in for_viewer
    assert 'action="/retry/"' in for_operator
