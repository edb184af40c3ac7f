"""Reads for apps and branches, and what other apps may read or parse of them: the
repository's heads and the backend stack as workers last read them, amplify_outputs.json,
build specs, branch patterns. (Re-exported names are the public face of private modules.)"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from apps.branches.buildspec import BuildSpecInvalid as BuildSpecInvalid
from apps.branches.buildspec import parse_build_spec as parse_build_spec
from apps.branches.git import RemoteBranch as RemoteBranch
from apps.branches.git import mask_credentials as mask_credentials
from apps.branches.models import App, Branch, EnvironmentVariable
from apps.branches.outputs import FIELD_ORDER_KEY as FIELD_ORDER_KEY
from apps.branches.outputs import MAX_OUTPUTS_BYTES as MAX_OUTPUTS_BYTES
from apps.branches.outputs import SCHEMA_PATH as OUTPUTS_SCHEMA_PATH  # noqa: F401 (public: the data manager reads it)
from apps.branches.outputs import OutputsInvalid as OutputsInvalid
from apps.branches.outputs import outputs_as_written as outputs_as_written
from apps.branches.outputs import parse_outputs as parse_outputs
from apps.branches.ownership import refusal
from apps.branches.pathfilters import PathFilter as PathFilter
from apps.branches.pathfilters import PathFilterError as PathFilterError
from apps.branches.pathfilters import folder_filter as folder_filter
from apps.branches.pathfilters import parse_path_filters as parse_path_filters
from apps.branches.patterns import PatternError as PatternError
from apps.branches.patterns import parse_patterns as parse_patterns
from apps.branches.remote_reads import backend_stack as backend_stack
from apps.branches.remote_reads import repository_heads as repository_heads


def apps_with_counts() -> QuerySet[App]:
    return App.objects.annotate(branch_count=Count("branches")).order_by("name")


def app_get(app_id: str) -> App:
    return get_object_or_404(App, app_id=app_id)


def branch_get(app: App, display_name: str) -> Branch:
    return get_object_or_404(Branch.objects.select_related("app"), app=app, display_name=display_name)


def app_variables(app: App) -> QuerySet[EnvironmentVariable]:
    return app.environment_variables.filter(branch__isnull=True).order_by("name")


def branch_overrides(app: App) -> QuerySet[EnvironmentVariable]:
    return app.environment_variables.filter(branch__isnull=False).select_related("branch").order_by("branch__name", "name")


@dataclass(frozen=True)
class EffectiveVariable:
    name: str
    value: str
    source: str  # "app" or "branch"


def effective_environment(branch: Branch) -> list[EffectiveVariable]:
    """What a build of the branch gets: app variables, branch overrides winning."""
    merged = {v.name: EffectiveVariable(v.name, v.value, "app") for v in app_variables(branch.app)}
    for variable in branch.environment_variables.all():
        merged[variable.name] = EffectiveVariable(variable.name, variable.value, "branch")
    return [merged[name] for name in sorted(merged)]


def branches_with_last_job(app: App) -> QuerySet[Branch]:
    """The app's branches, each annotated with its newest job's id, status and times."""
    # The builds app's Job, reached through Branch.jobs: the core names no feature app.
    job_model = Branch.jobs.rel.related_model
    newest = job_model._default_manager.filter(branch=OuterRef("pk")).order_by("-job_id")
    return app.branches.annotate(
        last_job_id=Subquery(newest.values("job_id")[:1]),
        last_job_status=Subquery(newest.values("status")[:1]),
        last_job_at=Subquery(newest.values("created_at")[:1]),
    ).order_by("name")


def outputs_refusal(branch: Branch, kind: str, name: str) -> str:
    """Why the console will not act on a bucket or user pool the branch's outputs name
    ("" when it may): its own stack does not own it (apps.branches.ownership)."""
    return refusal(branch, kind, name)
