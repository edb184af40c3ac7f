"""Which automatic builds (pushes, polls, incoming webhooks) are skipped, and why.

- A skip marker in the head commit's message: Amplify's `[skip-cd]`, and `[skip ci]` /
  `[ci skip]` as GitHub and GitLab spell theirs (anywhere in the message, any case).
- Path filters: the app's own (apps.branches.pathfilters), else, with `AMPLIFY_DIFF_DEPLOY`
  `true` in the app's or branch's variables, the folder `AMPLIFY_DIFF_DEPLOY_ROOT` or the
  monorepo app's `appRoot`. A build whose changed files (since the branch's last successful
  build) all fall outside is skipped. With no earlier build, or no changed file at all (a
  webhook rebuilding the same commit), there is nothing to judge and the build runs.

Commit messages and paths come from git hosts and repositories: untrusted text. Reasons
quote them only escaped and cut short.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Q

from apps.branches.models import Branch, EnvironmentVariable
from apps.branches.selectors import PathFilter, PathFilterError, folder_filter, parse_path_filters
from apps.branches.services import GitCredentials, GitError, run_git
from apps.builds.models import Job

SKIP_MARKERS = ("[skip-cd]", "[skip ci]", "[ci skip]")
LISTED_FILES = 5
SHOWN_PATH_CHARS = 120
# A diff this long is judged on its first files; the rest cannot all be outside if one is in.
MAX_DIFF_FILES = 20000
# Commit ids go on git's command line: hex only, never something git reads as an option.
_COMMIT_ID = re.compile(r"[0-9a-f]{7,64}")


def skip_marker(message: str) -> str | None:
    lowered = message.lower()
    return next((marker for marker in SKIP_MARKERS if marker in lowered), None)


def marker_reason(message: str) -> str:
    marker = skip_marker(message)
    return f"Skipped: the head commit's message contains {marker}." if marker else ""


@dataclass(frozen=True)
class PathRule:
    filter: PathFilter
    label: str  # what a changed file must be: "under apps/web/", "matching the app's path filters (...)"


def _variable(branch: Branch, name: str) -> str | None:
    """The branch's value, else the app's (as builds see them)."""
    rows = EnvironmentVariable.objects.filter(Q(branch__isnull=True) | Q(branch=branch), app_id=branch.app_id, name=name)
    values = {row.branch_id is not None: row.value for row in rows}
    return values.get(True, values.get(False))


def _diff_deploy(branch: Branch) -> bool:
    return (_variable(branch, "AMPLIFY_DIFF_DEPLOY") or "").strip().lower() == "true"


def _own_filter(branch: Branch) -> PathFilter | None:
    try:
        found = parse_path_filters(branch.app.build_path_filters)
    except PathFilterError:
        return None  # the settings form refuses bad filters; an old one filters nothing
    return None if found.empty else found


def needs_app_root(branch: Branch) -> bool:
    """Whether the rule depends on the build spec's appRoot (known only once cloned)."""
    root = (_variable(branch, "AMPLIFY_DIFF_DEPLOY_ROOT") or "").strip("/ ")
    return _own_filter(branch) is None and _diff_deploy(branch) and not root


def path_rule(branch: Branch, app_root: str | None = None) -> PathRule | None:
    """The rule that applies to the branch's automatic builds; None: build on any change."""
    own = _own_filter(branch)
    if own is not None:
        return PathRule(own, f"matching the app's path filters ({_shown(own.describe())})")
    if not _diff_deploy(branch):
        return None
    root = ((_variable(branch, "AMPLIFY_DIFF_DEPLOY_ROOT") or "").strip() or app_root or "").strip("/")
    if not root:
        return None
    return PathRule(folder_filter(root), f"under {_shown(root)}/ (AMPLIFY_DIFF_DEPLOY)")


def paths_reason(rule: PathRule, files: Sequence[str], since: str) -> str:
    if not files or any(rule.filter.matches(path) for path in files):
        return ""
    count = f"{len(files)} file{'s' if len(files) != 1 else ''} changed since {since[:12]}"
    listed = ", ".join(_shown(path) for path in files[:LISTED_FILES])
    more = f", and {len(files) - LISTED_FILES} more" if len(files) > LISTED_FILES else ""
    return f"Skipped: no changed file {rule.label} ({count}: {listed}{more})."


def last_built_commit(branch: Branch) -> str:
    """The commit of the branch's last successful build: what is deployed, so what changes count from."""
    job = branch.jobs.filter(status=Job.Status.SUCCEED, redeploy=False).exclude(commit_id="").order_by("-job_id").first()
    return job.commit_id if job else ""


def changed_files(source: Path, since: str, head: str, credentials: GitCredentials | None) -> list[str] | None:
    """Files changed between two commits of a clone; None when `since` cannot be had (a force push)."""
    if not (_COMMIT_ID.fullmatch(since) and _COMMIT_ID.fullmatch(head)):
        return None
    try:
        try:
            run_git(["cat-file", "-e", f"{since}^{{commit}}"], cwd=source)
        except GitError:
            run_git(["fetch", "--quiet", "origin", since], cwd=source, timeout=600, credentials=credentials)
        out = run_git(["diff", "--name-only", "--no-renames", "-z", since, head, "--"], cwd=source, timeout=600)
    except GitError:
        return None
    return [path for path in out.split("\0") if path][:MAX_DIFF_FILES]


def clone_paths_reason(branch: Branch, source: Path, project: Path, head: str, note: Callable[[str], None]) -> str:
    """The runner's judgement, in its clone (`project`: the monorepo app's folder, or `source`):
    why the build is skipped by path filters, "" to build (`note` says why it cannot judge)."""
    source, project = source.resolve(), project.resolve()
    rule = path_rule(branch, str(project.relative_to(source)) if project != source else None)
    if rule is None:
        return ""
    since = last_built_commit(branch)
    if not since:
        note("## Path filters: no earlier successful build to compare with; building.")
        return ""
    files = changed_files(source, since, head, branch.app.git_credentials)
    if files is None:
        note(f"## Path filters: the last built commit {since[:12]} is not in the branch's history; building.")
        return ""
    return paths_reason(rule, files, since)


def _shown(text: str) -> str:
    """Untrusted text made safe to quote in one line: control and format characters escaped, cut short."""
    escaped = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
    return escaped if len(escaped) <= SHOWN_PATH_CHARS else escaped[: SHOWN_PATH_CHARS - 1] + "…"
