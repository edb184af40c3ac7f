"""An app's build path filters: the globs, and the settings form that keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from apps.branches.models import App
from apps.branches.pathfilters import PathFilterError, folder_filter, parse_path_filters
from console.models import AuditEvent


@pytest.mark.parametrize(
    ("filters", "path", "matches"),
    [
        ("apps/web/", "apps/web/src/index.ts", True),
        ("apps/web/", "apps/website/index.ts", False),
        ("apps/web", "apps/web/index.ts", True),  # no wildcard: the folder (or a file of that name)
        ("apps/web", "apps/web", True),
        ("/apps/web/", "apps/web/a", True),  # a leading / is the repository root
        ("apps/*/package.json", "apps/web/package.json", True),
        ("apps/*/package.json", "apps/web/sub/package.json", False),  # * stays in one folder
        ("apps/**/package.json", "apps/web/sub/package.json", True),
        ("**/*.md", "README.md", True),  # **/ also at the root
        ("**/*.md", "docs/a/b.md", True),
        ("apps/web/\n!**/*.md", "apps/web/NOTES.md", False),
        ("apps/web/, !**/*.md", "apps/web/index.ts", True),
        ("!docs/", "src/a.ts", True),  # only exclusions: everything else counts
        ("!docs/", "docs/a.md", False),
        ("amplify.yml", "amplify.yml", True),
    ],
)
def test_path_filters_match_paths_from_the_repository_root(filters: str, path: str, matches: bool) -> None:
    assert parse_path_filters(filters).matches(path) is matches


def test_an_empty_filter_builds_always_and_a_folder_filter_names_its_folder() -> None:
    assert parse_path_filters(" \n , ").empty
    assert folder_filter("/apps/web/").describe() == "apps/web/"
    assert folder_filter("apps/web").matches("apps/web/x")


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ("!", "Path filter '!' names no path."),
        ("apps/[web", "Path filter 'apps/[web' has an unclosed '[' at position 6."),
        ("../other/", "Path filter '../other/' leaves the repository (..): paths are relative to its root."),
        ("\n".join(f"p{n}/" for n in range(51)), "At most 50 path filters."),
    ],
)
def test_bad_path_filters_are_refused_by_name(filters: str, message: str) -> None:
    with pytest.raises(PathFilterError) as refused:
        parse_path_filters(filters)
    assert str(refused.value) == message


def _settings(repo: Path, **overrides: str) -> dict[str, str]:
    return {"name": "Shop", "repository": str(repo), "production_branch": "main", "platform": "WEB", **overrides}


def test_an_admin_sets_the_path_filters_and_the_audit_log_shows_them(admin_client: Client, app: App, repo: Path) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/settings/", _settings(repo, build_path_filters=" apps/web/\n!**/*.md "))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.build_path_filters == "apps/web/\n!**/*.md"
    event = AuditEvent.objects.filter(action="app.update", target=app.app_id).latest("pk")
    assert event.detail["build_path_filters"] == "apps/web/\n!**/*.md"
    assert "apps/web/" in admin_client.get(f"/apps/{app.app_id}/settings/").content.decode()


def test_a_bad_path_filter_is_refused_and_nothing_is_saved(admin_client: Client, app: App, repo: Path) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/settings/", _settings(repo, name="Renamed", build_path_filters="src/[a"))
    assert response.status_code == 400
    assert "Path filter &#x27;src/[a&#x27; has an unclosed" in response.content.decode()
    app.refresh_from_db()
    assert (app.name, app.build_path_filters) == ("Shop", "")
    assert not AuditEvent.objects.filter(action="app.update").exists()


@pytest.mark.parametrize("who", ["operator_client", "viewer_client"])
def test_only_admins_set_path_filters(request: pytest.FixtureRequest, app: App, repo: Path, who: str) -> None:
    response = request.getfixturevalue(who).post(f"/apps/{app.app_id}/settings/", _settings(repo, build_path_filters="src/"))
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.build_path_filters == ""
