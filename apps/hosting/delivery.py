"""Answering for one deployed file: validators, ranges, encodings, caching, streaming.

- `ETag` is the content hash (a variant adds `-br`/`-gzip`), so it survives redeploys
  of the same bytes; `If-None-Match` (any variant of the same bytes) and
  `If-Modified-Since` answer 304 without touching the bucket.
- One `bytes=` range per request (206, or 416 when unsatisfiable); several ranges,
  or an `If-Range` that no longer matches, get the whole file, as RFC 9110 allows.
- Pre-compressed variants are chosen by `Accept-Encoding` (br, then gzip), never
  for ranges (a range of compressed bytes means nothing to a video player).
- Cache-Control: a file whose name carries a content hash (`index-DiwrgTda.js`,
  `main.3f2a1b9c.css`) or lives under `_next/static/` never changes, so browsers
  keep it a year (`immutable`); everything else, HTML first, is `max-age=0,
  must-revalidate`: browsers keep it but ask each time, which costs a 304 and
  means a deploy is seen at once. Amplify's own default does the same for HTML;
  a custom header may set any other policy.
- Files up to 256 KiB come from this process's memory once read (store.memory);
  larger ones are streamed from the bucket a chunk at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from posixpath import normpath

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

from apps.hosting import store
from apps.hosting.models import DeployedFile, Deployment

Answer = HttpResponse | StreamingHttpResponse
LONG_LIVED = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"
_PARTS = re.compile(r"[.-]")
_HEX = re.compile(r"[0-9a-f]{8,32}")


@dataclass(frozen=True)
class Entry:
    path: str
    sha256: str  # "" for a file still held in the database (made before the bucket)
    size: int
    content_type: str
    encodings: tuple[str, ...]
    # Its entity tag: the content hash, or for a file held in the database its row (the
    # bytes of a row never change), since there is no hash to tell two such files apart.
    tag: str = ""


@lru_cache(maxsize=64)
def _manifest(deployment_pk: int, created: float) -> dict[str, Entry]:
    rows = DeployedFile.objects.filter(deployment_id=deployment_pk).values_list(
        "pk", "path", "sha256", "size", "content_type", "encodings"
    )
    return {
        path: Entry(path, sha256, size, content_type, _encodings(encodings), sha256[:40] if sha256 else f"db-{pk}")
        for pk, path, sha256, size, content_type, encodings in rows
    }


def _encodings(text: str) -> tuple[str, ...]:
    return tuple(e for e in text.split(",") if e)


def manifest(deployment: Deployment) -> dict[str, Entry]:
    """The deployment's files by path, read once per process: a deployment never changes
    once complete (its creation time is in the key, so a reused id is a new entry)."""
    return _manifest(deployment.pk, deployment.created_at.timestamp())


def resolve(files: dict[str, Entry], path: str) -> tuple[Entry | None, str | None]:
    """(file, redirect) for a request path: directories serve index.html; `/dir` becomes `/dir/`."""
    clean = normpath("/" + path).lstrip("/")
    if clean in ("", "."):
        clean = ""
    if clean and not path.endswith("/"):
        found = files.get(clean)
        if found is not None:
            return found, None
        if f"{clean}/index.html" in files:
            return None, "/" + clean + "/"
        return None, None
    return files.get(f"{clean}/index.html".lstrip("/")), None


def long_lived(path: str) -> bool:
    """Whether the file's name carries a content hash, so that the name never changes content.

    A hash is a part of the name between dots or dashes that is hex of 8 to 32 characters
    with digits and letters (webpack, CRA: `main.3f2a1b9c.chunk.css`), or 8 characters of
    digits, upper and lower case letters (Vite: `index-Bq3xY9aZ.js`). Names like
    `android-chrome-192x192.png`, `font-awesome-v5.css` or `Header-SubComponent.js` are not:
    mistaking one would keep a changed file in browsers for a year, so a Vite hash that happens
    to have no digit is missed instead (it is only revalidated)."""
    if path.startswith("_next/static/"):
        return True
    name = path.rsplit("/", 1)[-1]
    return any(_hashed_part(part) for part in _PARTS.split(name)[:-1])  # not the extension


def _hashed_part(part: str) -> bool:
    has_digit = any(c.isdigit() for c in part)
    if _HEX.fullmatch(part):
        return has_digit and any(c.isalpha() for c in part)
    return len(part) == 8 and part.isalnum() and part.isascii() and has_digit and not part.islower() and not part.isupper()


def cache_control(entry: Entry) -> str:
    return LONG_LIVED if long_lived(entry.path) else REVALIDATE


def _tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header, weak or strong, without variant suffixes."""
    tags = set()
    for raw in header.split(","):
        tag = raw.strip().removeprefix("W/").strip('"')
        tags.add(tag.removesuffix("-br").removesuffix("-gzip"))
    return tags


def not_modified(request: HttpRequest, entry: Entry, modified: float) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return "*" in _tags(if_none_match) or _etag_base(entry) in _tags(if_none_match)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(modified) <= since


def _etag_base(entry: Entry) -> str:
    return entry.tag or entry.sha256[:40]


def etag(entry: Entry, encoding: str = "") -> str:
    return f'"{_etag_base(entry)}{"-" + encoding if encoding else ""}"'


def byte_range(request: HttpRequest, entry: Entry) -> tuple[int, int] | bool | None:
    """(first, last) of a satisfiable single range; None for the whole file; False: 416."""
    header = request.headers.get("Range", "")
    if not header.startswith("bytes=") or "," in header:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag(entry):
        return None
    first_text, _, last_text = header[len("bytes=") :].strip().partition("-")
    try:
        if first_text == "":
            suffix = int(last_text)
            first, last = max(entry.size - suffix, 0), entry.size - 1
            if suffix <= 0:
                return False
        else:
            first = int(first_text)
            last = min(int(last_text), entry.size - 1) if last_text else entry.size - 1
    except ValueError:
        return None  # unparseable: ignored, as RFC 9110 says
    if first < 0 or first > last or first >= entry.size:
        return False
    return first, last


def choose_encoding(request: HttpRequest, entry: Entry) -> str:
    accepted = set()
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(name.strip().lower())
    return next((name for name in ("br", "gzip") if name in entry.encodings and name in accepted), "")


def _common(response: HttpResponse | StreamingHttpResponse, entry: Entry, modified: float, encoding: str) -> None:
    response["ETag"] = etag(entry, encoding)
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = cache_control(entry)
    response["X-Content-Type-Options"] = "nosniff"
    response["Accept-Ranges"] = "bytes"
    if entry.encodings:
        response["Vary"] = "Accept-Encoding"
    if encoding:
        response["Content-Encoding"] = encoding


def _legacy(deployment: Deployment, entry: Entry) -> tuple[bytes, Entry]:
    """A file held in the database: its bytes, or, if it has been moved to the bucket since
    this process read the manifest, its entry as it is now."""
    row = DeployedFile.objects.filter(deployment=deployment, path=entry.path).values_list("content", "sha256", "encodings")
    content, sha256, encodings = row.first() or (b"", "", "")
    if sha256:
        return b"", Entry(entry.path, sha256, entry.size, entry.content_type, _encodings(encodings), sha256[:40])
    return bytes(content or b""), entry


def file_response(request: HttpRequest, deployment: Deployment, entry: Entry, status: int = 200) -> Answer:
    """The response for a file of the deployment, honouring validators and ranges when 200."""
    # Since when it is served: a rollback makes an older deployment newer than the one a
    # client's If-Modified-Since came from.
    modified = (deployment.live_since or deployment.created_at).timestamp()
    if status == 200 and not_modified(request, entry, modified):
        response = HttpResponse(status=304)
        _common(response, entry, modified, "")
        return response
    body = b""
    if not entry.sha256:
        body, entry = _legacy(deployment, entry)
    wanted = byte_range(request, entry) if status == 200 else None
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{entry.size}"
        return response
    encoding = "" if wanted or not entry.sha256 else choose_encoding(request, entry)
    if request.method == "HEAD" and encoding and entry.size > store.memory.limit:
        encoding = ""  # the variant's length is not known without reading it
    answer: HttpResponse | StreamingHttpResponse
    if not entry.sha256:
        answer = _bytes_response(request, body, entry, status, wanted)
    elif isinstance(wanted, tuple) or (small := store.read_small(store.object_key(entry.sha256, encoding), entry.size)) is None:
        key = store.object_key(entry.sha256, encoding)
        answer = _streamed(request, entry, key, status, wanted if isinstance(wanted, tuple) else None)
    else:
        answer = _bytes_response(request, small, entry, status, None)
    answer["Content-Type"] = entry.content_type
    _common(answer, entry, modified, encoding)
    return answer


def _bytes_response(
    request: HttpRequest, body: bytes, entry: Entry, status: int, wanted: tuple[int, int] | bool | None
) -> HttpResponse:
    content_range = ""
    if isinstance(wanted, tuple):
        body, status = body[wanted[0] : wanted[1] + 1], 206
        content_range = f"bytes {wanted[0]}-{wanted[1]}/{entry.size}"
    response = HttpResponse(b"" if request.method == "HEAD" else body, status=status)
    response["Content-Length"] = str(len(body))
    if content_range:
        response["Content-Range"] = content_range
    return response


def _streamed(
    request: HttpRequest, entry: Entry, key: str, status: int, wanted: tuple[int, int] | None
) -> HttpResponse | StreamingHttpResponse:
    if request.method == "HEAD":
        length = entry.size if wanted is None else wanted[1] - wanted[0] + 1
        response = HttpResponse(status=206 if wanted else status)
        response["Content-Length"] = str(length)
        if wanted:
            response["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{entry.size}"
        return response
    opened = store.open_object(key, wanted)
    streaming = StreamingHttpResponse(opened.chunks, status=206 if wanted else status)
    streaming["Content-Length"] = str(opened.length)
    if wanted:
        streaming["Content-Range"] = opened.content_range or f"bytes {wanted[0]}-{wanted[1]}/{entry.size}"
    return streaming


def deployed_bytes(deployment: Deployment, path: str) -> bytes | None:
    """The whole bytes of one deployed file (small files: pages, tests), or None if absent."""
    entry = manifest(deployment).get(path)
    if entry is None:
        return None
    if not entry.sha256:
        body, entry = _legacy(deployment, entry)
        if not entry.sha256:
            return body
    return store.get_blob(store.object_key(entry.sha256))
