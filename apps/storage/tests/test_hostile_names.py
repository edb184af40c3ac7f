"""Keys are hostile input. `<script>`, `../x`, unicode, spaces, control characters and a
leading `/` round-trip: uploaded, listed (escaped, control characters visible), linked,
selected, downloaded, and zipped under safe entry names."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.storage import keys
from apps.storage.tests.conftest import all_keys, body_of, url
from apps.storage.tests.uploading import upload_small

HOSTILE = {
    "<script>alert(1)</script>.txt": "&lt;script&gt;alert(1)&lt;/script&gt;.txt",
    "../x": "x",  # listed inside the folder ".."
    "ünïcödé 文件.txt": "ünïcödé 文件.txt",
    "with  two spaces .txt": "with  two spaces .txt",
    "bell\x07and\nnewline\r.txt": 'bell<span class="ctl" title="invisible character">\\x07</span>and<span class="ctl" '
    'title="invisible character">\\x0a</span>newline<span class="ctl" title="invisible character">\\x0d</span>.txt',
    "/etc/passwd": "passwd",  # listed inside the folder "" (empty name) inside the top
    "rtl\u202egnp.exe": 'rtl<span class="ctl" title="invisible character">\\u202e</span>gnp.exe',
    "quote\"and'apostrophe&amp.txt": "quote&quot;and&#x27;apostrophe&amp;amp.txt",
}


@pytest.fixture
def uploaded(operator_client: Client, branch: Branch, bucket: str) -> dict[str, bytes]:
    contents = {}
    for number, key in enumerate(HOSTILE):
        data = f"content {number}".encode()
        response = upload_small(operator_client, branch, key, data)
        assert response.status_code == 200, response.content
        assert response.json()["key"] == key
        contents[key] = data
    return contents


def test_hostile_keys_are_stored_exactly_as_given(uploaded: dict[str, bytes], s3: Any) -> None:
    assert all_keys(s3) == sorted(HOSTILE)


def test_hostile_names_are_listed_escaped_with_control_characters_visible(
    viewer_client: Client, branch: Branch, uploaded: dict[str, bytes]
) -> None:
    top = viewer_client.get(url("storage_browse", branch)).content.decode()
    assert "<script>alert(1)" not in top
    for key, shown in HOSTILE.items():
        if "/" not in key:
            assert f"</span>{shown}</a>" in top, key
    assert '</span><span class="ctl">(empty name)</span>/</a>' in top  # the folder of "/etc/passwd"
    assert "</span>../</a>" in top
    inside_dots = viewer_client.get(url("storage_browse", branch, prefix="../")).content.decode()
    assert "</span>x</a>" in inside_dots
    leading = viewer_client.get(url("storage_browse", branch, prefix="/")).content.decode()
    assert "</span>etc/</a>" in leading
    passwd = viewer_client.get(url("storage_browse", branch, prefix="/etc/")).content.decode()
    assert "</span>passwd</a>" in passwd


def test_every_hostile_name_has_a_working_details_page_and_download(
    viewer_client: Client, branch: Branch, uploaded: dict[str, bytes]
) -> None:
    for key in HOSTILE:
        details = viewer_client.get(url("storage_object", branch, key=key))
        assert details.status_code == 200, key
        assert "<script>alert" not in details.content.decode()
        download = viewer_client.get(url("storage_download", branch, key=key))
        if not keys.survives_in_url(key):  # "../x": a browser would resolve the link; streamed instead
            assert (download.status_code, body_of(download)) == (200, uploaded[key])
            assert download["Content-Disposition"].startswith("attachment; filename")
            continue
        assert download.status_code == 302
        query = parse_qs(urlsplit(download["Location"]).query)
        assert query["response-content-disposition"][0].startswith("attachment; filename")
        assert "\n" not in download["Location"]
        assert "\r" not in download["Location"]


def test_hostile_names_survive_a_form_round_trip(
    operator_client: Client, branch: Branch, s3: Any, uploaded: dict[str, bytes]
) -> None:
    """Form values are percent-encoded, so CRs and LFs reach the server as they are."""
    page = operator_client.get(url("storage_browse", branch)).content.decode()
    value = keys.form_value("bell\x07and\nnewline\r.txt")
    assert f'value="{value}"' in page
    operator_client.post(url("storage_delete", branch), {"keys": [value], "confirmed": "1"})
    assert "bell\x07and\nnewline\r.txt" not in all_keys(s3)
    assert len(all_keys(s3)) == len(HOSTILE) - 1


def test_zip_entry_names_are_made_safe(viewer_client: Client, branch: Branch, uploaded: dict[str, bytes]) -> None:
    response = viewer_client.get(url("storage_zip", branch))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    names = archive.namelist()
    for name in names:
        assert not name.startswith("/")
        assert ".." not in name.split("/")
        assert "\\" not in name
        assert not any(ord(c) < 32 or c == "\u202e" for c in name), name
    assert sorted(names) == sorted([
        "<script>alert(1)</script>.txt", "x", "ünïcödé 文件.txt", "with  two spaces .txt", "bell_and_newline_.txt",
        "etc/passwd", "rtl_gnp.exe", "quote\"and'apostrophe&amp.txt",
    ])  # fmt: skip
    assert archive.read("x") == uploaded["../x"]
    assert archive.read("etc/passwd") == uploaded["/etc/passwd"]
    assert archive.testzip() is None


def test_zip_entry_names_that_collide_get_numbered(viewer_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    colliding = ("d/a.txt", "d/../a.txt", "d/./a.txt", "d//a.txt")
    for key in colliding:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    archive = zipfile.ZipFile(io.BytesIO(body_of(viewer_client.get(url("storage_zip", branch, prefix="d/")))))
    assert sorted(archive.namelist()) == ["d/a (2).txt", "d/a (3).txt", "d/a (4).txt", "d/a.txt"]
    assert sorted(archive.read(n) for n in archive.namelist()) == sorted(k.encode() for k in colliding)


@pytest.mark.parametrize(
    ("relative", "safe"),
    [("/abs/path", "abs/path"), ("../../etc/passwd", "etc/passwd"), ("a/./b/../c", "a/b/c"), ("a\\..\\b", "a_.._b"),
     ("tab\tname", "tab_name"), ("..", ""), ("ok name.txt", "ok name.txt")],
)  # fmt: skip
def test_zip_entry_name(relative: str, safe: str) -> None:
    assert keys.zip_entry_name(relative) == safe


def test_a_folder_of_hostile_names_copies_moves_and_deletes_whole(
    operator_client: Client, branch: Branch, s3: Any, bucket: str
) -> None:
    inside = [f"evil/{key.lstrip('/')}" for key in HOSTILE] + ["evil/cr\ronly", "evil/nul\x00byte"]
    for key in inside:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    value = keys.form_value("evil/")
    operator_client.post(url("storage_transfer", branch), {"mode": "copy", "go": "typed", "dest": "copy/", "folders": [value]})
    assert all_keys(s3, "copy/") == sorted("copy/" + key for key in inside)
    operator_client.post(url("storage_transfer", branch), {"mode": "move", "go": "typed", "dest": "moved/", "folders": [value]})
    assert all_keys(s3, "evil/") == []
    assert all_keys(s3, "moved/") == sorted("moved/" + key for key in inside)
    assert s3.get_object(Bucket=bucket, Key="moved/evil/cr\ronly")["Body"].read() == b"evil/cr\ronly"
    operator_client.post(url("storage_delete", branch), {"folders": [keys.form_value("moved/"), keys.form_value("copy/")],
                                                         "confirm": f"delete {2 * len(inside)} objects"})  # fmt: skip
    assert all_keys(s3) == []
