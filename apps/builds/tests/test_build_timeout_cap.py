"""A build spec (which a pull request controls) cannot raise the time its build may run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import App
from apps.builds.buildenv import BuildTimeout, build_timeout
from apps.builds.models import Job
from apps.builds.tests.builds import build, log_of, make_app
from console.models import AuditEvent

GREEDY_SPEC = (
    "version: 1\nenv:\n  variables:\n    _BUILD_TIMEOUT: 600\n"
    "frontend:\n  phases:\n    build:\n      commands:\n        - echo built\n"
)


def test_a_timeout_above_the_cap_is_held_to_it_with_a_line_saying_so() -> None:
    held = build_timeout({"_BUILD_TIMEOUT": "600"}, 120)
    assert held.seconds == 120 * 60
    assert "_BUILD_TIMEOUT asks for 600 minutes" in held.note
    assert "the build gets 120" in held.note
    assert build_timeout({"_BUILD_TIMEOUT": "90"}, 120) == BuildTimeout(90 * 60)


def test_a_default_above_a_low_cap_is_held_too(settings: Any) -> None:
    settings.BUILD_TIMEOUT_MINUTES = 30
    held = build_timeout({}, 10)
    assert held.seconds == 600
    assert "default timeout is 30 minutes" in held.note


def test_a_spec_asking_for_more_than_the_apps_cap_runs_under_the_cap(
    db: None, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(make_repo, GREEDY_SPEC)
    App.objects.filter(pk=app.pk).update(build_timeout_cap_minutes=5)
    given: list[BuildTimeout] = []

    def recording(env: dict[str, str], cap: int) -> BuildTimeout:
        given.append(build_timeout(env, cap))
        return given[-1]

    monkeypatch.setattr("apps.builds.runner.build_timeout", recording)
    job = build(app)
    assert job.status == Job.Status.SUCCEED, job.status_reason
    assert given == [BuildTimeout(300, given[0].note)]
    assert "_BUILD_TIMEOUT asks for 600 minutes; this app's builds run at most 5 minutes" in log_of(job)


def _settings_of(app: App) -> dict[str, str]:
    return {"name": app.name, "repository": app.repository, "production_branch": "main", "platform": "WEB"}


def test_admins_set_the_cap_and_the_change_is_audited(db: None, make_repo: Callable[..., Path], admin_client: Client) -> None:
    app = make_app(make_repo)
    form = _settings_of(app)
    response = admin_client.post(f"/apps/{app.app_id}/settings/", {**form, "build_timeout_cap_minutes": "45"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.build_timeout_cap_minutes == 45
    event = AuditEvent.objects.get(action="app.update")
    assert event.detail["build_timeout_cap_minutes"] == 45


@pytest.mark.parametrize("cap", ["0", "481", "soon"])
def test_a_cap_out_of_range_is_refused_and_nothing_changes(
    db: None, make_repo: Callable[..., Path], admin_client: Client, cap: str
) -> None:
    app = make_app(make_repo)
    form = _settings_of(app)
    response = admin_client.post(f"/apps/{app.app_id}/settings/", {**form, "build_timeout_cap_minutes": cap})
    assert response.status_code == 400
    assert "build_timeout_cap_minutes" in response.context["form"].errors
    app.refresh_from_db()
    assert app.build_timeout_cap_minutes == 120


def test_operators_cannot_raise_the_cap(db: None, make_repo: Callable[..., Path], operator_client: Client) -> None:
    app = make_app(make_repo)
    form = _settings_of(app)
    response = operator_client.post(f"/apps/{app.app_id}/settings/", {**form, "build_timeout_cap_minutes": "480"})
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.build_timeout_cap_minutes == 120
