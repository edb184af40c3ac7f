"""Reading a branch stack's `buckets` output to know which buckets the stack owns."""

from __future__ import annotations

import json

from apps.branches.ownership import _json_list

BUCKET = {"name": "todoFiles", "bucketName": "amplify-app-main-todofiles-1a2b", "storageRegion": "us-east-1"}


def test_real_stacks_array_of_json_strings_is_read() -> None:
    # What the real storage construct writes: each bucket serialized on its own.
    output = json.dumps([json.dumps(BUCKET), json.dumps({**BUCKET, "name": "second", "bucketName": "b2"})])
    assert [b["bucketName"] for b in _json_list(output)] == ["amplify-app-main-todofiles-1a2b", "b2"]


def test_older_array_of_objects_is_still_read() -> None:
    assert _json_list(json.dumps([BUCKET])) == [BUCKET]


def test_malformed_entries_are_skipped_not_fatal() -> None:
    output = json.dumps(["{not json", 7, None, json.dumps(BUCKET), json.dumps("a string")])
    assert _json_list(output) == [BUCKET]
    assert _json_list("not json") == []
    assert _json_list(json.dumps({"bucketName": "x"})) == []
