"""The file browser on a big folder: its first page, and deleting a folder.

1. First page of a 10,000-object folder.
   Work: GET of the folder page (`apps.storage.views.browse`, `?prefix=big/`, 100 per
   page) through Django's test Client as a signed-in viewer: middleware, session, the
   branch and its buckets, one ListObjectsV2 call (Delimiter "/", MaxKeys 100), sorting,
   signing the Next cursor and the template. Also with 1,000 per page.
   Baseline, interleaved: a raw boto3 `list_objects_v2` page of the same folder with the
   same Delimiter and MaxKeys.
2. Deleting a 5,000-object folder (with nested folders).
   Work: what the worker runs for a confirmed delete of that size (the page sends more
   than STORAGE_INLINE_OBJECTS to a worker): `apps.storage.tasks.carry_out` on a
   StorageTask row, i.e. the listing walk, DeleteObjects batches of 1,000, a progress
   UPDATE per batch, the final state and the audit event.
   Baseline, interleaved: a raw boto3 `list_objects_v2` paginator over the folder, each
   page's keys sent in one `delete_objects` call.
   Before each round both folders are (re)written with raw put_object from 16 threads,
   so each side deletes its own 5,000 objects in a bucket of the same size.

Setup, in a temporary directory removed at the end: a fresh SQLite database, a moto server
(console.emulator), an app (`app_create`, a local bare repository) whose main branch's
outputs name the bucket. Prints medians, ratios, the goal checks (page under 1.3x, delete
under 1.2x), the AWS calls of each (botocore `before-call` hooks) and the peak Python
memory (tracemalloc) of one page render and one delete.

Run one part alone with `bench_storage.py page` or `bench_storage.py delete`.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulator_support import CallCounter, calls_text, django_on_emulator, make_repository, ms, timed

BUCKET = "bench-storage-files"
REGION = "us-east-1"
PAGE_OBJECTS = 10_000
DELETE_OBJECTS = 5_000
PAGE_ROUNDS = 15
DELETE_ROUNDS = 3  # each round writes 10,000 objects first; the emulator takes ~100 puts/s
PAGE_GOAL = 1.3
DELETE_GOAL = 1.2


def fill(raw: Any, prefix: str, count: int) -> None:
    """`count` empty objects under `prefix`, a quarter of them in nested folders."""

    def put(n: int) -> None:
        nested = f"sub-{n % 4}/deeper/" if n % 4 == 0 else ""
        raw.put_object(Bucket=BUCKET, Key=f"{prefix}{nested}file-{n:05d}.txt", Body=b"")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(count)))


def count_under(raw: Any, prefix: str) -> int:
    pages = raw.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sum(page.get("KeyCount", 0) for page in pages)


def run(tmp: Path, endpoint_url: str, parts: set[str]) -> None:
    import boto3
    from botocore.config import Config
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from apps.branches.services import app_create
    from console.aws import aws_client
    from console.roles import Role, set_role

    call_command("migrate", verbosity=0)
    raw = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
        config=Config(max_pool_connections=32),
    )
    raw.create_bucket(Bucket=BUCKET)
    app = app_create(actor=None, name="bench", repository=str(make_repository(tmp)), production_branch="main")
    branch = app.branches.get(name="main")
    branch.backend_outputs = {
        "version": "1.4",
        "storage": {
            "aws_region": REGION,
            "bucket_name": BUCKET,
            "buckets": [{"name": "files", "bucket_name": BUCKET, "aws_region": REGION}],
        },
    }
    branch.save()
    viewer = get_user_model().objects.create_user(username="bench-viewer", password="unused-bench-password")  # noqa: S106
    set_role(viewer, Role.VIEWER)
    host = "testserver" if "testserver" in settings.ALLOWED_HOSTS else "localhost"
    client = Client(HTTP_HOST=host)
    client.force_login(viewer)

    console_calls = CallCounter(aws_client("s3", region=REGION))
    raw_calls = CallCounter(raw)
    if "page" in parts:
        bench_page(client, raw, app, branch, console_calls, raw_calls)
    if "delete" in parts:
        bench_delete(raw, branch, console_calls, raw_calls)


def bench_page(client: Any, raw: Any, app: Any, branch: Any, console_calls: CallCounter, raw_calls: CallCounter) -> None:
    from django.urls import reverse

    seed_start = time.perf_counter()
    fill(raw, "big/", PAGE_OBJECTS)
    print(f"setup: {PAGE_OBJECTS:,} objects under big/ on the emulator in {time.perf_counter() - seed_start:.1f} s")
    page_url = reverse("storage_browse", args=[app.app_id, branch.display_name, BUCKET])

    def render(size: int) -> Callable[[], bytes]:
        def go() -> bytes:
            response = client.get(page_url, {"prefix": "big/", **({"size": str(size)} if size != 100 else {})})
            assert response.status_code == 200, response.status_code
            return bytes(response.content)

        return go

    def raw_page(size: int) -> Callable[[], int]:
        def go() -> int:
            page = raw.list_objects_v2(Bucket=BUCKET, Prefix="big/", Delimiter="/", MaxKeys=size)
            return len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))

        return go

    # Warm-up, and a check that both see a full page.
    html = render(100)()
    assert html.count(b'<td class="entry-name">') == 100, html.count(b'<td class="entry-name">')
    assert raw_page(100)() == 100
    assert render(1000)().count(b'<td class="entry-name">') == 1000
    console_calls.take()
    raw_calls.take()

    page_work: dict[str, tuple[Callable[[], Any], CallCounter]] = {
        "baseline": (raw_page(100), raw_calls),
        "page": (render(100), console_calls),
        "baseline1000": (raw_page(1000), raw_calls),
        "page1000": (render(1000), console_calls),
    }
    samples: dict[str, list[float]] = {label: [] for label in page_work}
    counted: dict[str, dict[str, int]] = {}
    for _ in range(PAGE_ROUNDS):  # interleaved, so all see the same machine
        for label, (fn, counter) in page_work.items():
            samples[label].append(timed(fn)[0])
            counted.setdefault(label, counter.take())
            counter.take()
    tracemalloc.start()
    render(100)()
    page_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    medians = {label: statistics.median(values) for label, values in samples.items()}
    page_ratio = medians["page"] / medians["baseline"]
    print(f"\n1. first page of a {PAGE_OBJECTS:,}-object folder, {PAGE_ROUNDS} rounds interleaved")
    print(f"baseline: raw list_objects_v2 page (Delimiter /, MaxKeys 100):  median {ms(medians['baseline'])}")
    print(f"work: folder page GET (test Client, viewer, 100 rows):          median {ms(medians['page'])}")
    print(f"ratio page / baseline: {page_ratio:.2f}x; goal under {PAGE_GOAL}: {'yes' if page_ratio < PAGE_GOAL else 'no'}")
    print(
        f"with 1,000 per page: page {ms(medians['page1000'])} vs raw {ms(medians['baseline1000'])}: "
        f"{medians['page1000'] / medians['baseline1000']:.2f}x"
    )
    print(f"AWS calls per page: {calls_text(counted['page'])}; per baseline: {calls_text(counted['baseline'])}")
    print(f"peak Python memory of one page render (tracemalloc): {page_peak / 1024:.0f} KiB")
    for page in raw.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="big/"):  # a smaller bucket for part 2
        doomed = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        raw.delete_objects(Bucket=BUCKET, Delete={"Objects": doomed, "Quiet": True})


def bench_delete(raw: Any, branch: Any, console_calls: CallCounter, raw_calls: CallCounter) -> None:
    from apps.storage.models import StorageTask
    from apps.storage.tasks import carry_out

    def delete_work() -> int:
        task = StorageTask.objects.create(
            branch=branch,
            bucket=BUCKET,
            region=REGION,
            kind="DELETE",
            total=DELETE_OBJECTS,
            status="RUNNING",
            payload={"files": [], "folders": ["work/"], "dest": ""},
        )
        carry_out(task)
        task.refresh_from_db()
        assert (task.status, task.done) == ("SUCCEEDED", DELETE_OBJECTS), (task.status, task.done, task.error)
        return task.done

    def delete_baseline() -> int:
        deleted = 0
        for page in raw.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="base/"):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:
                answer = raw.delete_objects(Bucket=BUCKET, Delete={"Objects": objects, "Quiet": True})
                assert not answer.get("Errors"), answer["Errors"][:3]
                deleted += len(objects)
        assert deleted == DELETE_OBJECTS, deleted
        return deleted

    delete_samples: dict[str, list[float]] = {"baseline": [], "delete": []}
    delete_calls: dict[str, dict[str, int]] = {}
    seeding: list[float] = []
    for number in range(DELETE_ROUNDS):
        seed_start = time.perf_counter()
        fill(raw, "work/", DELETE_OBJECTS)
        fill(raw, "base/", DELETE_OBJECTS)
        seeding.append(time.perf_counter() - seed_start)
        console_calls.take()
        raw_calls.take()
        order = [("delete", delete_work, console_calls), ("baseline", delete_baseline, raw_calls)]
        for label, fn, counter in order if number % 2 == 0 else reversed(order):
            delete_samples[label].append(timed(fn)[0])
            delete_calls.setdefault(label, counter.take())
        assert count_under(raw, "work/") == 0
        assert count_under(raw, "base/") == 0
    fill(raw, "work/", DELETE_OBJECTS)
    tracemalloc.start()
    delete_work()
    delete_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    work, base = statistics.median(delete_samples["delete"]), statistics.median(delete_samples["baseline"])
    delete_ratio = work / base
    print(
        f"\n2. deleting a {DELETE_OBJECTS:,}-object folder, {DELETE_ROUNDS} rounds interleaved "
        f"(seeding both folders: median {statistics.median(seeding):.1f} s per round)"
    )
    print(f"baseline: raw list_objects_v2 pages + delete_objects per page:  median {ms(base)}")
    print(f"work: the worker's delete (tasks.carry_out on a StorageTask):     median {ms(work)}")
    met = "yes" if delete_ratio < DELETE_GOAL else "no"
    print(f"ratio delete / baseline: {delete_ratio:.2f}x; goal under {DELETE_GOAL}: {met}")
    print(f"AWS calls per delete: {calls_text(delete_calls['delete'])}; per baseline: {calls_text(delete_calls['baseline'])}")
    print(f"peak Python memory of one delete (tracemalloc): {delete_peak / 1024:.0f} KiB")


def main() -> None:
    with django_on_emulator("bench-storage-") as run_on:
        run(run_on.tmp, run_on.endpoint_url, set(sys.argv[1:]) or {"page", "delete"})


if __name__ == "__main__":
    main()
