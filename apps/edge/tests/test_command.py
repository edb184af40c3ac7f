"""manage.py edge: where the console listens (--console), where the edge does (--bind)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from apps.edge.management.commands.edge import console_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unix:/run/console/web.sock", "/run/console/web.sock"),
        ("unix:relative.sock", "relative.sock"),
        ("/run/console/web.sock", "/run/console/web.sock"),  # a bare path
        ("var/run/web.sock", "var/run/web.sock"),
        ("web.sock", "web.sock"),
        ("127.0.0.1:8001", ("127.0.0.1", 8001)),
        ("localhost:80", ("localhost", 80)),
        ("[::1]:8001", ("::1", 8001)),  # the brackets are URL syntax, not part of the address
        ("/run/odd:8001", "/run/odd:8001"),  # a path with a colon is still a path
        ("unix:/run/a:1", "/run/a:1"),
    ],
)
def test_console_addresses_are_read_as_paths_or_host_and_port(text: str, expected: str | tuple[str, int]) -> None:
    assert console_address(text) == expected


@pytest.mark.parametrize("bind", ["8000", "localhost", "127.0.0.1:http", ":8000"])
def test_a_bind_that_is_not_host_and_port_is_refused(bind: str) -> None:
    with pytest.raises(CommandError, match="--bind must be HOST:PORT"):
        call_command("edge", bind=bind)
