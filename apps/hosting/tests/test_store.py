"""The hosting bucket: objects stored once by content hash, compressed variants, the order
of a publish, rollbacks, retention and collection, and moving legacy files out of the database."""

from __future__ import annotations

import gzip
import io
import random
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import brotli
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.artifacts import content_type_for
from apps.hosting import delivery, publishing, retention, store
from apps.hosting.legacy import move_files_to_bucket
from apps.hosting.models import DeployedFile, Deployment, StoreLock
from apps.hosting.publishing import Published, SourceFile, deployment_of_job, publish, redeploy
from apps.hosting.tests.sites import new_job, sha256

HTML = b"<!doctype html><title>Shop</title>" + b"<p>Every product, every day, at the best price.</p>\n" * 40
JS = b"export function greet(name) { return `hello ${name}`; }\n" * 30
CSS = b"body { margin: 0; font-family: system-ui, sans-serif; color: #222; }\n" * 20
SVG = b'<svg xmlns="http://www.w3.org/2000/svg">' + b'<circle cx="5" cy="5" r="4" fill="#f90"/>' * 20 + b"</svg>"


def random_bytes(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def branch(app: App) -> Branch:
    return app.branches.get(name="main")


def sources(folder: Path, files: dict[str, bytes]) -> list[SourceFile]:
    """The files written to a fresh build output folder under `folder`."""
    output = Path(tempfile.mkdtemp(dir=folder, prefix="dist-"))
    found = []
    for path, data in files.items():
        target = output / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        found.append(SourceFile(path, target, len(data), content_type_for(path)))
    return found


def deploy(branch: Branch, folder: Path, files: dict[str, bytes]) -> Published:
    return publish(branch, new_job(branch), sources(folder, files))


def stored_keys(prefix: str = store.OBJECTS) -> set[str]:
    return {key for key, _ in store.iter_objects(prefix)}


def live_id(branch: Branch) -> int | None:
    return Branch.objects.values_list("live_deployment_id", flat=True).get(pk=branch.pk)


def host(branch: Branch) -> str:
    return f"{branch.hostname_label}.{branch.app.app_id}.localhost:8000"


# --- storing each content once ---


def test_identical_files_are_stored_as_one_object(branch: Branch, tmp_path: Path) -> None:
    logo = random_bytes(2000)
    published = deploy(branch, tmp_path, {"logo.png": logo, "images/copy-of-logo.png": logo})

    assert (published.uploaded, published.reused) == (1, 0)
    assert stored_keys() == {store.object_key(sha256(logo))}
    rows = DeployedFile.objects.filter(deployment=published.deployment)
    assert sorted(rows.values_list("path", "sha256", "size")) == [
        ("images/copy-of-logo.png", sha256(logo), 2000),
        ("logo.png", sha256(logo), 2000),
    ]


def test_a_second_deployment_uploads_only_the_changed_file(branch: Branch, tmp_path: Path) -> None:
    logo = random_bytes(2000)
    first = deploy(branch, tmp_path, {"index.html": HTML, "logo.png": logo})
    assert (first.uploaded, first.reused) == (2, 0)

    changed = HTML.replace(b"Shop", b"Shop v2")
    second = deploy(branch, tmp_path, {"index.html": changed, "logo.png": logo})

    assert (second.uploaded, second.reused) == (1, 1)
    plain = {key for key in stored_keys() if "." not in key}
    assert plain == {store.object_key(sha256(HTML)), store.object_key(sha256(changed)), store.object_key(sha256(logo))}


def test_a_rebuild_with_the_same_files_uploads_nothing(branch: Branch, tmp_path: Path) -> None:
    files = {"index.html": HTML, "app.js": JS, "logo.png": random_bytes(500)}
    deploy(branch, tmp_path, files)
    before = stored_keys()

    again = deploy(branch, tmp_path, files)

    assert (again.uploaded, again.reused) == (0, 3)
    assert stored_keys() == before
    assert set(again.deployment.files.values_list("encodings", flat=True)) == {"br,gzip", ""}


def test_store_file_skips_the_upload_when_the_hash_is_stored(tmp_path: Path) -> None:
    store.ensure_bucket()
    source = tmp_path / "index.html"
    source.write_bytes(HTML)

    first = store.store_file(source, "text/html; charset=utf-8")
    second = store.store_file(source, "text/html; charset=utf-8")

    assert first == store.StoredFile(sha256(HTML), len(HTML), "br,gzip", uploaded=True)
    assert second == store.StoredFile(sha256(HTML), len(HTML), "br,gzip", uploaded=False)
    assert store.head(sha256(HTML)) == "br,gzip"
    assert store.head(sha256(b"never stored")) is None


# --- compressed variants ---


@pytest.mark.parametrize(("path", "data"), [("index.html", HTML), ("assets/app.js", JS), ("site.css", CSS), ("icon.svg", SVG)])
def test_compressible_files_get_br_and_gzip_variants_of_the_same_bytes(
    branch: Branch, tmp_path: Path, path: str, data: bytes
) -> None:
    published = deploy(branch, tmp_path, {path: data})

    digest = sha256(data)
    assert stored_keys() == {store.object_key(digest), store.object_key(digest, "br"), store.object_key(digest, "gzip")}
    assert store.get_blob(store.object_key(digest)) == data
    br = store.get_blob(store.object_key(digest, "br"))
    gz = store.get_blob(store.object_key(digest, "gzip"))
    assert br is not None
    assert gz is not None
    assert brotli.decompress(br) == data
    assert gzip.decompress(gz) == data
    assert len(br) < len(data)
    assert len(gz) < len(data)
    assert published.deployment.files.get(path=path).encodings == "br,gzip"
    assert store.head(digest) == "br,gzip"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        # PNG is never compressed, even when its bytes would shrink: the type decides.
        ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(4000)),
        # A text type whose bytes do not shrink by 5%: no variant is worth storing.
        ("noise.txt", random_bytes(4000)),
        # Text too short to be worth compressing.
        ("tiny.html", b"<p>hi</p>"),
    ],
)
def test_files_not_worth_compressing_get_no_variants(branch: Branch, tmp_path: Path, path: str, data: bytes) -> None:
    published = deploy(branch, tmp_path, {path: data})

    assert stored_keys() == {store.object_key(sha256(data))}
    assert published.deployment.files.get(path=path).encodings == ""
    assert store.head(sha256(data)) == ""


# --- the order of a publish ---


def test_the_new_deployment_goes_live_complete(branch: Branch, tmp_path: Path) -> None:
    first = deploy(branch, tmp_path, {"index.html": HTML})
    assert live_id(branch) == first.deployment.pk

    second = deploy(branch, tmp_path, {"index.html": HTML + b"<!-- 2 -->"})

    assert live_id(branch) == second.deployment.pk
    assert Deployment.objects.get(pk=second.deployment.pk).complete
    assert deployment_of_job(second.deployment.job_id) == second.deployment


def test_a_failed_upload_leaves_the_previous_deployment_live_and_drops_the_new_one(
    branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = deploy(branch, tmp_path, {"index.html": HTML})
    real_store_file = store.store_file
    broken = random_bytes(3000, seed=7)
    stored: list[str] = []

    def failing_store_file(path: Path, content_type: str, digest: str | None = None) -> store.StoredFile:
        if digest == sha256(broken):
            raise RuntimeError("bucket unavailable")
        result = real_store_file(path, content_type, digest)
        stored.append(result.sha256)
        return result

    monkeypatch.setattr(store, "store_file", failing_store_file)
    job = new_job(branch)
    files = sources(tmp_path, {"index.html": HTML + b"<!-- 2 -->", "photo.png": broken})

    with pytest.raises(RuntimeError, match="bucket unavailable"):
        publish(branch, job, files)

    assert stored == [sha256(HTML + b"<!-- 2 -->")]  # the other file was uploaded before the failure
    assert live_id(branch) == first.deployment.pk
    assert list(Deployment.objects.filter(branch=branch).values_list("pk", flat=True)) == [first.deployment.pk]
    assert not DeployedFile.objects.filter(deployment__job_id=job).exists()
    assert deployment_of_job(job) is None


def test_redeploying_an_old_deployment_uploads_nothing_and_switches(
    branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = deploy(branch, tmp_path, {"index.html": HTML, "logo.png": random_bytes(900)})
    new = deploy(branch, tmp_path, {"index.html": HTML + b"<!-- new -->"})
    keys = stored_keys()

    def no_bucket() -> None:
        raise AssertionError("a redeploy must not touch the bucket")

    with monkeypatch.context() as patched:
        patched.setattr(store, "s3", no_bucket)
        redeploy(branch, old.deployment)

    assert live_id(branch) == old.deployment.pk
    assert stored_keys() == keys
    assert Client().get("/", HTTP_HOST=host(branch)).content == HTML
    assert new.deployment.pk != old.deployment.pk


def test_only_a_complete_deployment_of_the_same_branch_can_be_redeployed(app: App, branch: Branch, tmp_path: Path) -> None:
    mine = deploy(branch, tmp_path, {"index.html": HTML})
    dev = services.branch_connect(actor=None, app=app, name="dev")
    theirs = deploy(dev, tmp_path, {"index.html": HTML})
    unfinished = Deployment.objects.create(branch=branch, job_id=new_job(branch), complete=False)

    with pytest.raises(ValueError, match="complete deployment of this branch"):
        redeploy(branch, theirs.deployment)
    with pytest.raises(ValueError, match="complete deployment of this branch"):
        redeploy(branch, unfinished)
    assert live_id(branch) == mine.deployment.pk


# --- retention ---


def test_prune_keeps_the_last_complete_deployments_and_the_live_one(app: App, branch: Branch, tmp_path: Path) -> None:
    d1, d2, d3, d4 = (deploy(branch, tmp_path, {"index.html": HTML + str(n).encode()}).deployment for n in range(4))
    redeploy(branch, d1)  # a rollback: the oldest one is live
    building = Deployment.objects.create(branch=branch, job_id=new_job(branch), complete=False)
    abandoned = Deployment.objects.create(branch=branch, job_id=new_job(branch), complete=False)
    Deployment.objects.filter(pk=abandoned.pk).update(created_at=timezone.now() - timedelta(days=2))
    dev = services.branch_connect(actor=None, app=app, name="dev")
    e1, e2, e3 = (deploy(dev, tmp_path, {"index.html": HTML + b"dev" + str(n).encode()}).deployment for n in range(3))

    removed = retention.prune_deployments(keep=2)

    assert removed == 3  # d2, the abandoned one, e1
    assert set(Deployment.objects.values_list("pk", flat=True)) == {d1.pk, d3.pk, d4.pk, building.pk, e2.pk, e3.pk}
    assert live_id(branch) == d1.pk
    assert live_id(dev) == e3.pk
    assert not DeployedFile.objects.filter(deployment_id__in=[d2.pk, e1.pk]).exists()


def test_prune_without_keep_uses_the_setting(branch: Branch, tmp_path: Path, settings: object) -> None:
    settings.HOSTING_KEEP_DEPLOYMENTS = 1  # type: ignore[attr-defined]
    deployments = [deploy(branch, tmp_path, {"index.html": HTML + str(n).encode()}).deployment for n in range(3)]

    assert retention.prune_deployments() == 2
    assert list(Deployment.objects.values_list("pk", flat=True)) == [deployments[-1].pk]


def _clock_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_collect_objects_deletes_exactly_the_unreferenced_objects_past_the_grace(
    branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    settings.HOSTING_GC_GRACE_MINUTES = 30  # type: ignore[attr-defined]
    logo = random_bytes(1500)
    old_page = HTML.replace(b"Shop", b"Old shop")
    first = deploy(branch, tmp_path, {"index.html": old_page, "logo.png": logo})
    deploy(branch, tmp_path, {"index.html": HTML, "logo.png": logo})
    first.deployment.delete()  # as pruning does: its page is now referenced by nobody
    everything = stored_keys()
    started = timezone.now()

    # Within the grace nothing is collected, referenced or not.
    _clock_at(monkeypatch, started + timedelta(minutes=29))
    assert retention.collect_objects() == 0
    assert stored_keys() == everything

    _clock_at(monkeypatch, started + timedelta(minutes=31))
    assert retention.collect_objects() == 1

    gone = {store.object_key(sha256(old_page), encoding) for encoding in ("", "br", "gzip")}
    assert gone <= everything
    assert stored_keys() == everything - gone
    assert retention.collect_objects() == 0


def test_an_object_younger_than_the_grace_is_kept_while_older_ones_go(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    settings.HOSTING_GC_GRACE_MINUTES = 30  # type: ignore[attr-defined]
    store.ensure_bucket()
    old, young = tmp_path / "old.bin", tmp_path / "young.bin"
    old.write_bytes(random_bytes(100, seed=1))
    young.write_bytes(random_bytes(100, seed=2))
    store.store_file(old, "application/octet-stream")
    store.store_file(young, "application/octet-stream")
    modified = dict(store.iter_objects(store.OBJECTS))
    listed = store.iter_objects

    def young_one_stored_later(prefix: str) -> Iterator[tuple[str, datetime]]:
        # The bucket's clock has a second's resolution: say the young object was written 20 minutes later.
        for key, when in listed(prefix):
            yield key, when + timedelta(minutes=20) if key == store.object_key(store.file_sha256(young)) else when

    monkeypatch.setattr(store, "iter_objects", young_one_stored_later)
    _clock_at(monkeypatch, modified[store.object_key(store.file_sha256(old))] + timedelta(minutes=31))

    assert retention.collect_objects() == 1
    monkeypatch.undo()
    assert stored_keys() == {store.object_key(store.file_sha256(young))}


def test_a_candidate_referenced_since_the_listing_is_not_deleted(
    branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    settings.HOSTING_GC_GRACE_MINUTES = 30  # type: ignore[attr-defined]
    store.ensure_bucket()
    reused, unused = tmp_path / "reused.html", tmp_path / "unused.html"
    reused.write_bytes(HTML)
    unused.write_bytes(CSS)
    store.store_file(reused, "text/html; charset=utf-8")
    store.store_file(unused, "text/css; charset=utf-8")
    with monkeypatch.context() as later:
        _clock_at(later, timezone.now() + timedelta(minutes=31))
        candidates = retention._unreferenced_candidates()
    assert candidates == sorted([sha256(HTML), sha256(CSS)])

    # A build publishes the page after the listing: its manifest now references the object.
    published = deploy(branch, tmp_path, {"index.html": HTML})
    assert (published.uploaded, published.reused) == (0, 1)

    assert retention._delete_batch(candidates) == 1
    assert stored_keys() == {store.object_key(sha256(HTML), encoding) for encoding in ("", "br", "gzip")}
    assert Client().get("/", HTTP_HOST=host(branch)).content == HTML


def test_collect_caches_removes_only_caches_of_deleted_branches(app: App, branch: Branch) -> None:
    store.ensure_bucket()
    dev = services.branch_connect(actor=None, app=app, name="dev")
    store.put_blob(store.cache_key(branch.pk), b"main cache")
    store.put_blob(store.cache_key(dev.pk), b"dev cache")
    store.put_blob(store.object_key(sha256(b"x")), b"x")
    dev_pk = dev.pk
    dev.delete()

    assert retention.collect_caches() == 1

    assert stored_keys(store.CACHES) == {store.cache_key(branch.pk)}
    assert store.get_blob(store.cache_key(dev_pk)) is None
    assert stored_keys() == {store.object_key(sha256(b"x"))}
    assert retention.collect_caches() == 0


def test_collect_runs_every_step(branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    settings.HOSTING_KEEP_DEPLOYMENTS = 1  # type: ignore[attr-defined]
    settings.HOSTING_GC_GRACE_MINUTES = 30  # type: ignore[attr-defined]
    deploy(branch, tmp_path, {"index.html": HTML.replace(b"Shop", b"Old")})
    deploy(branch, tmp_path, {"index.html": HTML})
    store.put_blob(store.cache_key(branch.pk + 1000), b"a gone branch's cache")
    _clock_at(monkeypatch, timezone.now() + timedelta(minutes=31))

    assert retention.collect() == {"deployments": 1, "objects": 1, "caches": 1}
    assert stored_keys() == {store.object_key(sha256(HTML), encoding) for encoding in ("", "br", "gzip")}


# --- the store's own parts ---


def test_open_object_reads_a_range(tmp_path: Path) -> None:
    store.ensure_bucket()
    data = random_bytes(1000)
    source = tmp_path / "file.bin"
    source.write_bytes(data)
    stored = store.store_file(source, "application/octet-stream")

    whole = store.open_object(store.object_key(stored.sha256))
    part = store.open_object(store.object_key(stored.sha256), (100, 199))

    assert (whole.length, b"".join(whole.chunks)) == (1000, data)
    assert (part.length, part.content_range, b"".join(part.chunks)) == (100, "bytes 100-199/1000", data[100:200])


def test_delete_keys_deletes_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    store.ensure_bucket()
    keys = [f"{store.OBJECTS}{n}" for n in range(5)]
    for key in keys:
        store.put_blob(key, b"x")
    store.put_blob(f"{store.OBJECTS}kept", b"x")
    monkeypatch.setattr(store, "DELETE_BATCH", 2)

    store.delete_keys(keys)

    assert stored_keys() == {f"{store.OBJECTS}kept"}


def test_object_cache_drops_the_least_recently_used_and_skips_large_objects() -> None:
    cache = store.ObjectCache(max_bytes=10, max_object=6)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # now "b" is the least recently used
    cache.put("c", b"cccc")
    cache.put("big", b"1234567")

    assert (cache.get("a"), cache.get("b"), cache.get("c"), cache.get("big")) == (b"aaaa", None, b"cccc", None)
    cache.clear()
    assert cache.get("a") is None


def test_an_object_cache_of_no_bytes_keeps_nothing() -> None:
    off = store.ObjectCache(max_bytes=0, max_object=256 * 1024)
    off.put("a", b"a")

    assert (off.limit, off.get("a")) == (0, None)


def test_read_small_remembers_small_objects_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ensure_bucket()
    small = random_bytes(1000)
    store.put_blob("objects/small", small)

    assert store.read_small("objects/small", len(small)) == small
    assert store.read_small("objects/large", store.memory.limit + 1) is None
    monkeypatch.setattr(store, "s3", lambda: pytest.fail("read again from the bucket"))
    assert store.read_small("objects/small", len(small)) == small


# --- legacy files held in the database ---


def legacy_deployment(branch: Branch, files: dict[str, bytes]) -> Deployment:
    """A deployment as made before the hosting bucket: the bytes in the rows, no hash."""
    deployment = Deployment.objects.create(
        branch=branch, job_id=new_job(branch), file_count=len(files), total_bytes=sum(map(len, files.values()))
    )
    for path, data in files.items():
        deployment.files.create(path=path, content_type=content_type_for(path), size=len(data), content=data)
    Branch.objects.filter(pk=branch.pk).update(live_deployment=deployment)
    return deployment


def served(branch: Branch, path: str) -> tuple[int, bytes]:
    response = Client().get(path, HTTP_HOST=host(branch))
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return response.status_code, body


def test_legacy_files_move_to_the_bucket_and_the_site_serves_the_same_bytes(branch: Branch) -> None:
    logo = random_bytes(700)
    deployment = legacy_deployment(branch, {"index.html": HTML, "logo.png": logo})
    before = {path: served(branch, path) for path in ("/", "/logo.png")}
    assert before == {"/": (200, HTML), "/logo.png": (200, logo)}

    assert move_files_to_bucket() == 2

    rows = {row.path: row for row in deployment.files.all()}
    assert {path: (row.content, row.sha256, row.encodings) for path, row in rows.items()} == {
        "index.html": (None, sha256(HTML), "br,gzip"),
        "logo.png": (None, sha256(logo), ""),
    }
    assert store.get_blob(store.object_key(sha256(logo))) == logo
    # The manifest this process read before the move still says "in the database".
    assert {path: served(branch, path) for path in before} == before
    delivery._manifest.cache_clear()
    assert {path: served(branch, path) for path in before} == before
    assert delivery.deployed_bytes(deployment, "index.html") == HTML


def test_moving_legacy_files_again_moves_nothing(branch: Branch) -> None:
    legacy_deployment(branch, {"index.html": HTML, "app.js": JS})
    assert move_files_to_bucket() == 2
    keys = stored_keys()

    assert move_files_to_bucket() == 0
    assert stored_keys() == keys


def test_moving_reuses_objects_a_later_deployment_stored(branch: Branch, tmp_path: Path) -> None:
    legacy_deployment(branch, {"index.html": HTML})
    deploy(branch, tmp_path, {"index.html": HTML})
    keys = stored_keys()

    assert move_files_to_bucket() == 1
    assert stored_keys() == keys


def test_the_move_command_prints_the_count(branch: Branch) -> None:
    legacy_deployment(branch, {"index.html": HTML, "site.css": CSS, "logo.png": random_bytes(300)})
    out = io.StringIO()

    call_command("hosting_move_to_bucket", stdout=out)
    again = io.StringIO()
    call_command("hosting_move_to_bucket", stdout=again)

    assert out.getvalue() == "Moved 3 deployed files into the hosting bucket.\n"
    assert again.getvalue() == "Moved 0 deployed files into the hosting bucket.\n"


def test_a_legacy_move_references_its_object_or_holds_the_lock_before_looking_it_up(
    branch: Branch, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy_deployment(branch, {"index.html": HTML})
    StoreLock.objects.get_or_create(pk=1)
    lock_before = StoreLock.objects.get(pk=1).touched_at
    seen: list[tuple[bool, bool]] = []
    real_head = store.head

    def watching_head(digest: str) -> str | None:
        referenced = DeployedFile.objects.filter(sha256=digest).exists()
        locked = StoreLock.objects.get(pk=1).touched_at != lock_before
        seen.append((referenced, locked))
        return real_head(digest)

    monkeypatch.setattr(store, "head", watching_head)

    assert move_files_to_bucket() == 1
    assert len(seen) == 1
    assert any(seen[0]), "the object was looked up while unreferenced and without the store lock"


def test_a_publish_references_its_objects_under_the_lock_before_looking_them_up(
    branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protocol the collector relies on (the legacy move above breaks it)."""
    seen: list[bool] = []
    real_head = store.head

    def watching_head(digest: str) -> str | None:
        seen.append(True)
        return real_head(digest)

    def manifest_first(*args: object, **kwargs: object) -> Deployment:
        made = real_manifest(*args, **kwargs)  # type: ignore[arg-type]
        assert not seen, "an object was looked up before the manifest was written"
        assert DeployedFile.objects.filter(deployment=made, sha256=sha256(HTML)).exists()
        return made

    real_manifest = publishing._manifest
    monkeypatch.setattr(store, "head", watching_head)
    monkeypatch.setattr(publishing, "_manifest", manifest_first)

    deploy(branch, tmp_path, {"index.html": HTML})
    assert seen == [True]


def test_publish_reports_what_it_stored(branch: Branch, tmp_path: Path) -> None:
    lines: list[str] = []
    say: Callable[[str], None] = lines.append
    publish(branch, new_job(branch), sources(tmp_path, {"a.png": random_bytes(10), "b.png": random_bytes(10, seed=3)}), say=say)
    publish(branch, new_job(branch), sources(tmp_path, {"a.png": random_bytes(10)}), say=say)

    assert lines == [
        "## Stored 2 new objects in the hosting bucket; 0 were already there",
        "## Stored 0 new objects in the hosting bucket; 1 were already there",
    ]
