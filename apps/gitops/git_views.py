"""Pages for the git integration: settings with live pattern preview, previews,
teardowns and deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.branches import selectors, services
from apps.branches.models import App
from apps.branches.selectors import PatternError, parse_patterns, repository_heads
from apps.builds.selectors import build_trust
from apps.gitops import gitsync
from apps.gitops.forms import GitSettingsForm
from apps.gitops.models import Teardown
from apps.gitops.sweep import orphaned_preview_stacks
from apps.prstatus import selectors as prstatus_selectors
from console.roles import Role, role_required

GIT_FIELDS = (
    "auto_detect_branches",
    "auto_detect_patterns",
    "auto_detect_stage",
    "auto_disconnect",
    "delete_backend_on_disconnect",
    "pr_build_drafts",
    "fork_previews",
)


def _hook_urls(request: HttpRequest, app: App) -> dict[str, str]:
    return {
        "github": request.build_absolute_uri(reverse("github_hook", args=[app.app_id])),
        "gitlab": request.build_absolute_uri(reverse("gitlab_hook", args=[app.app_id])),
    }


@require_http_methods(["GET", "POST"])
def git_settings(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    if request.method == "POST":
        return _git_settings_post(request, app)
    form = GitSettingsForm(initial={f: getattr(app, f) for f in GIT_FIELDS})
    return _render_git_settings(request, app, form)


def _render_git_settings(request: HttpRequest, app: App, form: GitSettingsForm, status: int = 200) -> HttpResponse:
    context = {"app": app, "form": form, "hook_urls": _hook_urls(request, app)}
    return render(request, "gitops/git_settings.html", context, status=status)


@role_required(Role.ADMIN)
def _git_settings_post(request: HttpRequest, app: App) -> HttpResponse:
    form = GitSettingsForm(request.POST)
    if form.is_valid():
        services.app_git_settings_update(actor=request.user, app=app, **form.cleaned_data)
        messages.success(request, "Git settings saved.")
        return redirect("git_settings", app_id=app.app_id)
    return _render_git_settings(request, app, form, status=400)


@require_GET
def pattern_preview(request: HttpRequest, app_id: str) -> HttpResponse:
    """htmx fragment: which of the repository's branches (as a worker last read them) the typed patterns match."""
    app = selectors.app_get(app_id)
    text = request.GET.get("auto_detect_patterns", "")
    heads = repository_heads(app)
    branches = sorted(heads.value or {})
    error, matched = "", set()
    try:
        matched = set(parse_patterns(text).filter(branches))
    except PatternError as failure:
        error = str(failure)
    context = {"app": app, "error": error, "branches": branches, "matched": matched, "patterns": text, "heads": heads}
    return render(request, "gitops/git_settings.html#pattern-preview", context)


@require_POST
@role_required(Role.ADMIN)
def rotate_webhook_secret(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    services.app_rotate_webhook_secret(actor=request.user, app=app)
    messages.success(request, "A new webhook secret is set: update it in GitHub or GitLab now, the old one no longer works.")
    return redirect("git_settings", app_id=app.app_id)


@require_GET
def previews(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    previews = selectors.branches_with_last_job(app).filter(pull_request_number__isnull=False)
    context = {
        "app": app,
        # What each preview's builds get comes from the rule the builds use, never restated here.
        "previews": [(preview, build_trust(preview)) for preview in previews],
        "teardowns": app.teardowns.all()[:50],
        "deliveries": Paginator(app.git_deliveries.all(), 50).get_page(request.GET.get("page")),
        "orphans": orphaned_preview_stacks(app),
        # Whether pull requests are told of their previews' builds, and where telling them failed.
        "pr_reporting": prstatus_selectors.reporting_of(app),
        "problems": prstatus_selectors.problems_of(app),
    }
    return render(request, "gitops/previews.html", context)


@require_POST
@role_required(Role.ADMIN)
def teardown_retry(request: HttpRequest, app_id: str, pk: int) -> HttpResponse:
    app = selectors.app_get(app_id)
    teardown = get_object_or_404(Teardown, app=app, pk=pk)
    try:
        gitsync.teardown_retry(teardown=teardown, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Teardown of {teardown.branch_name} started again.")
    return redirect("previews", app_id=app.app_id)
