"""Routing by botocore's request URIs, on a path as sent (gunicorn's RAW_URI) and as
decoded (Django's own server): a `/` in a branch name is %2F in the first, a plain `/`
in the second, where the caller picks the reading whose branch exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from apps.amplify_api import protocol


def readings(method: str, path: str, *, raw: bool) -> list[tuple[str, dict[str, str]]]:
    return [(m.route.name, m.labels) for m in protocol.matches(method, path, raw=raw)]


def test_a_raw_path_reads_one_way_with_labels_decoded() -> None:
    assert readings("GET", "/apps/d1/branches/feature%2Fjobs/jobs/7", raw=True) == [
        ("GetJob", {"appId": "d1", "branchName": "feature/jobs", "jobId": "7"})
    ]
    assert readings("DELETE", "/apps/d1/branches/a%2Fb/jobs/7/stop", raw=True) == [
        ("StopJob", {"appId": "d1", "branchName": "a/b", "jobId": "7"})
    ]
    assert readings("GET", "/apps/d1/branches/main", raw=True) == [("GetBranch", {"appId": "d1", "branchName": "main"})]
    assert readings("GET", "/apps", raw=True) == [("ListApps", {})]
    assert readings("PUT", "/apps", raw=True) == []


def test_a_decoded_path_gives_every_reading_most_specific_first() -> None:
    # "feature/jobs" as a branch, or ListJobs of branch "feature": both are offered.
    assert readings("GET", "/apps/d1/branches/feature/jobs", raw=False) == [
        ("ListJobs", {"appId": "d1", "branchName": "feature"}),
        ("GetBranch", {"appId": "d1", "branchName": "feature/jobs"}),
    ]


def test_the_signed_path_is_the_one_botocore_sends() -> None:
    (match,) = protocol.matches("GET", "/apps/d1/branches/feature/login", raw=False)
    assert match.signed_path == "/amplify-api/apps/d1/branches/feature%2Flogin"
    (spaced,) = protocol.matches("GET", "/apps/d1/branches/a b~c", raw=False)
    assert spaced.signed_path == "/amplify-api/apps/d1/branches/a%20b~c"


def test_a_path_as_gunicorn_passes_it_routes_a_slash_branch_exactly(
    db: None, admin_user: object, make_repo: Callable[..., Path]
) -> None:
    from django.test import Client

    from apps.amplify_api import keys
    from apps.amplify_api.tests.test_api_auth import signed
    from apps.branches import services

    repo = make_repo(("main", "feature/jobs"))
    app = services.app_create(actor=None, name="Site", repository=str(repo), production_branch="main")
    services.branch_connect(actor=None, app=app, name="feature/jobs")
    new = keys.key_create(actor=None, username="ada")
    raw_path = f"/amplify-api/apps/{app.app_id}/branches/feature%2Fjobs"
    request = signed(f"http://testserver{raw_path}", new.key.access_key_id, new.secret_access_key)
    headers = {k: str(v) for k, v in request.headers.items()}
    response = Client().generic(
        "GET", f"/amplify-api/apps/{app.app_id}/branches/feature/jobs", headers={**headers, "Host": "testserver"},
        RAW_URI=raw_path,
    )  # fmt: skip
    # Decoded, this path also reads as ListJobs of a branch "feature"; as sent, it is GetBranch.
    assert response.status_code == 200, response.content
    assert response.json()["branch"]["branchName"] == "feature/jobs"
    # And the path as sent is what counts: here it names main, whatever the decoded one says.
    main_path = f"/amplify-api/apps/{app.app_id}/branches/main"
    request = signed(f"http://testserver{main_path}", new.key.access_key_id, new.secret_access_key)
    response = Client().generic(
        "GET", f"/amplify-api/apps/{app.app_id}/branches/feature/jobs",
        headers={**{k: str(v) for k, v in request.headers.items()}, "Host": "testserver"}, RAW_URI=main_path,
    )  # fmt: skip
    assert response.json()["branch"]["branchName"] == "main"
