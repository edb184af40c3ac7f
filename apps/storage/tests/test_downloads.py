"""Downloads: presigned attachments, previews (images inline, HTML/SVG/unknown never),
object details, and zips of a folder or a selection, streamed."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.storage import s3 as storage_s3
from apps.storage.keys import form_value, survives_in_url
from apps.storage.tests.conftest import BUCKET, body_of, url
from console.aws_errors import AwsNotFound


def presigned_query(response: Any) -> dict[str, str]:
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def test_download_redirects_to_a_short_lived_presigned_attachment(
    viewer_client: Client, branch: Branch, put: Callable[..., None], settings: Any
) -> None:
    settings.STORAGE_PRESIGN_SECONDS = 120
    put("docs/report 2024.csv", content_type="text/csv")
    response = viewer_client.get(url("storage_download", branch, key="docs/report 2024.csv"))
    query = presigned_query(response)
    assert urlsplit(response["Location"]).path.endswith("/docs/report%202024.csv")
    assert query["X-Amz-Expires"] == "120"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["response-content-disposition"] == 'attachment; filename="report 2024.csv"'
    assert "response-content-type" not in query  # a CSV keeps its type; the disposition makes it a download
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("key", ["site/index.html", "img/icon.svg", "data/blob.bin", "docs/page.xhtml"])
def test_html_svg_and_unknown_files_are_only_ever_attachments(viewer_client: Client, branch: Branch, key: str) -> None:
    for name in ("storage_preview", "storage_download"):
        query = presigned_query(viewer_client.get(url(name, branch, key=key)))
        assert query["response-content-disposition"].startswith("attachment;")
        assert query["response-content-type"] == "application/octet-stream"


def test_images_preview_inline_with_a_type_from_their_name(viewer_client: Client, branch: Branch) -> None:
    query = presigned_query(viewer_client.get(url("storage_preview", branch, key="img/cat.JPG")))
    assert query["response-content-disposition"].startswith("inline;")
    assert query["response-content-type"] == "image/jpeg"


def test_details_show_metadata_and_an_escaped_truncated_text_preview(
    viewer_client: Client, branch: Branch, s3: Any, bucket: str
) -> None:
    text = "<b>not bold</b>\n" + "line\n" * 20_000
    s3.put_object(Bucket=bucket, Key="docs/notes.txt", Body=text.encode(), ContentType="text/plain",
                  Metadata={"author": "ada"}, StorageClass="STANDARD_IA")  # fmt: skip
    page = viewer_client.get(url("storage_object", branch, key="docs/notes.txt")).content.decode()
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert "<b>not bold</b>" not in page
    assert "The first 65536 characters" in page
    assert "STANDARD_IA" in page
    assert "<code>author</code>: ada" in page
    assert "text/plain" in page
    etag = s3.head_object(Bucket=bucket, Key="docs/notes.txt")["ETag"].strip('"')
    assert etag in page


def test_details_of_html_show_no_preview(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put("x.html", body=b"<script>alert(1)</script>", content_type="text/html")
    page = viewer_client.get(url("storage_object", branch, key="x.html")).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" not in page
    assert "only downloaded, never shown here" in page


def test_details_of_an_image_embed_the_preview(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put("img/a.png", content_type="image/png")
    page = viewer_client.get(url("storage_object", branch, key="img/a.png")).content.decode()
    assert '<img class="preview-image" src="/apps/' in page
    assert "/preview/?key=img%2Fa.png" in page


def test_a_missing_object_goes_back_to_its_folder(viewer_client: Client, branch: Branch, bucket: str) -> None:
    response = viewer_client.get(url("storage_object", branch, key="gone/file.txt"))
    assert response.status_code == 302
    assert response["Location"].endswith("prefix=gone%2F")


def zip_of(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response.streaming
    return zipfile.ZipFile(io.BytesIO(body_of(response)))


def test_a_folder_downloads_as_one_streamed_zip(viewer_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    files = {"photos/a.png": b"\x89PNG" + bytes(3000), "photos/2024/b.txt": b"hello " * 1000, "photos/empty/": b"",
             "other.txt": b"not in the zip"}  # fmt: skip
    for key, data in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    response = viewer_client.get(url("storage_zip", branch, prefix="photos/"))
    assert response["Content-Disposition"] == 'attachment; filename="photos.zip"'
    archive = zip_of(response)
    assert sorted(archive.namelist()) == ["photos/2024/b.txt", "photos/a.png", "photos/empty/"]
    assert archive.read("photos/2024/b.txt") == files["photos/2024/b.txt"]
    assert archive.getinfo("photos/a.png").compress_type == zipfile.ZIP_STORED  # already compressed
    assert archive.getinfo("photos/2024/b.txt").compress_type == zipfile.ZIP_DEFLATED
    assert archive.testzip() is None


def test_the_selection_downloads_as_one_zip(viewer_client: Client, branch: Branch, put: Callable[..., None]) -> None:
    put("docs/a.txt", "docs/b.txt", "docs/sub/c.txt", "docs/sub/d/e.txt", body=b"data")
    response = viewer_client.post(url("storage_zip", branch), {
        "prefix": form_value("docs/"), "keys": [form_value("docs/a.txt")], "folders": [form_value("docs/sub/")]})  # fmt: skip
    assert response["Content-Disposition"] == 'attachment; filename="shop-main-files.zip"'
    assert sorted(zip_of(response).namelist()) == ["a.txt", "sub/c.txt", "sub/d/e.txt"]


def test_a_zip_names_objects_that_vanished(
    viewer_client: Client, branch: Branch, put: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    put("docs/a.txt", "docs/b.txt")
    real = storage_s3.open_chunks

    def vanishing(bucket: str, region: str, key: str, chunk_size: int = storage_s3.READ_CHUNK) -> Any:
        if key == "docs/b.txt":
            raise AwsNotFound("s3:GetObject: not found (NoSuchKey)", action="s3:GetObject")
        return real(bucket, region, key, chunk_size)

    monkeypatch.setattr(storage_s3, "open_chunks", vanishing)
    archive = zip_of(viewer_client.get(url("storage_zip", branch, prefix="docs/")))
    assert sorted(archive.namelist()) == ["ERRORS.txt", "docs/a.txt"]
    assert "docs/b.txt: s3:GetObject: not found" in archive.read("ERRORS.txt").decode()


def test_zip_objects_are_read_in_chunks(viewer_client: Client, branch: Branch, s3: Any, bucket: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Each object is read a chunk at a time and the response yields as it goes."""
    s3.put_object(Bucket=bucket, Key="big/blob.bin", Body=bytes(5 * 1024 * 1024))
    monkeypatch.setattr(storage_s3, "READ_CHUNK", 256 * 1024)
    seen: list[int] = []
    real = storage_s3.open_chunks

    def recording(bucket: str, region: str, key: str, chunk_size: int = 1024 * 1024) -> Any:
        for chunk in real(bucket, region, key, 256 * 1024):
            seen.append(len(chunk))
            yield chunk

    monkeypatch.setattr(storage_s3, "open_chunks", recording)
    response = viewer_client.get(url("storage_zip", branch, prefix="big/"))
    pieces = list(response.streaming_content)  # type: ignore[attr-defined]
    assert max(seen) <= 256 * 1024
    assert len(seen) == 20
    assert len(pieces) > 20  # handed out while reading, not at the end
    assert zipfile.ZipFile(io.BytesIO(b"".join(pieces))).read("big/blob.bin") == bytes(5 * 1024 * 1024)


def test_a_viewer_may_download_the_selection_but_nothing_else_is_posted(viewer_client: Client, branch: Branch,
                                                                         put: Callable[..., None]) -> None:  # fmt: skip
    put("a.txt")
    response = viewer_client.post(url("storage_zip", branch), {"keys": [form_value("a.txt")]})
    assert zip_of(response).namelist() == ["a.txt"]
    empty = viewer_client.post(url("storage_zip", branch), {})
    assert empty.status_code == 302
    assert BUCKET in empty["Location"]


# Keys with "." or ".." segments: legal in S3, listed by the browser, but a browser resolves
# such segments in a link's path before sending it, so a presigned link would fetch another key.


@pytest.mark.parametrize(
    ("key", "survives"),
    [
        ("docs/report.pdf", True),
        ("docs/..report.pdf", True),  # dots inside a name are a name
        ("docs/.hidden", True),
        ("a/.../b", True),
        ("docs/../report.pdf", False),
        ("../x", False),
        ("./x", False),
        ("a/./b", False),
        ("a/..", False),
        ("..", False),
    ],
)
def test_keys_with_dot_segments_do_not_survive_in_a_url(key: str, survives: bool) -> None:
    assert survives_in_url(key) is survives


def test_a_key_a_browser_would_resolve_is_streamed_through_the_console(
    viewer_client: Client, branch: Branch, put: Callable[..., None]
) -> None:
    put("report.pdf", body=b"the other file", content_type="application/pdf")
    put("docs/../report.pdf", body=b"%PDF the dotted one", content_type="application/pdf")
    response = viewer_client.get(url("storage_download", branch, key="docs/../report.pdf"))
    assert response.status_code == 200
    assert body_of(response) == b"%PDF the dotted one"
    assert response["Content-Length"] == str(len(b"%PDF the dotted one"))
    assert response["Content-Type"] == "application/octet-stream"  # as the presigned link would say
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert (response["Content-Security-Policy"], response["X-Content-Type-Options"]) == ("sandbox", "nosniff")
    assert response["Cache-Control"] == "no-store"
    # Every other key still goes straight to S3.
    assert viewer_client.get(url("storage_download", branch, key="report.pdf")).status_code == 302
    # A text file keeps its stored type, as the presigned link leaves it.
    put("data/../table.csv", body=b"a,b\n", content_type="text/csv")
    csv = viewer_client.get(url("storage_download", branch, key="data/../table.csv"))
    assert (body_of(csv), csv["Content-Type"]) == (b"a,b\n", "text/csv")


def test_a_dotted_image_previews_inline_and_dotted_html_only_downloads(
    viewer_client: Client, branch: Branch, put: Callable[..., None]
) -> None:
    put("img/./cat.png", body=b"\x89PNG cat", content_type="text/html")  # a false stored type
    put("site/../index.html", body=b"<script>alert(1)</script>", content_type="text/html")
    image = viewer_client.get(url("storage_preview", branch, key="img/./cat.png"))
    assert (image.status_code, body_of(image), image["Content-Type"]) == (200, b"\x89PNG cat", "image/png")
    assert image["Content-Disposition"].startswith("inline;")
    page = viewer_client.get(url("storage_preview", branch, key="site/../index.html"))
    assert page["Content-Type"] == "application/octet-stream"
    assert page["Content-Disposition"].startswith("attachment;")
    assert page["Content-Security-Policy"] == "sandbox"


def test_a_missing_dotted_key_is_not_found(viewer_client: Client, branch: Branch, bucket: str) -> None:
    assert viewer_client.get(url("storage_download", branch, key="gone/../nothing.txt")).status_code == 404
