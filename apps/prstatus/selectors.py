"""Reads of pull request reporting: an app's setting, its pull requests' latest problems
(for the previews page) and its recent calls."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.branches.models import App
from apps.prstatus.models import Call, PullRequest, Reporting


def reporting_of(app: App) -> Reporting | None:
    return Reporting.objects.filter(app=app).first()


def problems_of(app: App) -> QuerySet[PullRequest]:
    """The pull requests whose latest report to the git host failed, newest problem first."""
    return PullRequest.objects.filter(app=app).exclude(problem="").order_by("-problem_at", "-number")


def calls_of(app: App, limit: int = 50) -> list[Call]:
    return list(Call.objects.filter(app=app)[:limit])
