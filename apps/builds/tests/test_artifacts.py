"""Artifacts and build cache on real directories: globs, symlinks, hostile archives."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from apps.builds import buildcache
from apps.builds.artifacts import ArtifactError, ArtifactFile, collect_artifacts, content_type_for
from apps.builds.buildcache import pack_cache, safe_cache_paths, unpack_cache

SITE = {
    "index.html": b"<h1>home</h1>",
    "about.html": b"<h1>about</h1>",
    "style.css": b"body{}",
    "assets/app.js": b"console.log(1)",
    "assets/app.js.map": b"{}",
    "assets/css/site.css": b"h1{}",
    "assets/img/logo.svg": b"<svg/>",
    ".well-known/security.txt": b"Contact: x",
}


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file contents, "link -> target", or "dir"."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = path.read_bytes()
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    _write(root / "dist", SITE)
    _write(root, {"README.md": b"not served", "amplify.yml": b"version: 1"})
    return root


def _paths(files: list[ArtifactFile]) -> list[str]:
    return [f.path for f in files]


# --- collect_artifacts ---


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["**/*"], sorted(SITE)),
        (["*.html"], ["about.html", "index.html"]),
        (["assets/**/*"], ["assets/app.js", "assets/app.js.map", "assets/css/site.css", "assets/img/logo.svg"]),
        (["**/*.css"], ["assets/css/site.css", "style.css"]),
        (["*.html", "**/*.html", "index.html"], ["about.html", "index.html"]),
        (
            ["assets/*.js", "assets/img/logo.sv?", "[ai]*.html"],
            ["about.html", "assets/app.js", "assets/img/logo.svg", "index.html"],
        ),
    ],
)
def test_globs(project: Path, patterns: list[str], expected: list[str]) -> None:
    assert _paths(collect_artifacts(project, "dist", patterns, discard_paths=False)) == expected


def test_patterns_name_files_not_directories(project: Path) -> None:
    with pytest.raises(ArtifactError, match="no files matched"):
        collect_artifacts(project, "dist", ["./assets//css/"], discard_paths=False)
    assert _paths(collect_artifacts(project, "dist", ["./assets//css/*"], discard_paths=False)) == ["assets/css/site.css"]


def test_files_carry_their_source_and_size(project: Path) -> None:
    [index] = collect_artifacts(project, "dist", ["index.html"], discard_paths=False)
    assert index == ArtifactFile(
        path="index.html", source=(project / "dist" / "index.html").resolve(), size=len(SITE["index.html"])
    )
    assert index.source.is_absolute()


@pytest.mark.parametrize("base", ["", ".", "./"])
def test_base_directory_may_be_the_project(project: Path, base: str) -> None:
    assert _paths(collect_artifacts(project, base, ["*"], discard_paths=False)) == ["README.md", "amplify.yml"]


def test_base_directory_spelled_loosely(project: Path) -> None:
    assert _paths(collect_artifacts(project, "./dist/", ["*.css"], discard_paths=False)) == ["style.css"]
    assert _paths(collect_artifacts(project, "dist/assets/../", ["*.css"], discard_paths=False)) == ["style.css"]


def test_discard_paths_flattens_and_the_last_path_wins(project: Path) -> None:
    _write(project / "dist", {"a/dup.txt": b"first", "b/dup.txt": b"second"})
    files = collect_artifacts(project, "dist", ["**/*.css", "**/dup.txt"], discard_paths=True)
    assert _paths(files) == ["dup.txt", "site.css", "style.css"]
    assert files[0].source.read_bytes() == b"second"


@pytest.mark.parametrize("base", ["..", "../project/dist", "/etc", "dist/../../elsewhere", "~/dist"])
def test_escaping_base_directory(project: Path, base: str) -> None:
    with pytest.raises(ArtifactError, match=r"baseDirectory .* is outside the project"):
        collect_artifacts(project, base, ["**/*"], discard_paths=False)


def test_base_directory_symlinked_out_of_the_project(project: Path, tmp_path: Path) -> None:
    _write(tmp_path / "elsewhere", {"secret.txt": b"s"})
    (project / "out").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ArtifactError, match="baseDirectory 'out' is outside the project"):
        collect_artifacts(project, "out", ["**/*"], discard_paths=False)


def test_missing_base_directory(project: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        collect_artifacts(project, "build", ["**/*"], discard_paths=False)
    assert str(caught.value) == "baseDirectory 'build' does not exist: did the build write it?"


def test_base_directory_that_is_a_file(project: Path) -> None:
    with pytest.raises(ArtifactError, match=r"baseDirectory 'README\.md' is not a directory"):
        collect_artifacts(project, "README.md", ["**/*"], discard_paths=False)


def test_nothing_matched(project: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        collect_artifacts(project, "dist", ["x"], discard_paths=False)
    assert str(caught.value) == "no files matched frontend.artifacts.files ['x'] in 'dist'"


@pytest.mark.parametrize("pattern", ["../README.md", "/etc/passwd", "assets/../../README.md"])
def test_file_patterns_stay_inside_the_base_directory(project: Path, pattern: str) -> None:
    with pytest.raises(ArtifactError, match="must be relative to baseDirectory"):
        collect_artifacts(project, "dist", [pattern], discard_paths=False)


def test_symlinks_out_of_the_base_directory_are_not_collected(project: Path, tmp_path: Path) -> None:
    dist = project / "dist"
    _write(tmp_path / "outside", {"secret.txt": b"secret"})
    (dist / "passwd").symlink_to("/etc/passwd")
    (dist / "readme.md").symlink_to("../README.md")  # in the project, but not in baseDirectory
    (dist / "ext").symlink_to(tmp_path / "outside")  # a directory: never entered
    (dist / "dangling").symlink_to(dist / "nowhere")
    (dist / "home.html").symlink_to("index.html")  # inside: served as the file it names
    files = collect_artifacts(project, "dist", ["**/*"], discard_paths=False)
    assert _paths(files) == sorted([*SITE, "home.html"])
    home = next(f for f in files if f.path == "home.html")
    assert home.source == (dist / "index.html").resolve()
    assert not home.source.is_symlink()


# --- content types ---


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/site.CSS", "text/css; charset=utf-8"),
        ("assets/app.js", "text/javascript; charset=utf-8"),
        ("assets/app.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("assets/app.js.map", "application/json; charset=utf-8"),
        ("manifest.webmanifest", "application/manifest+json; charset=utf-8"),
        (".well-known/security.txt", "text/plain; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("photo.jpeg", "image/jpeg"),
        ("fonts/a.woff2", "font/woff2"),
        ("app.wasm", "application/wasm"),
        ("favicon.ico", "image/x-icon"),
        ("bundle.js.gz", "application/octet-stream"),
        ("LICENSE", "application/octet-stream"),
        ("blob.unknownext", "application/octet-stream"),
    ],
)
def test_content_types(path: str, expected: str) -> None:
    assert content_type_for(path) == expected


# --- build cache ---


@pytest.fixture
def cached(project: Path) -> Path:
    _write(
        project,
        {
            "node_modules/pkg/index.js": b"module.exports = 1",
            "node_modules/pkg/bin/cli.js": b"#!/usr/bin/env node",
            "node_modules/.package-lock.json": b"{}",
            ".next/cache/webpack/0.pack": bytes(range(256)) * 8,
            ".next/server/page.js": b"not cached",
        },
    )
    (project / "node_modules/pkg/bin/cli.js").chmod(0o755)
    (project / "node_modules/.bin").mkdir()
    (project / "node_modules/.bin/cli").symlink_to("../pkg/bin/cli.js")
    return project


def test_pack_then_unpack_restores_the_bytes(cached: Path, tmp_path: Path) -> None:
    blob, warnings = pack_cache(cached, ["node_modules/**/*", ".next/cache"], max_bytes=10 * 1024 * 1024)
    assert warnings == []
    assert blob is not None
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert unpack_cache(fresh, blob) == 5
    expected = {rel: value for rel, value in _tree(cached).items() if rel.startswith(("node_modules", ".next/cache"))}
    assert _tree(fresh) == {**expected, ".next": "dir"}
    assert (fresh / "node_modules/.bin/cli").read_bytes() == b"#!/usr/bin/env node"
    assert os.access(fresh / "node_modules/pkg/bin/cli.js", os.X_OK)


def test_archive_paths_are_relative(cached: Path) -> None:
    blob, _ = pack_cache(cached, ["node_modules/pkg/*.js"], max_bytes=1024 * 1024)
    assert blob is not None
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        assert [(m.name, m.uname, m.isreg()) for m in tar.getmembers()] == [("node_modules/pkg/index.js", "", True)]


def test_nothing_matched_packs_nothing(cached: Path) -> None:
    assert pack_cache(cached, ["vendor/**/*"], max_bytes=1024) == (None, [])
    assert pack_cache(cached, [], max_bytes=1024) == (None, [])


def test_refused_cache_patterns_warn(cached: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (cached / "link-out").symlink_to(tmp_path / "outside")
    patterns = ["../x", "/etc", "a/../../b", "~/.npm/**/*", "link-out/**/*", "node_modules/**/*", "./node_modules/**/*"]
    accepted, warnings = safe_cache_paths(cached, patterns)
    assert accepted == ["node_modules/**/*"]
    assert warnings == [
        "cache path '../x' refused: it contains '..'",
        "cache path '/etc' refused: it is an absolute path; cache paths are relative to the app root",
        "cache path 'a/../../b' refused: it contains '..'",
        "cache path '~/.npm/**/*' refused: it is an absolute path; cache paths are relative to the app root",
        "cache path 'link-out/**/*' refused: it resolves outside the project",
    ]
    blob, pack_warnings = pack_cache(cached, patterns, max_bytes=1024 * 1024)
    assert blob is not None
    assert pack_warnings == warnings


def test_symlinks_out_of_the_project_are_not_cached(cached: Path, tmp_path: Path) -> None:
    _write(tmp_path / "outside", {"secret.txt": b"secret"})
    (cached / "node_modules/secret").symlink_to(tmp_path / "outside/secret.txt")
    (cached / "node_modules/outdir").symlink_to(tmp_path / "outside")
    (cached / "node_modules/passwd").symlink_to("/etc/passwd")
    blob, _ = pack_cache(cached, ["node_modules/**/*"], max_bytes=1024 * 1024)
    assert blob is not None
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        names = tar.getnames()
    assert "node_modules/.bin/cli" in names
    assert not {"node_modules/secret", "node_modules/outdir", "node_modules/passwd"} & set(names)
    assert not any("secret.txt" in name for name in names)


def test_size_limit(cached: Path) -> None:
    (cached / "node_modules/big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    assert pack_cache(cached, ["node_modules/**/*"], max_bytes=2 * 1024 * 1024) == (None, ["cache larger than 2 MB, not saved"])
    assert pack_cache(cached, ["node_modules/**/*"], max_bytes=100) == (None, ["cache larger than 100 bytes, not saved"])


# --- hostile archives ---


def _archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for member, content in members:
            if content is not None:
                member.size = len(content)
            tar.addfile(member, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def _file(name: str, content: bytes = b"evil") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), content


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, target
    return member, None


def _device(name: str) -> tuple[tarfile.TarInfo, None]:
    member = tarfile.TarInfo(name)
    member.type, member.devmajor, member.devminor = tarfile.CHRTYPE, 1, 3
    return member, None


@pytest.fixture
def target(tmp_path: Path) -> Path:
    # Deep enough that "../../evil" still lands inside tmp_path, where we can see it.
    root = tmp_path / "outer" / "inner" / "project"
    root.mkdir(parents=True)
    return root


def _outside(tmp_path: Path, target: Path) -> dict[str, bytes | str]:
    return {rel: v for rel, v in _tree(tmp_path).items() if not (tmp_path / rel).is_relative_to(target)}


def test_hostile_members_write_nothing_outside(tmp_path: Path, target: Path) -> None:
    before = _outside(tmp_path, target)
    blob = _archive(
        _file("../../evil"),
        _file("../evil"),
        _file(f"/{tmp_path}/absolute-evil"),
        _file("/etc-evil"),
        _link("etc", "/etc"),
        _file("etc/evil"),
        _link("up", ".."),
        _file("up/evil"),
        _link("deep/up", "../../.."),
        _link("hard", "/etc/passwd", tarfile.LNKTYPE),
        _link("hard2", "../../evil", tarfile.LNKTYPE),
        _device("null"),
        _file("ok.txt", b"fine"),
    )
    assert unpack_cache(target, blob) == 3
    assert _outside(tmp_path, target) == before
    # With the links refused, "etc/evil" and "up/evil" are plain files in the project.
    assert _tree(target) == {"ok.txt": b"fine", "etc": "dir", "etc/evil": b"evil", "up": "dir", "up/evil": b"evil"}
    assert not (tmp_path / "absolute-evil").exists()


def test_links_that_escape_only_once_everything_is_written_are_removed(target: Path, caplog: pytest.LogCaptureFixture) -> None:
    # "a" is harmless while b/c does not exist; b/c -> .. then makes it point
    # two levels above the project. Only the final state tells.
    blob = _archive(_link("a", "b/c/../.."), _file("b/keep.txt", b"k"), _link("b/c", ".."))
    assert unpack_cache(target, blob) == 2
    assert not (target / "a").is_symlink()
    assert "Build cache symlink 'a' removed" in caplog.text
    assert (target / "b/keep.txt").read_bytes() == b"k"
    assert (target / "b/c").resolve() == target  # inside: kept


def test_decompression_bomb(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buildcache, "MAX_UNPACKED_BYTES", 1000)
    blob = _archive(_file("zeros", bytes(1001)))
    with pytest.raises(ArtifactError, match="would unpack to 1001 bytes; the limit is 1000 bytes"):
        unpack_cache(target, blob)
    assert list(target.iterdir()) == []


def test_existing_symlinks_in_the_project_are_not_written_through(tmp_path: Path, target: Path) -> None:
    outside = tmp_path / "victim"
    outside.mkdir()
    (outside / "file").write_bytes(b"original")
    (target / "node_modules").symlink_to(outside)  # committed to the repository, say
    (target / "lockfile").symlink_to(outside / "file")
    blob = _archive(_file("node_modules/pkg.js"), _file("lockfile", b"replaced"))
    assert unpack_cache(target, blob) == 1
    assert sorted(p.name for p in outside.iterdir()) == ["file"]
    assert (outside / "file").read_bytes() == b"original"
    assert not (target / "lockfile").is_symlink()
    assert (target / "lockfile").read_bytes() == b"replaced"


def test_unreadable_cache(target: Path) -> None:
    with pytest.raises(ArtifactError, match=r"not a readable tar\.gz"):
        unpack_cache(target, b"not a tarball")
