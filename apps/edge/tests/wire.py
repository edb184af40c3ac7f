"""A raw HTTP/1.1 client for the edge tests: requests written byte for byte, answers read as framed.

http.client hides what the tests must see (chunk boundaries, interim answers, whether the
connection was closed), so the edge is spoken to over a plain socket with one buffered reader.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

TIMEOUT = 5.0
# A Host that names no site and costs no query: an IP address is the console's own
# (apps.hosting.serving.site_for_host), so relaying to the console needs no database.
CONSOLE_HOST = "127.0.0.1:8000"
NO_BODY = (204, 304)


@dataclass
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)  # the pieces as the edge framed them, when chunked

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.header("Transfer-Encoding") or "").lower()


def request_bytes(
    method: str, target: str, host: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"", version: str = "1.1"
) -> bytes:
    """A request head (with Content-Length for a body, unless a Transfer-Encoding is given) and its body."""
    lines = [f"{method} {target} HTTP/{version}", f"Host: {host}"]
    given = headers or []
    lines += [f"{name}: {value}" for name, value in given]
    named = {name.lower() for name, _ in given}
    if body and "transfer-encoding" not in named and "content-length" not in named:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Client:
    """One connection to the edge."""

    def __init__(self, port: int, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    @property
    def address(self) -> str:
        """This side's IP address, as the edge sees it."""
        return str(self.sock.getsockname()[0])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def get(self, target: str, host: str, headers: list[tuple[str, str]] | None = None, method: str = "GET") -> Answer:
        self.send(request_bytes(method, target, host, headers))
        return self.answer(method)

    def line(self) -> bytes:
        found = self.reader.readline(65537)
        if not found:
            raise ConnectionError("the edge closed the connection")
        return found

    def head(self) -> Answer:
        status_line = self.line().decode("latin-1").rstrip("\r\n")
        version, status, *reason = status_line.split(" ", 2)
        assert version.startswith("HTTP/1."), status_line
        headers = []
        while (line := self.line()) not in (b"\r\n", b"\n"):
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip()))
        return Answer(int(status), reason[0] if reason else "", headers)

    def chunk(self) -> bytes:
        """The next piece of a chunked body; b"" for the last one (its empty trailer read too)."""
        size = int(self.line().split(b";")[0].strip(), 16)
        if size == 0:
            while self.line() not in (b"\r\n", b"\n"):
                pass
            return b""
        data = self.reader.read(size)
        assert self.reader.read(2) == b"\r\n"
        return data

    def answer(self, method: str = "GET") -> Answer:
        """The next final answer (interim 1xx answers skipped), its body read as framed."""
        found = self.head()
        while 100 <= found.status < 200:
            found = self.head()
        if method == "HEAD" or found.status in NO_BODY:
            return found
        length = found.header("Content-Length")
        if found.chunked:
            while piece := self.chunk():
                found.chunks.append(piece)
            found.body = b"".join(found.chunks)
        elif length is not None:
            found.body = self.reader.read(int(length))
        else:
            found.body = self.reader.read()  # close-delimited
        return found

    def closed_by_edge(self) -> bool:
        """Whether the edge closed the connection (end of stream within the timeout, nothing more sent)."""
        try:
            return self.reader.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
