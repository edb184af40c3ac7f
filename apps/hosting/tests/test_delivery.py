"""Answering for deployed files at the branch URL: validators, ranges, encodings, caching, streaming."""

from __future__ import annotations

import gzip
import random
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.utils.http import http_date, parse_http_date

from apps.branches.models import App, Branch
from apps.builds.artifacts import content_type_for
from apps.hosting import delivery, store
from apps.hosting.models import Deployment
from apps.hosting.publishing import SourceFile, publish, redeploy
from apps.hosting.serving import HostedSiteMiddleware
from apps.hosting.tests.sites import new_job, sha256

PAGE = b"<!doctype html><title>Shop</title>" + b"<p>Every product, every day, at the best price.</p>\n" * 40
SCRIPT = b"export function greet(name) { return `hello ${name}`; }\n" * 30
LOGO = random.Random(1).randbytes(1000)
BIG = random.Random(2).randbytes(1024 * 1024)
BIG_TEXT = b"".join(b"line %d of a long log that compresses well\n" % n for n in range(8000))  # ~340 KiB
FILES = {"index.html": PAGE, "assets/index-Diw4gTda.js": SCRIPT, "logo.png": LOGO, "big.bin": BIG, "big.txt": BIG_TEXT}


def tag(data: bytes, encoding: str = "") -> str:
    return f'"{sha256(data)[:40]}{"-" + encoding if encoding else ""}"'


def deploy(branch: Branch, folder: Path, files: dict[str, bytes]) -> Deployment:
    output = Path(tempfile.mkdtemp(dir=folder, prefix="dist-"))
    sources = []
    for path, data in files.items():
        (output / path).parent.mkdir(parents=True, exist_ok=True)
        (output / path).write_bytes(data)
        sources.append(SourceFile(path, output / path, len(data), content_type_for(path)))
    return publish(branch, new_job(branch), sources).deployment


@dataclass(frozen=True)
class Site:
    branch: Branch
    deployment: Deployment
    host: str

    def get(self, path: str, **headers: Any) -> Any:
        return Client().get(path, HTTP_HOST=self.host, **headers)

    def raw(self, method: str, path: str, **headers: str) -> HttpResponse | StreamingHttpResponse:
        """The middleware's own answer, before the test client drops a HEAD body."""
        request = getattr(RequestFactory(), method.lower())(path, HTTP_HOST=self.host, **headers)
        return HostedSiteMiddleware(lambda _request: HttpResponse("the console"))(request)


@pytest.fixture
def site(app: App, tmp_path: Path) -> Site:
    branch = app.branches.get(name="main")
    deployment = deploy(branch, tmp_path, FILES)
    return Site(branch, deployment, f"{branch.hostname_label}.{app.app_id}.localhost:8000")


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


# --- validators ---


def test_the_etag_is_the_quoted_content_hash(site: Site) -> None:
    response = site.get("/logo.png")

    assert response.status_code == 200
    assert response["ETag"] == tag(LOGO) == f'"{sha256(LOGO)[:40]}"'
    assert body(response) == LOGO
    live_since = Deployment.objects.get(pk=site.deployment.pk).live_since
    assert live_since is not None  # set when the branch switched to it
    assert response["Last-Modified"] == http_date(live_since.timestamp())


@pytest.mark.parametrize(
    "if_none_match",
    [
        tag(PAGE),
        f"W/{tag(PAGE)}",
        tag(PAGE, "br"),
        tag(PAGE, "gzip"),
        f'"0123456789", {tag(PAGE)}',
        "*",
    ],
)
def test_a_matching_if_none_match_is_answered_304_without_a_body(site: Site, if_none_match: str) -> None:
    response = site.raw("GET", "/", HTTP_IF_NONE_MATCH=if_none_match)

    assert response.status_code == 304
    assert isinstance(response, HttpResponse)
    assert response.content == b""
    assert response["ETag"] == tag(PAGE)


def test_a_different_etag_gets_the_file(site: Site) -> None:
    response = site.get("/", HTTP_IF_NONE_MATCH=tag(LOGO))

    assert (response.status_code, body(response)) == (200, PAGE)


def test_if_modified_since_at_or_after_last_modified_is_304(site: Site) -> None:
    modified = parse_http_date(site.get("/logo.png")["Last-Modified"])

    assert site.raw("GET", "/logo.png", HTTP_IF_MODIFIED_SINCE=http_date(modified)).status_code == 304
    assert site.raw("GET", "/logo.png", HTTP_IF_MODIFIED_SINCE=http_date(modified + 3600)).status_code == 304
    earlier = site.get("/logo.png", HTTP_IF_MODIFIED_SINCE=http_date(modified - 1))
    assert (earlier.status_code, body(earlier)) == (200, LOGO)
    # If-None-Match decides when both are sent.
    stale_tag = site.get("/logo.png", HTTP_IF_MODIFIED_SINCE=http_date(modified + 3600), HTTP_IF_NONE_MATCH='"old"')
    assert (stale_tag.status_code, body(stale_tag)) == (200, LOGO)


def test_validators_are_answered_without_reading_the_bucket(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "s3", lambda: pytest.fail("the bucket was read for a 304"))

    assert site.raw("GET", "/big.bin", HTTP_IF_NONE_MATCH=tag(BIG)).status_code == 304


# --- ranges ---


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=-5", 995, 999),
        ("bytes=10-", 10, 999),
        ("bytes=990-5000", 990, 999),
        ("bytes=-5000", 0, 999),
    ],
)
def test_a_single_range_is_answered_206_with_exactly_those_bytes(site: Site, header: str, first: int, last: int) -> None:
    response = site.get("/logo.png", HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/1000"
    assert response["Content-Length"] == str(last - first + 1)
    assert body(response) == LOGO[first : last + 1]
    assert response["ETag"] == tag(LOGO)


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=1000-1005", "bytes=-0", "bytes=20-10"])
def test_an_unsatisfiable_range_is_416_with_the_size(site: Site, header: str) -> None:
    response = site.get("/logo.png", HTTP_RANGE=header)

    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1000"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=abc-", "items=0-9"])
def test_several_or_unreadable_ranges_get_the_whole_file(site: Site, header: str) -> None:
    response = site.get("/logo.png", HTTP_RANGE=header)

    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == LOGO


def test_if_range_with_another_tag_gets_the_whole_file(site: Site) -> None:
    old = site.get("/logo.png", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"0123456789abcdef"')
    current = site.get("/logo.png", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=tag(LOGO))

    assert (old.status_code, body(old)) == (200, LOGO)
    assert (current.status_code, body(current)) == (206, LOGO[:10])


def test_a_range_of_a_compressible_file_is_never_compressed(site: Site) -> None:
    response = site.get("/", HTTP_RANGE="bytes=0-99", HTTP_ACCEPT_ENCODING="br, gzip")

    assert response.status_code == 206
    assert "Content-Encoding" not in response
    assert body(response) == PAGE[:100]
    assert response["Vary"] == "Accept-Encoding"


# --- HEAD ---


@pytest.mark.parametrize(("path", "data"), [("/logo.png", LOGO), ("/big.bin", BIG), ("/", PAGE)])
def test_head_has_the_length_and_no_body(site: Site, path: str, data: bytes) -> None:
    response = site.raw("HEAD", path)

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == tag(data)
    assert isinstance(response, HttpResponse)
    assert response.content == b""


def test_head_of_a_large_file_does_not_read_it(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "s3", lambda: pytest.fail("the bucket was read for a HEAD"))

    response = site.raw("HEAD", "/big.bin", HTTP_RANGE="bytes=10-19")

    assert (response.status_code, response["Content-Length"], response["Content-Range"]) == (206, "10", "bytes 10-19/1048576")


def test_a_large_compressible_file_is_streamed_compressed(site: Site) -> None:
    response = site.get("/big.txt", HTTP_ACCEPT_ENCODING="br, gzip")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Encoding"] == "br"
    compressed = b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert response["Content-Length"] == str(len(compressed))
    assert brotli.decompress(compressed) == BIG_TEXT


def test_head_of_a_large_compressible_file_answers_for_the_identity_bytes(site: Site) -> None:
    """The variant's length is not known without reading it, so HEAD describes the plain file."""
    response = site.raw("HEAD", "/big.txt", HTTP_ACCEPT_ENCODING="br, gzip")

    assert "Content-Encoding" not in response
    assert (response.status_code, response["Content-Length"], response["ETag"]) == (200, str(len(BIG_TEXT)), tag(BIG_TEXT))


def test_head_of_a_compressed_answer_has_the_variants_length(site: Site) -> None:
    variant = store.get_blob(store.object_key(sha256(PAGE), "br"))
    assert variant is not None

    response = site.raw("HEAD", "/", HTTP_ACCEPT_ENCODING="br")

    assert (response["Content-Encoding"], response["Content-Length"]) == ("br", str(len(variant)))


# --- encodings ---


@pytest.mark.parametrize(
    ("accept_encoding", "chosen"),
    [
        ("br, gzip", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br; q=0.0, gzip", "gzip"),
        ("BR", "br"),
        ("br;q=0, gzip;q=0", ""),
        ("deflate", ""),
        ("", ""),
    ],
)
def test_the_encoding_follows_accept_encoding(site: Site, accept_encoding: str, chosen: str) -> None:
    response = site.get("/", HTTP_ACCEPT_ENCODING=accept_encoding)

    assert response.status_code == 200
    assert response.get("Content-Encoding", "") == chosen
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, "": bytes}[chosen](body(response))
    assert decoded == PAGE
    assert response["ETag"] == tag(PAGE, chosen)
    assert response["Content-Length"] == str(len(body(response)))


def test_no_accept_encoding_header_gets_identity(site: Site) -> None:
    response = site.get("/")

    assert "Content-Encoding" not in response
    assert body(response) == PAGE


def test_vary_accept_encoding_only_when_variants_exist(site: Site) -> None:
    assert site.get("/", HTTP_ACCEPT_ENCODING="gzip")["Vary"] == "Accept-Encoding"
    assert site.get("/")["Vary"] == "Accept-Encoding"
    assert site.get("/", HTTP_IF_NONE_MATCH=tag(PAGE))["Vary"] == "Accept-Encoding"
    assert "Vary" not in site.get("/logo.png", HTTP_ACCEPT_ENCODING="br, gzip")


def test_a_file_without_variants_is_never_encoded(site: Site) -> None:
    response = site.get("/logo.png", HTTP_ACCEPT_ENCODING="br, gzip")

    assert "Content-Encoding" not in response
    assert body(response) == LOGO


# --- Cache-Control ---


def test_cache_control_of_served_files(site: Site) -> None:
    assert site.get("/")["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert site.get("/assets/index-Diw4gTda.js")["Cache-Control"] == "public, max-age=31536000, immutable"
    assert site.get("/logo.png")["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert site.get("/logo.png")["X-Content-Type-Options"] == "nosniff"
    assert site.get("/logo.png")["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("path", "immutable"),
    [
        ("index.html", False),
        ("docs/index.html", False),
        ("assets/index-Diw4gTda.js", True),
        # A Vite hash holding - or _ is missed on purpose: revalidated, never wrongly kept a year.
        ("assets/vendor-BxQ_4e-Z.js", False),
        ("assets/index-DiwrgTda.js", False),  # no digit: could be a word, so revalidated
        ("static/css/main.3f2a1b9c.chunk.css", True),
        ("3f2a1b9c4d.js", True),
        ("main.3f2a1b9c.css", True),
        ("static/js/main.3f2a1b9c4d5e6f70.js", True),
        ("_next/static/chunks/x.js", True),
        ("_next/static/css/app.css", True),
        ("logo.png", False),
        ("Header-Component.js", False),
        ("assets/Header-Component.js", False),
        ("robots.txt", False),
        ("my-long-file-name.js", False),
        ("_next/data/page.json", False),
        ("favicon.ico", False),
    ],
)
def test_long_lived_is_for_names_that_carry_a_hash(path: str, immutable: bool) -> None:
    assert delivery.long_lived(path) is immutable
    entry = delivery.Entry(path, "0" * 64, 1, "text/plain", ())
    expected = delivery.LONG_LIVED if immutable else delivery.REVALIDATE
    assert delivery.cache_control(entry) == expected


@pytest.mark.parametrize(
    "path", ["android-chrome-192x192.png", "apple-touch-icon-180x180.png", "Header-SubComponent.js", "font-awesome-v5.css"]
)
def test_plain_names_with_digits_or_capitals_are_not_long_lived(path: str) -> None:
    assert delivery.long_lived(path) is False


# --- large files and the memory cache ---


def test_a_large_file_is_streamed_whole(site: Site) -> None:
    response = site.get("/big.bin")

    assert isinstance(response, StreamingHttpResponse)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(BIG))
    assert b"".join(response.streaming_content) == BIG  # type: ignore[arg-type]
    assert store.memory.get(store.object_key(sha256(BIG))) is None


@pytest.mark.parametrize(("first", "last"), [(200_000, 600_000), (1_048_000, 1_048_575), (0, 0)])
def test_a_range_of_a_large_file(site: Site, first: int, last: int) -> None:
    response = site.get("/big.bin", HTTP_RANGE=f"bytes={first}-{last}")

    assert isinstance(response, StreamingHttpResponse)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(BIG)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert b"".join(response.streaming_content) == BIG[first : last + 1]  # type: ignore[arg-type]


def test_a_small_file_is_served_from_memory_the_second_time(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    first = site.get("/logo.png")
    assert not first.streaming
    assert first.content == LOGO

    def no_bucket() -> None:
        raise AssertionError("S3 was called")

    monkeypatch.setattr(store, "s3", no_bucket)

    second = site.get("/logo.png")
    assert (second.status_code, second.content) == (200, LOGO)
    with pytest.raises(AssertionError, match="S3 was called"):
        site.get("/assets/index-Diw4gTda.js")  # never read yet: the patch does stop bucket reads


def test_with_the_memory_cache_off_small_files_are_streamed(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "memory", store.ObjectCache(max_bytes=0, max_object=256 * 1024))  # HOSTING_MEMORY_CACHE_MB=0

    response = site.get("/logo.png")
    head = site.raw("HEAD", "/", HTTP_ACCEPT_ENCODING="br")

    assert isinstance(response, StreamingHttpResponse)
    assert b"".join(response.streaming_content) == LOGO  # type: ignore[arg-type]
    assert store.memory.get(store.object_key(sha256(LOGO))) is None
    assert (head.get("Content-Encoding"), head["Content-Length"]) == (None, str(len(PAGE)))


def test_each_variant_is_remembered_apart(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    identity = site.get("/")
    br = site.get("/", HTTP_ACCEPT_ENCODING="br")
    monkeypatch.setattr(store, "s3", lambda: pytest.fail("S3 was called"))

    assert site.get("/").content == identity.content == PAGE
    assert brotli.decompress(site.get("/", HTTP_ACCEPT_ENCODING="br").content) == PAGE
    assert br.content != identity.content


def test_deployed_bytes(site: Site) -> None:
    assert delivery.deployed_bytes(site.deployment, "index.html") == PAGE
    assert delivery.deployed_bytes(site.deployment, "missing.html") is None


def test_manifest_lists_the_files(site: Site) -> None:
    files = delivery.manifest(site.deployment)

    assert set(files) == set(FILES)
    assert len(BIG_TEXT) > store.memory.limit
    assert files["index.html"] == delivery.Entry(
        "index.html", sha256(PAGE), len(PAGE), "text/html; charset=utf-8", ("br", "gzip"), sha256(PAGE)[:40]
    )
    assert files["logo.png"].encodings == ()


# --- validators across deployments ---


def test_a_new_deployment_of_a_changed_file_is_not_answered_304(site: Site, tmp_path: Path) -> None:
    old_tag = site.get("/").get("ETag")
    deploy(site.branch, tmp_path, {**FILES, "index.html": PAGE + b"<!-- v2 -->"})

    response = site.get("/", HTTP_IF_NONE_MATCH=old_tag)

    assert (response.status_code, body(response)) == (200, PAGE + b"<!-- v2 -->")


def test_a_redeploy_of_the_same_bytes_keeps_the_tag(site: Site, tmp_path: Path) -> None:
    old_tag = site.get("/logo.png")["ETag"]
    deploy(site.branch, tmp_path, FILES)

    assert site.raw("GET", "/logo.png", HTTP_IF_NONE_MATCH=old_tag).status_code == 304


def test_legacy_files_of_the_same_size_do_not_share_a_tag(site: Site) -> None:
    branch = site.branch

    def legacy(text: bytes) -> Deployment:
        made = Deployment.objects.create(branch=branch, job_id=new_job(branch), file_count=1, total_bytes=len(text))
        made.files.create(path="index.html", content_type="text/html; charset=utf-8", size=len(text), content=text)
        return made

    first, second = legacy(b"<p>one</p>"), legacy(b"<p>two</p>")
    redeploy(branch, first)
    seen = site.get("/")
    assert body(seen) == b"<p>one</p>"
    redeploy(branch, second)

    response = site.get("/", HTTP_IF_NONE_MATCH=seen["ETag"])

    assert (response.status_code, body(response)) == (200, b"<p>two</p>")


def test_a_rollback_is_not_answered_304_to_if_modified_since(site: Site, tmp_path: Path) -> None:
    Deployment.objects.filter(pk=site.deployment.pk).update(created_at=site.deployment.created_at - timedelta(hours=1))
    newer = deploy(site.branch, tmp_path, {**FILES, "index.html": PAGE + b"<!-- v2 -->"})
    # Live since an hour ago (dates have whole seconds: a rollback in the same second as the
    # deploy before it cannot be told apart by date; ETags tell it).
    Deployment.objects.filter(pk=newer.pk).update(live_since=newer.created_at - timedelta(hours=1))
    seen = site.get("/")
    assert body(seen) == PAGE + b"<!-- v2 -->"
    redeploy(site.branch, Deployment.objects.get(pk=site.deployment.pk))

    response = site.get("/", HTTP_IF_MODIFIED_SINCE=seen["Last-Modified"])

    assert newer.pk != site.deployment.pk
    assert (response.status_code, body(response)) == (200, PAGE)
