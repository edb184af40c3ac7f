"""deploy-manifest.json: the spec's manifests pass, broken ones name the JSON path at fault,
routes match as the spec says, and a bundle is read without leaving the project."""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apps.compute.hosting_output import find_manifest, read_hosting_output
from apps.compute.manifest import (
    MAX_MANIFEST_BYTES,
    SCHEMA_PATH,
    ComputeResource,
    DeployManifest,
    ManifestInvalid,
    Route,
    Target,
    load_manifest,
    match_route,
    parse_manifest,
)

# The spec's example manifest (a Nuxt app), without its ImageOptimization route.
SPEC_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "routes": [
        {"path": "/_nuxt/builds/meta/*", "target": {"cacheControl": "public, max-age=31536000, immutable", "kind": "Static"}},
        {"path": "/_nuxt/builds/*", "target": {"cacheControl": "public, max-age=1, immutable", "kind": "Static"}},
        {"path": "/_nuxt/*", "target": {"cacheControl": "public, max-age=31536000, immutable", "kind": "Static"}},
        {"path": "/*.*", "target": {"kind": "Static"}, "fallback": {"kind": "Compute", "src": "default"}},
        {"path": "/*", "target": {"kind": "Compute", "src": "default"}},
    ],
    "computeResources": [{"name": "default", "entrypoint": "server.js", "runtime": "nodejs18.x"}],
    "framework": {"name": "nuxt", "version": "3.8.1"},
}
MINIMAL: dict[str, Any] = {"version": 1, "routes": [{"path": "/*", "target": {"kind": "Static"}}]}
IMAGE_SETTINGS = {
    "sizes": [640, 1080],
    "domains": [],
    "remotePatterns": [{"protocol": "https", "hostname": "**.example.com"}],
    "formats": ["image/webp"],
    "minimumCacheTTL": 60,
    "dangerouslyAllowSVG": False,
}


def encoded(document: object) -> bytes:
    return json.dumps(document).encode()


def problem(document: object) -> str:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(document)
    return str(caught.value)


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_spec_example_is_read_into_routes_and_compute() -> None:
    manifest = load_manifest(encoded(SPEC_EXAMPLE))
    assert manifest.version == 1
    assert manifest.routes[0] == Route(
        "/_nuxt/builds/meta/*", Target("Static", cache_control="public, max-age=31536000, immutable")
    )
    assert manifest.routes[3] == Route("/*.*", Target("Static"), fallback=Target("Compute", src="default"))
    assert manifest.compute_resources == (ComputeResource("default", "nodejs18.x", "server.js"),)
    assert manifest.compute == ComputeResource("default", "nodejs18.x", "server.js")
    assert manifest.framework == {"name": "nuxt", "version": "3.8.1"}


def test_minimal_manifest_has_no_compute() -> None:
    manifest = load_manifest(encoded(MINIMAL))
    assert (manifest.compute, manifest.compute_resources, manifest.framework) == (None, (), None)


def test_image_settings_are_accepted_as_the_spec_describes_them() -> None:
    assert parse_manifest({**SPEC_EXAMPLE, "imageSettings": IMAGE_SETTINGS}).raw["imageSettings"] == IMAGE_SETTINGS


def test_to_json_gives_the_document_and_from_json_checks_it_again() -> None:
    manifest = parse_manifest(SPEC_EXAMPLE)
    stored = manifest.to_json()
    assert stored == SPEC_EXAMPLE
    stored["routes"].clear()  # a copy: the manifest keeps its routes
    assert DeployManifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(ManifestInvalid, match=r"^routes: has 0 items; at least 1 are allowed$"):
        DeployManifest.from_json(stored)


def broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(SPEC_EXAMPLE)
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["routes"][2]["target"].update(kind="Lambda"),
            "routes[2].target.kind: 'Lambda' is not one of ['Static', 'Compute', 'ImageOptimization']",
        ),
        (lambda d: d["computeResources"][0].pop("entrypoint"), "computeResources[0].entrypoint: required"),
        (lambda d: d["routes"][1].update(path="_nuxt/*"), "routes[1].path: '_nuxt/*' must start with '/'"),
        (lambda d: d.update(version=2), "version: 2 is not a supported version: the deployment specification has version 1"),
        (lambda d: d.pop("routes"), "routes: required"),
        (lambda d: d.update(extra=True), "extra: unknown key; expected one of: computeResources, framework, "),
        (lambda d: d["routes"][4]["target"].pop("src"), "routes[4].target.src: required"),
        (
            lambda d: d["routes"][0]["target"].update(src="default"),
            "routes[0].target.src: only a Compute target names a compute resource (src)",
        ),
        (
            lambda d: d["routes"][4]["target"].update(cacheControl="no-store"),
            "routes[4].target.cacheControl: only a Static or ImageOptimization target sets cacheControl",
        ),
        (
            lambda d: d["routes"][0]["target"].update(cacheControl="max-age=1\r\nSet-Cookie: a=b"),
            "routes[0].target.cacheControl: 'max-age=1\\r\\nSet-Cookie: a=b' must be one line of printable ASCII",
        ),
        (
            lambda d: d["computeResources"][0].update(runtime="python3.12"),
            "computeResources[0].runtime: 'python3.12' is not one of",
        ),
        (lambda d: d["computeResources"][0].update(name="../etc"), "computeResources[0].name: '../etc' must be a folder name"),
        (lambda d: d["framework"].update(version=3), "framework.version: must be a string, not a number"),
        (lambda d: d.update(routes=[d["routes"][0]] * 26), "routes: has 26 items; at most 25 are allowed"),
    ],
)
def test_schema_problem_names_its_json_path(change: Any, message: str) -> None:
    assert problem(broken(change)).startswith(message)


def test_compute_src_must_name_a_declared_resource() -> None:
    document = broken(lambda d: d["routes"][3]["fallback"].update(src="api"))
    assert problem(document) == (
        "routes[3].fallback.src: 'api' is not a compute resource of this manifest (computeResources declares 'default')"
    )
    assert problem(broken(lambda d: d.pop("computeResources"))).startswith(
        "routes[3].fallback.src: 'default' is not a compute resource of this manifest (computeResources declares none)"
    )


def test_a_second_compute_resource_is_refused_with_the_reason() -> None:
    second = {"name": "api", "entrypoint": "index.js", "runtime": "nodejs20.x"}
    message = problem(broken(lambda d: d["computeResources"].append(second)))
    assert message.startswith("computeResources[1]: the manifest declares 2 compute resources; this console runs one server")


@pytest.mark.parametrize("entrypoint", ["/srv/server.js", "../server.js", "dist/../../x.js", ".", "dist\\server.js"])
def test_entrypoint_must_stay_in_the_compute_folder(entrypoint: str) -> None:
    message = problem(broken(lambda d: d["computeResources"][0].update(entrypoint=entrypoint)))
    assert message.startswith("computeResources[0].entrypoint: ")
    assert "must be a file path relative to compute/default/, without '..'" in message


def test_image_optimization_is_refused_with_what_to_do() -> None:
    image_route = {"path": "/_nuxt/image", "target": {"kind": "ImageOptimization", "cacheControl": "public, max-age=3600"}}
    message = problem(broken(lambda d: d["routes"].insert(0, image_route)))
    assert message.startswith("routes[0].target.kind: 'ImageOptimization' is not supported: this console has no image")


def test_fallback_cannot_be_of_the_targets_own_kind() -> None:
    message = problem(broken(lambda d: d["routes"][3].update(fallback={"kind": "Static"})))
    assert message == "routes[3].fallback.kind: a Static target cannot fall back to Static"


def test_not_json_names_line_and_column() -> None:
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(b'{\n  "version": 1,\n  "routes": [,]\n}')
    assert str(caught.value) == "(document): deploy-manifest.json is not valid JSON: Expecting value at line 3, column 14"


@pytest.mark.parametrize("data", [b"\xff\xfe\x00", b"[" * 100_000, b'{"version": NaN}'])
def test_undecodable_bytes_are_refused_as_not_json(data: bytes) -> None:
    with pytest.raises(ManifestInvalid, match=r"^\(document\): deploy-manifest.json is not valid JSON"):
        load_manifest(data)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ManifestInvalid, match=r"^\(document\): must be an object, not an array$"):
        load_manifest(b"[]")


def test_too_large_is_refused_before_parsing() -> None:
    data = encoded({**MINIMAL, "framework": {"name": "x" * MAX_MANIFEST_BYTES, "version": "1"}})
    with pytest.raises(ManifestInvalid, match=r"^\(document\): deploy-manifest.json is \d+ bytes; at most 1048576 are read$"):
        load_manifest(data)


# --- matching ---

SPEC_ROUTES = parse_manifest(SPEC_EXAMPLE).routes


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("/_nuxt/builds/meta/abc.json", "/_nuxt/builds/meta/*"),
        ("/_nuxt/builds/latest.json", "/_nuxt/builds/*"),
        ("/_nuxt/entry.js", "/_nuxt/*"),
        ("/_nuxt/", "/_nuxt/*"),  # * matches nothing too
        ("/favicon.ico", "/*.*"),
        ("/images/logo.svg", "/*.*"),
        ("/v1.2/about", "/*.*"),  # * spans '/': a dot anywhere after the first '/'
        ("/about", "/*"),
        ("/", "/*"),
        ("/blog/post?page=2.5", "/*"),  # the query string is not part of the path
        ("/_nuxt", "/*"),  # /_nuxt/* needs the slash
        ("/_NUXT/entry.js", "/*.*"),  # case-sensitive
    ],
)
def test_first_matching_route_wins(path: str, pattern: str) -> None:
    route = match_route(SPEC_ROUTES, path)
    assert route is not None
    assert route.path == pattern


def test_no_route_matches_outside_the_patterns() -> None:
    routes = (Route("/_next/static/*", Target("Static")), Route("/robots.txt", Target("Static")))
    assert match_route(routes, "/robots.txt") == routes[1]
    assert match_route(routes, "/robots.txt/x") is None
    assert match_route(routes, "/_next/image") is None
    assert match_route((), "/") is None


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/a*b*c", "/abc", True),
        ("/a*b*c", "/a-c-b", False),
        ("/a*a", "/a", False),  # head and tail may not overlap
        ("/a*a", "/aa", True),
        ("/docs/*/edit", "/docs/x/y/edit", True),
        ("/**", "/anything/at/all", True),
    ],
)
def test_pattern_pieces_match_in_order(pattern: str, path: str, matches: bool) -> None:
    assert (match_route((Route(pattern, Target("Static")),), path) is not None) is matches


def test_a_hostile_pattern_does_not_backtrack() -> None:
    hostile = (Route("/" + "*a" * 40 + "*b", Target("Static")),)
    started = time.monotonic()
    assert match_route(hostile, "/" + "a" * 20_000) is None
    assert time.monotonic() - started < 1.0


# --- finding and reading the bundle ---


def write_bundle(folder: Path, manifest: dict[str, Any] | None = None) -> Path:
    """A .amplify-hosting-style bundle: the manifest, static/favicon.ico, compute/default/server.js."""
    (folder / "static" / "_nuxt").mkdir(parents=True)
    (folder / "static" / "favicon.ico").write_bytes(b"icon")
    (folder / "static" / "_nuxt" / "entry.js").write_text("js")
    (folder / "compute" / "default").mkdir(parents=True)
    (folder / "compute" / "default" / "server.js").write_text("require('http')")
    (folder / "deploy-manifest.json").write_text(json.dumps(manifest or SPEC_EXAMPLE))
    return folder


@pytest.mark.parametrize(
    ("bundle", "base_directory"),
    [
        (".amplify-hosting", ".amplify-hosting"),
        ("build", "build"),  # Amplify reads the manifest in baseDirectory whatever its name
        ("dist/.amplify-hosting", "dist"),
        (".amplify-hosting", "dist"),
        (".amplify-hosting", ""),
        (".amplify-hosting", "../elsewhere"),  # a baseDirectory out of the project is not looked in
    ],
)
def test_find_manifest_locations(tmp_path: Path, bundle: str, base_directory: str) -> None:
    (tmp_path / "dist").mkdir()
    write_bundle(tmp_path / bundle)
    assert find_manifest(tmp_path, base_directory) == tmp_path.resolve() / bundle


def test_find_manifest_prefers_base_directory_and_finds_nothing_without_one(tmp_path: Path) -> None:
    assert find_manifest(tmp_path, "dist") is None
    write_bundle(tmp_path / ".amplify-hosting")
    write_bundle(tmp_path / "dist")
    assert find_manifest(tmp_path, "dist") == tmp_path.resolve() / "dist"


def test_find_manifest_refuses_a_bundle_behind_a_symlink(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    write_bundle(outside)
    (project / ".amplify-hosting").symlink_to(outside)
    with pytest.raises(ManifestInvalid, match="must be a file in a folder the build wrote, not reached through a symlink"):
        find_manifest(project, "")


def test_find_manifest_refuses_a_symlinked_manifest(tmp_path: Path) -> None:
    write_bundle(tmp_path / ".amplify-hosting")
    (tmp_path / "real.json").write_text(json.dumps(MINIMAL))
    manifest = tmp_path / ".amplify-hosting" / "deploy-manifest.json"
    manifest.unlink()
    manifest.symlink_to(tmp_path / "real.json")
    with pytest.raises(ManifestInvalid, match=r"\.amplify-hosting/deploy-manifest.json must be a file"):
        find_manifest(tmp_path, "")


def test_read_hosting_output_reads_manifest_static_and_compute(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / ".amplify-hosting")
    output = read_hosting_output(tmp_path, folder)
    assert output.manifest == parse_manifest(SPEC_EXAMPLE)
    assert [(f.path, f.size) for f in output.static_files] == [("_nuxt/entry.js", 2), ("favicon.ico", 4)]
    assert output.compute == ComputeResource("default", "nodejs18.x", "server.js")
    assert output.compute_dir == tmp_path.resolve() / ".amplify-hosting" / "compute" / "default"


def test_read_hosting_output_without_compute_or_static(tmp_path: Path) -> None:
    folder = tmp_path / ".amplify-hosting"
    folder.mkdir()
    (folder / "deploy-manifest.json").write_text(json.dumps(MINIMAL))
    output = read_hosting_output(tmp_path, folder)
    assert (output.static_files, output.compute_dir, output.compute) == ([], None, None)


def test_static_symlink_out_of_the_project_is_never_served(tmp_path: Path) -> None:
    project = tmp_path / "project"
    folder = write_bundle(project / ".amplify-hosting")
    (tmp_path / "secret.txt").write_text("the worker's secret")
    (folder / "static" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "static" / "alias.ico").symlink_to(folder / "static" / "favicon.ico")
    output = read_hosting_output(project, folder)
    served = {f.path: f.source for f in output.static_files}
    assert "leak.txt" not in served
    assert served["alias.ico"] == folder.resolve() / "static" / "favicon.ico"
    assert all(source.is_relative_to(project.resolve()) for source in served.values())


def test_symlinked_static_folder_is_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    folder = write_bundle(project / ".amplify-hosting")
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    os.rename(folder / "static", project / "old-static")
    (folder / "static").symlink_to(outside)
    with pytest.raises(ManifestInvalid, match=r"^static: must be a folder the build wrote, not a symlink"):
        read_hosting_output(project, folder)


def test_symlinked_compute_folder_is_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    folder = write_bundle(project / ".amplify-hosting")
    os.rename(folder / "compute" / "default", outside)
    (folder / "compute" / "default").symlink_to(outside)
    with pytest.raises(ManifestInvalid, match=r"^computeResources\[0\]\.name: compute/default must be a folder the build wrote"):
        read_hosting_output(project, folder)


def test_missing_compute_folder_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / ".amplify-hosting")
    os.rename(folder / "compute" / "default", folder / "compute" / "server")
    with pytest.raises(ManifestInvalid, match=r"^computeResources\[0\]\.name: compute/default/ does not exist"):
        read_hosting_output(tmp_path, folder)


@pytest.mark.parametrize("how", ["missing", "symlink", "folder"])
def test_entrypoint_must_be_a_regular_file_in_the_compute_folder(tmp_path: Path, how: str) -> None:
    folder = write_bundle(tmp_path / ".amplify-hosting")
    server = folder / "compute" / "default" / "server.js"
    server.unlink()
    if how == "symlink":
        server.symlink_to(tmp_path / "elsewhere.js")
    elif how == "folder":
        server.mkdir()
    with pytest.raises(ManifestInvalid) as caught:
        read_hosting_output(tmp_path, folder)
    assert str(caught.value) == (
        "computeResources[0].entrypoint: 'server.js' is not a file in compute/default/ "
        "(it must be a regular file there, not a symlink)"
    )


def test_a_folder_outside_the_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    folder = write_bundle(tmp_path / "other")
    with pytest.raises(ManifestInvalid, match="must be a folder inside the project"):
        read_hosting_output(project, folder)


def test_an_invalid_manifest_in_the_bundle_names_its_path(tmp_path: Path) -> None:
    document = broken(lambda d: d["routes"][4]["target"].update(src="api"))
    folder = write_bundle(tmp_path / ".amplify-hosting", document)
    with pytest.raises(ManifestInvalid, match=r"^routes\[4\]\.target\.src: 'api' is not a compute resource"):
        read_hosting_output(tmp_path, folder)
