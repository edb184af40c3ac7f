"""Bodies no client would send: the API answers BadRequest, never an internal error."""

from __future__ import annotations

import pytest

from apps.amplify_api.protocol import ApiError, matches, parse_input


def test_a_body_nested_too_deeply_is_a_bad_request() -> None:
    match = next(matches("POST", "/apps", raw=True))
    deep = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ApiError) as raised:
        parse_input(match, "", deep)
    assert "nested too deeply" in str(raised.value)
