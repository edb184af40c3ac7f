"""The Next.js adapter: which apps it takes, what it says when the standalone output is
missing, and the routes and files it makes of a standalone build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.compute.manifest import ComputeResource, Route, Target, match_route, parse_manifest
from apps.compute.nextjs import AdapterError, adapt_nextjs, is_nextjs

IMMUTABLE = "public, max-age=31536000, immutable"
TO_SERVER = Target("Compute", src="default")


def write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def package_json(project: Path, **sections: dict[str, str]) -> None:
    write(project / "package.json", json.dumps({"name": "shop", **sections}))


def standalone_build(project: Path) -> Path:
    """What `next build` writes with `output: 'standalone'`, plus a public/ folder."""
    package_json(project, dependencies={"next": "^14.2.0", "react": "^18"})
    write(project / "node_modules" / "next" / "package.json", json.dumps({"name": "next", "version": "14.2.3"}))
    write(project / ".next" / "standalone" / "server.js", "require('next')")
    write(project / ".next" / "standalone" / "node_modules" / "next" / "index.js")
    write(project / ".next" / "static" / "chunks" / "main-abc.js", "chunk")
    write(project / ".next" / "static" / "css" / "app.css", "body{}")
    write(project / "public" / "logo.svg", "<svg/>")
    write(project / "public" / "robots.txt", "User-agent: *")
    write(project / "public" / "images" / "hero" / "a.png", "png")
    return project


# --- detection ---


@pytest.mark.parametrize(
    ("platform", "framework", "dependencies", "expected"),
    [
        ("WEB_COMPUTE", "", None, True),
        ("", "Next.js - SSR", None, True),
        ("WEB", "", {"dependencies": {"next": "14.2.3"}}, True),
        ("", "", {"devDependencies": {"next": "^15"}}, True),
        ("WEB", "", {"dependencies": {"react": "^18"}}, False),
        ("WEB", "", None, False),
        ("", "Next.js - SSG", None, False),
        ("", "Next.js - SSG", {"dependencies": {"next": "14.2.3"}}, False),  # a static export
        ("WEB_COMPUTE", "Next.js - SSG", None, True),  # the platform decides first
    ],
)
def test_is_nextjs(tmp_path: Path, platform: str, framework: str, dependencies: dict | None, expected: bool) -> None:
    if dependencies is not None:
        package_json(tmp_path, **dependencies)
    assert is_nextjs(tmp_path, platform, framework) is expected


@pytest.mark.parametrize("content", ["{not json", "[]", '{"dependencies": ["next"]}', "\udcff"])
def test_a_broken_package_json_is_not_nextjs(tmp_path: Path, content: str) -> None:
    (tmp_path / "package.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    assert is_nextjs(tmp_path) is False


def test_an_oversized_package_json_is_not_read(tmp_path: Path) -> None:
    package_json(tmp_path, dependencies={"next": "14"}, padding={"x": "y" * 2_000_000})
    assert is_nextjs(tmp_path) is False


def test_a_package_json_symlinked_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    package_json(outside, dependencies={"next": "14"})
    (project / "package.json").symlink_to(outside / "package.json")
    assert is_nextjs(project) is False


# --- missing standalone output ---

NO_CONFIG_MESSAGE = (
    "Next.js builds need the standalone output: add `output: 'standalone'` to next.config.js "
    "(module.exports = { output: 'standalone' }) or next.config.mjs (export default { output: 'standalone' })"
)


def test_missing_standalone_says_what_to_add(tmp_path: Path) -> None:
    write(tmp_path / ".next" / "static" / "chunks" / "main.js")
    with pytest.raises(AdapterError) as caught:
        adapt_nextjs(tmp_path)
    assert str(caught.value) == NO_CONFIG_MESSAGE


@pytest.mark.parametrize(
    ("config", "example"),
    [
        ("next.config.mjs", "export default { output: 'standalone' }"),
        ("next.config.js", "module.exports = { output: 'standalone' }"),
        ("next.config.ts", "export default { output: 'standalone' }"),
    ],
)
def test_missing_standalone_names_the_config_file_there_is(tmp_path: Path, config: str, example: str) -> None:
    write(tmp_path / config, "export default {}")
    write(tmp_path / ".next" / "standalone" / "package.json", "{}")  # a folder, but no server.js
    with pytest.raises(AdapterError) as caught:
        adapt_nextjs(tmp_path)
    assert str(caught.value) == (f"Next.js builds need the standalone output: add `output: 'standalone'` to {config} ({example})")


def test_a_standalone_folder_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    write(outside / "server.js")
    write(project / ".next" / "BUILD_ID")
    (project / ".next" / "standalone").symlink_to(outside)
    with pytest.raises(AdapterError, match=r"^\.next/standalone must be a folder the build wrote, not a symlink"):
        adapt_nextjs(project)


def test_a_symlinked_server_js_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere.js")
    (tmp_path / ".next" / "standalone").mkdir(parents=True)
    (tmp_path / ".next" / "standalone" / "server.js").symlink_to(tmp_path / "elsewhere.js")
    with pytest.raises(AdapterError, match=r"server\.js must be a file the build wrote, not a symlink"):
        adapt_nextjs(tmp_path)


# --- the output ---


def test_standalone_build_becomes_routes_files_and_a_server(tmp_path: Path) -> None:
    output = adapt_nextjs(standalone_build(tmp_path))
    root = tmp_path.resolve()
    assert output.compute_dir == root / ".next" / "standalone"
    assert output.compute == ComputeResource("default", "nodejs20.x", "server.js")
    assert output.manifest.compute_resources == (output.compute,)
    assert output.manifest.framework == {"name": "next", "version": "14.2.3"}
    assert output.manifest.routes == (
        Route("/_next/static/*", Target("Static", cache_control=IMMUTABLE)),
        Route("/images/*", Target("Static"), fallback=TO_SERVER),
        Route("/logo.svg", Target("Static"), fallback=TO_SERVER),
        Route("/robots.txt", Target("Static"), fallback=TO_SERVER),
        Route("/*", TO_SERVER),
    )
    assert [(f.path, f.source) for f in output.static_files] == [
        ("_next/static/chunks/main-abc.js", root / ".next/static/chunks/main-abc.js"),
        ("_next/static/css/app.css", root / ".next/static/css/app.css"),
        ("images/hero/a.png", root / "public/images/hero/a.png"),
        ("logo.svg", root / "public/logo.svg"),
        ("robots.txt", root / "public/robots.txt"),
    ]


def test_the_adapters_manifest_passes_the_manifest_checks(tmp_path: Path) -> None:
    manifest = adapt_nextjs(standalone_build(tmp_path)).manifest
    assert parse_manifest(manifest.to_json()) == manifest


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("/_next/static/chunks/main-abc.js", "/_next/static/*"),
        ("/logo.svg", "/logo.svg"),
        ("/images/hero/a.png", "/images/*"),
        ("/", "/*"),
        ("/_next/image?url=%2Flogo.svg&w=64", "/*"),
        ("/logo.svg.bak", "/*"),
    ],
)
def test_adapted_routes_send_pages_to_the_server(tmp_path: Path, path: str, pattern: str) -> None:
    route = match_route(adapt_nextjs(standalone_build(tmp_path)).manifest.routes, path)
    assert route is not None
    assert route.path == pattern


def test_public_next_folder_never_shadows_nexts_own_files(tmp_path: Path) -> None:
    project = standalone_build(tmp_path)
    write(project / "public" / "_next" / "static" / "chunks" / "main-abc.js", "evil")
    write(project / "public" / "_next" / "other.txt")
    output = adapt_nextjs(project)
    served = {f.path: f.source for f in output.static_files}
    assert served["_next/static/chunks/main-abc.js"] == tmp_path.resolve() / ".next/static/chunks/main-abc.js"
    assert "_next/other.txt" not in served
    assert "/_next/*" not in [route.path for route in output.manifest.routes]


def test_without_public_and_installed_next_the_version_comes_from_package_json(tmp_path: Path) -> None:
    package_json(tmp_path, devDependencies={"next": "^15.0.0"})
    write(tmp_path / ".next" / "standalone" / "server.js")
    output = adapt_nextjs(tmp_path)
    assert output.manifest.framework == {"name": "next", "version": "^15.0.0"}
    assert [route.path for route in output.manifest.routes] == ["/_next/static/*", "/*"]
    assert output.static_files == []


def test_without_any_package_json_the_version_is_unknown(tmp_path: Path) -> None:
    write(tmp_path / ".next" / "standalone" / "server.js")
    assert adapt_nextjs(tmp_path).manifest.framework == {"name": "next", "version": "unknown"}


def test_a_pnpm_symlink_inside_the_project_is_followed_for_the_version(tmp_path: Path) -> None:
    project = standalone_build(tmp_path)
    real = project / "node_modules" / ".pnpm" / "next@14.2.5" / "node_modules" / "next"
    write(real / "package.json", json.dumps({"version": "14.2.5"}))
    installed = project / "node_modules" / "next"
    (installed / "package.json").unlink()
    installed.rmdir()
    installed.symlink_to(real)
    assert adapt_nextjs(project).manifest.framework == {"name": "next", "version": "14.2.5"}


def test_files_symlinked_out_of_the_project_are_not_served(tmp_path: Path) -> None:
    project = standalone_build(tmp_path / "project")
    write(tmp_path / "secret.txt", "the worker's secret")
    (project / "public" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (project / ".next" / "static" / "leak.js").symlink_to(tmp_path / "secret.txt")
    (project / "public" / "etc").symlink_to("/etc")
    output = adapt_nextjs(project)
    assert all(f.source.is_relative_to(project.resolve()) for f in output.static_files)
    assert not {"leak.txt", "_next/static/leak.js"} & {f.path for f in output.static_files}
    assert not any(route.path in ("/leak.txt", "/etc/*") for route in output.manifest.routes)


def test_a_crowded_public_folder_shares_one_route_with_a_server_fallback(tmp_path: Path) -> None:
    project = standalone_build(tmp_path)
    for number in range(30):
        write(project / "public" / f"icon-{number}.png")
    routes = adapt_nextjs(project).manifest.routes
    assert [route.path for route in routes] == ["/_next/static/*", "/images/*", "/*.*", "/*"]
    assert routes[2] == Route("/*.*", Target("Static"), fallback=TO_SERVER)
