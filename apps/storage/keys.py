"""Keys are hostile input: any UTF-8 up to 1,024 bytes, with `..`, control characters,
a leading `/`, markup. Here is everything that turns them into something else (names
on the page, form values, zip entry names, download file names), so each rule lives once.

Keys are never joined to a path on this machine.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata
from urllib.parse import quote, unquote

MAX_KEY_BYTES = 1024
# Unicode categories shown escaped: controls, invisible format characters (bidi
# overrides, zero-width), line and paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_FOLDER_NAME_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}$")

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".ico": "image/x-icon",
}
TEXT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".log": "text/plain",
    ".yaml": "text/yaml",
    ".yml": "text/yaml",
    ".ini": "text/plain",
    ".toml": "text/plain",
    ".py": "text/plain",
    ".js": "text/plain",
    ".ts": "text/plain",
    ".css": "text/plain",
    ".graphql": "text/plain",
    ".sql": "text/plain",
}
# Already compressed: stored in a zip as they are.
COMPRESSED_SUFFIXES = frozenset(
    {
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".rar",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".mp3",
        ".mp4",
        ".m4a",
        ".mov",
        ".webm",
        ".mkv",
        ".pdf",
        ".woff",
        ".woff2",
        ".docx",
        ".xlsx",
        ".pptx",
    }
)


def form_value(key: str) -> str:
    """A key as a form field value. Browsers turn a value's line breaks into CRLF when
    they submit a form, so keys travel percent-encoded (ASCII only) in forms."""
    return quote(key, safe="")


def from_form_value(value: str) -> str:
    return unquote(value, errors="strict")


def key_problem(key: str) -> str:
    """Why `key` cannot name a new object, or "" when it can."""
    if not key:
        return "The name is empty."
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"The full name is longer than S3's {MAX_KEY_BYTES} bytes."
    if any(0xD800 <= ord(c) <= 0xDFFF for c in key):
        return "The name is not valid Unicode."
    return ""


def folder_name_problem(name: str) -> str:
    """Why `name` cannot be a new folder's name (new names are kept plain), or ""."""
    if not name.strip():
        return "Give the folder a name."
    if name in (".", ".."):
        return "A folder cannot be called . or .."
    if _FOLDER_NAME_FORBIDDEN.search(name):
        return "A folder name cannot contain /, \\ or control characters."
    return ""


def is_folder_prefix(prefix: str) -> bool:
    """A folder is "" (the bucket's top) or a prefix ending with "/"."""
    return prefix == "" or prefix.endswith("/")


def name_in(key: str, prefix: str) -> str:
    """The name of a key or subfolder inside `prefix` ("a/b/c.txt" in "a/b/" is "c.txt";
    the folder "a/b/" in "a/" is "b")."""
    rest = key[len(prefix) :] if key.startswith(prefix) else key
    return rest[:-1] if rest.endswith("/") else rest


def base_name(key: str) -> str:
    """The last segment of a key or folder prefix ("a/b/" -> "b", "a/c.txt" -> "c.txt")."""
    trimmed = key[:-1] if key.endswith("/") else key
    return trimmed.rsplit("/", 1)[-1]


def parent_of(key: str) -> str:
    trimmed = key[:-1] if key.endswith("/") else key
    return trimmed[: trimmed.rfind("/") + 1]


def breadcrumbs(prefix: str) -> list[tuple[str, str]]:
    """(name, folder prefix) for each folder from the top down to `prefix`."""
    crumbs: list[tuple[str, str]] = []
    start = 0
    while True:
        end = prefix.find("/", start)
        if end < 0:
            return crumbs
        crumbs.append((prefix[start:end], prefix[: end + 1]))
        start = end + 1


def escape_invisible(text: str) -> list[tuple[str, bool]]:
    """`text` cut into runs: (plain text, False) and (visible escape like "\\x01", True)."""
    runs: list[tuple[str, bool]] = []
    plain: list[str] = []
    for char in text:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            if plain:
                runs.append(("".join(plain), False))
                plain = []
            code = ord(char)
            runs.append((f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}", True))
        else:
            plain.append(char)
    if plain:
        runs.append(("".join(plain), False))
    return runs


def plain_name(text: str) -> str:
    """`text` with invisible characters written as escapes (for titles, messages, the audit log)."""
    return "".join(run for run, _ in escape_invisible(text)) if text else "(empty name)"


def survives_in_url(key: str) -> bool:
    """Whether a link whose path holds the key reaches S3 naming the same key. Browsers
    resolve "." and ".." path segments before they send a URL (WHATWG URL), so a link to
    `docs/../report.pdf` would ask for `report.pdf`; every other character is
    percent-encoded in the link and survives."""
    return not any(segment in (".", "..") for segment in key.split("/"))


def zip_entry_name(relative: str) -> str:
    """A safe name inside a zip for an object at `relative` (under the zipped folder): no
    absolute path, no "." or ".." segments, no backslashes or control characters.
    "" when nothing is left (the caller names it)."""
    segments = []
    for segment in relative.split("/"):
        cleaned = "".join("_" if unicodedata.category(c) in _INVISIBLE_CATEGORIES or c == "\\" else c for c in segment)
        if cleaned.strip() in ("", ".", ".."):
            continue
        segments.append(cleaned)
    return "/".join(segments)


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or "name (2).ext" etc. when a previous entry took it."""
    if name not in taken:
        taken.add(name)
        return name
    stem, suffix = posixpath.splitext(name)
    number = 2
    while f"{stem} ({number}){suffix}" in taken:
        number += 1
    unique = f"{stem} ({number}){suffix}"
    taken.add(unique)
    return unique


def download_name(key: str) -> str:
    """The file name a download gets: the key's last segment, without control characters."""
    name = zip_entry_name(base_name(key)).replace("/", "_")
    return name or "download"


def suffix_of(key: str) -> str:
    return posixpath.splitext(base_name(key))[1].lower()


def upload_content_type(given: str, key: str) -> str:
    """The content type to store: the browser's if well formed, else a guess from the name."""
    given = given.strip().lower()
    if _CONTENT_TYPE.match(given):
        return given
    guessed = mimetypes.guess_type(base_name(key), strict=False)[0]
    return guessed or "application/octet-stream"


def preview_kind(key: str, content_type: str) -> str:
    """ "image" or "text" for what may be shown on the details page, else "" (download only).
    HTML, SVG, XML and anything unknown are never shown inline, whatever they claim to be."""
    suffix = suffix_of(key)
    kind = content_type.split(";", 1)[0].strip().lower()
    if suffix in (".svg", ".svgz", ".html", ".htm", ".xhtml", ".xml") or "html" in kind or "svg" in kind or "xml" in kind:
        return ""
    if suffix in IMAGE_TYPES:
        return "image"
    if suffix in TEXT_TYPES or kind.startswith("text/") or kind in ("application/json", "application/x-ndjson"):
        return "text"
    return ""


def safe_image_type(key: str) -> str:
    """The content type an inline image is served with: from its suffix, never from stored metadata."""
    return IMAGE_TYPES[suffix_of(key)]
