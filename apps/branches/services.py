"""Writes for apps, branches and environment variables.

Services check what forms cannot (the repository itself, uniqueness), write in
one transaction and leave an audit event. Bad input raises ValidationError
before anything is written.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.branches.buildspec import BuildSpecInvalid, parse_build_spec
from apps.branches.git import GitCredentials as GitCredentials
from apps.branches.git import GitError as GitError
from apps.branches.git import InvalidRepositoryUrl as InvalidRepositoryUrl
from apps.branches.git import list_remote_branches as list_remote_branches
from apps.branches.git import remote_heads as remote_heads
from apps.branches.git import run_git as run_git
from apps.branches.git import split_credentials as split_credentials
from apps.branches.models import App, Branch, EnvironmentVariable
from apps.branches.ownership import unowned_resources as unowned_resources
from apps.branches.remote_reads import read_stack_now as read_stack_now
from apps.branches.remote_reads import store_heads as store_heads
from apps.branches.servicerole import ServiceRoleError as ServiceRoleError
from apps.branches.servicerole import assume_service_role as assume_service_role
from apps.branches.servicerole import validate_role_arn as validate_role_arn
from apps.branches.validators import validate_branch_name, validate_env_name, validate_env_value, validate_node_version
from console.audit import audit_record
from console.ratelimit import within_rate

_APP_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_app_id() -> str:
    """`d` + 13 lowercase alphanumerics, like Amplify's app ids."""
    while True:
        app_id = "d" + "".join(secrets.choice(_APP_ID_ALPHABET) for _ in range(13))
        if not App.objects.filter(app_id=app_id).exists():
            return app_id


def _remote_branch_names(repository: str, credentials: GitCredentials | None, actor: Any = None) -> list[str]:
    """The repository's branches, read while an admin waits: briefly, and only so often."""
    who = getattr(actor, "pk", None)
    if who is not None and not within_rate(f"git-check:user:{who}", settings.GIT_CHECKS_PER_MINUTE):
        raise ValidationError(
            {"repository": f"More than {settings.GIT_CHECKS_PER_MINUTE} repository checks in a minute: wait a minute."}
        )
    try:
        found = list_remote_branches(repository, credentials=credentials, timeout=settings.GIT_CHECK_TIMEOUT_SECONDS)
        return [branch.name for branch in found]
    except GitError as error:
        raise ValidationError({"repository": f"Cannot read the repository: {error}"}) from error


def display_name_for(app: App, branch_name: str) -> str:
    base = branch_name.replace("/", "-")
    taken = set(app.branches.values_list("display_name", flat=True))
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


def app_create(
    *,
    actor: Any,
    name: str,
    repository: str,
    production_branch: str,
    platform: str = App.Platform.WEB,
    description: str = "",
    package_name: str = "",
    enable_branch_auto_build: bool = True,
    connect_production_branch: bool = True,
) -> App:
    """A new app. The production branch is connected too when the repository has it,
    unless `connect_production_branch` is off (the API's CreateApp connects no branch).
    Credentials in an https URL are kept sealed apart; the app's URL is stored without them."""
    validate_branch_name(production_branch)
    repository, credentials = _split_repository(repository)
    remote = _remote_branch_names(repository, credentials, actor)
    if remote and production_branch not in remote:
        raise ValidationError(
            {"production_branch": f"The repository has no branch {production_branch!r}. It has: {', '.join(remote[:10])}."}
        )
    with transaction.atomic():
        app = App.objects.create(
            app_id=new_app_id(),
            name=name,
            repository=repository,
            production_branch=production_branch,
            platform=platform,
            description=description,
            package_name=package_name,
            enable_branch_auto_build=enable_branch_auto_build,
            git_webhook_secret=secrets.token_hex(32),
        )
        if credentials:
            app.keep_git_credentials(credentials)
            app.save(update_fields=["repository_credentials_sealed"])
        if connect_production_branch and production_branch in remote:
            Branch.objects.create(
                app=app,
                name=production_branch,
                display_name=display_name_for(app, production_branch),
                stage=Branch.Stage.PRODUCTION,
            )
        audit_record(
            actor=actor,
            action="app.create",
            target_type="app",
            target=app.app_id,
            message=f"created app {name!r} from {repository}",
            detail={"repository": repository, "production_branch": production_branch, "credentials": bool(credentials)},
        )
    return app


_BUILD_ACCESS_FIELDS = ("service_role_arn", "build_network", "build_timeout_cap_minutes", "build_path_filters")
# Settings whose new values the audit event shows (none of them is a secret).
_AUDITED_VALUES = (*_BUILD_ACCESS_FIELDS, "node_version")


def _split_repository(url: str) -> tuple[str, GitCredentials | None]:
    try:
        return split_credentials(url)
    except InvalidRepositoryUrl as error:
        raise ValidationError({"repository": str(error)}) from None


def app_update(*, actor: Any, app: App, **fields: Any) -> App:
    """Change the app's fields. A repository URL with credentials replaces the stored ones;
    the same URL without them keeps them; another repository's URL without them drops them."""
    credentials_changed = False
    if "repository" in fields:
        fields["repository"], credentials = _split_repository(fields["repository"])
        if credentials is None and fields["repository"] == app.repository:
            credentials = app.git_credentials
        if fields["repository"] != app.repository or credentials != app.git_credentials:
            _remote_branch_names(fields["repository"], credentials, actor)
            app.keep_git_credentials(credentials)
            credentials_changed = True
    changed = {key: value for key, value in fields.items() if getattr(app, key) != value}
    for key, value in changed.items():
        setattr(app, key, value)
    if credentials_changed:
        changed["repository_credentials"] = "(sealed)"
    with transaction.atomic():
        app.save()
        audit_record(
            actor=actor,
            action="app.update",
            target_type="app",
            target=app.app_id,
            message=f"changed {', '.join(sorted(changed)) or 'nothing'}",  # names only: never a value
            # What builds may reach is worth seeing in full (an ARN is no secret).
            detail={"changed": sorted(changed), **{k: v for k, v in changed.items() if k in _AUDITED_VALUES}},
        )
    return app


def app_delete(*, actor: Any, app: App, confirm_name: str) -> None:
    if confirm_name != app.name:
        raise ValidationError({"confirm_name": f"Type the app name {app.name!r} exactly to delete it."})
    app_id, name = app.app_id, app.name
    with transaction.atomic():
        # A running build notices its job gone at its next heartbeat (half a second) and stops.
        app.delete()
        audit_record(actor=actor, action="app.delete", target_type="app", target=app_id, message=f"deleted app {name!r}")


def spec_version(build_spec: str) -> str:
    """A short fingerprint of a saved build spec, for edits that must not overwrite a newer one."""
    return hashlib.sha256(build_spec.encode("utf-8")).hexdigest()[:16]


class SpecChanged(ValidationError):
    """Someone saved the build spec after the editor loaded it; `current` is what they saved."""

    def __init__(self, current: str) -> None:
        super().__init__(
            {
                "build_spec": "Someone saved the build spec after you opened it; theirs is shown below. "
                "Save again to replace it with yours."
            }
        )
        self.current = current


def app_build_spec_update(*, actor: Any, app: App, build_spec: str, expected_version: str | None = None) -> App:
    """Save the stored spec. With `expected_version` (the editor's), a newer save by someone
    else is not overwritten: SpecChanged carries theirs."""
    if build_spec.strip():
        try:
            parse_build_spec(build_spec)
        except BuildSpecInvalid as error:
            raise ValidationError({"build_spec": [str(e) for e in error.errors]}) from error
    with transaction.atomic():
        current = App.objects.select_for_update().values_list("build_spec", flat=True).get(pk=app.pk)
        if expected_version is not None and spec_version(current) != expected_version:
            raise SpecChanged(current)
        app.build_spec = build_spec
        app.save(update_fields=["build_spec", "updated_at"])
        audit_record(actor=actor, action="app.build_spec.update", target_type="app", target=app.app_id)
    return app


def branch_connect(
    *,
    actor: Any,
    app: App,
    name: str,
    stage: str = Branch.Stage.DEVELOPMENT,
    enable_auto_build: bool = True,
) -> Branch:
    validate_branch_name(name)
    if app.branches.filter(name=name).exists():
        raise ValidationError({"name": f"Branch {name!r} is already connected."})
    if name not in _remote_branch_names(app.repository, app.git_credentials, actor):
        raise ValidationError({"name": f"The repository has no branch {name!r}."})
    try:
        with transaction.atomic():
            branch = Branch.objects.create(
                app=app, name=name, display_name=display_name_for(app, name), stage=stage, enable_auto_build=enable_auto_build
            )
            audit_record(
                actor=actor,
                action="branch.connect",
                target_type="branch",
                target=f"{app.app_id}/{name}",
                detail={"stage": stage, "enable_auto_build": enable_auto_build},
            )
    except IntegrityError:
        # Another request connected it between our check and our insert.
        raise ValidationError({"name": f"Branch {name!r} is already connected."}) from None
    return branch


def branch_update(
    *, actor: Any, branch: Branch, stage: str, enable_auto_build: bool, description: str = "", node_version: str | None = None
) -> Branch:
    """Change the branch's settings; `node_version` None keeps the branch's (callers that do not set it)."""
    if node_version is not None:
        validate_node_version(node_version)
        branch.node_version = node_version
    with transaction.atomic():
        branch.stage, branch.enable_auto_build, branch.description = stage, enable_auto_build, description
        branch.save(update_fields=["stage", "enable_auto_build", "description", "node_version", "updated_at"])
        audit_record(
            actor=actor,
            action="branch.update",
            target_type="branch",
            target=f"{branch.app.app_id}/{branch.name}",
            detail={"stage": stage, "enable_auto_build": enable_auto_build, "node_version": branch.node_version},
        )
    return branch


def branch_disconnect(*, actor: Any, branch: Branch, confirm_name: str) -> None:
    if confirm_name != branch.name:
        raise ValidationError({"confirm_name": f"Type the branch name {branch.name!r} exactly to disconnect it."})
    target = f"{branch.app.app_id}/{branch.name}"
    with transaction.atomic():
        branch.delete()  # a running build of the branch stops at its next heartbeat
        audit_record(actor=actor, action="branch.disconnect", target_type="branch", target=target)


def env_var_version(variable: EnvironmentVariable | None) -> str:
    """What an editor saw: "" for no variable, else one that changes with every save."""
    return "" if variable is None else f"{variable.pk}.{int(variable.updated_at.timestamp() * 1_000_000)}"


class EnvVarChanged(ValidationError):
    """The variable is not what the editor saw: someone else saved it (or it existed)."""

    def __init__(self, current: EnvironmentVariable) -> None:
        scope = f"branch {current.branch.name}" if current.branch else "all branches"
        super().__init__(
            {
                "value": f"{current.name} already has a value for {scope}, saved {current.updated_at:%H:%M:%S} "
                f"UTC: {current.value[:200]!r}. Save again to replace it with yours."
            }
        )
        self.current = current


def env_var_set(
    *,
    actor: Any,
    app: App,
    name: str,
    value: str,
    branch: Branch | None = None,
    replaces: str | None = None,
) -> EnvironmentVariable:
    """Create or update a variable. With `replaces` (what the editor saw, see env_var_version),
    a variable saved by someone else since, or created meanwhile, is not overwritten:
    EnvVarChanged carries it. Without it (the API), the last save wins."""
    try:
        validate_env_name(name)
    except ValidationError as error:
        raise ValidationError({"name": error.messages}) from None
    try:
        validate_env_value(value)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None
    if branch is not None and branch.app_id != app.pk:
        raise ValidationError({"branch": "That branch belongs to another app."})
    with transaction.atomic():
        variable, created = _env_var_write(app, branch, name, value, replaces)
        scope = f"branch {branch.name}" if branch else "all branches"
        audit_record(
            actor=actor,
            action="envvar.create" if created else "envvar.update",
            target_type="envvar",
            target=f"{app.app_id}/{branch.name if branch else '*'}/{name}",
            message=f"{'set' if created else 'changed'} {name} for {scope}",
        )
    return variable


def _env_var_write(
    app: App, branch: Branch | None, name: str, value: str, replaces: str | None
) -> tuple[EnvironmentVariable, bool]:
    def current() -> EnvironmentVariable | None:
        return EnvironmentVariable.objects.select_for_update().filter(app=app, branch=branch, name=name).first()

    existing = current()
    if existing is None:
        try:
            with transaction.atomic():  # two first saves at once: the unique constraint picks one
                return EnvironmentVariable.objects.create(app=app, branch=branch, name=name, value=value), True
        except IntegrityError:
            existing = current()
            if existing is None:
                raise
    if replaces is not None and env_var_version(existing) != replaces:
        raise EnvVarChanged(existing)
    existing.value = value
    existing.save(update_fields=["value", "updated_at"])
    return existing, False


def env_var_delete(*, actor: Any, variable: EnvironmentVariable) -> None:
    branch = variable.branch
    target = f"{variable.app.app_id}/{branch.name if branch else '*'}/{variable.name}"
    with transaction.atomic():
        variable.delete()
        audit_record(actor=actor, action="envvar.delete", target_type="envvar", target=target)


def app_git_settings_update(*, actor: Any, app: App, **fields: Any) -> App:
    # What changed, as [before, after]: who let forks' code build with secrets must be findable.
    changed = {key: [getattr(app, key), value] for key, value in fields.items() if getattr(app, key) != value}
    for key, value in fields.items():
        setattr(app, key, value)
    with transaction.atomic():
        app.save(update_fields=[*fields, "updated_at"])
        audit_record(
            actor=actor,
            action="app.git_settings.update",
            target_type="app",
            target=app.app_id,
            detail={**fields, "changed": changed},
        )
    return app


def app_rotate_webhook_secret(*, actor: Any, app: App) -> App:
    with transaction.atomic():
        app.git_webhook_secret = secrets.token_hex(32)
        app.save(update_fields=["git_webhook_secret", "updated_at"])
        audit_record(actor=actor, action="app.webhook_secret.rotate", target_type="app", target=app.app_id)
    return app


def branch_preview_settings_update(
    *, actor: Any, branch: Branch, pr_previews_enabled: bool, pr_shared_backend: Branch | None
) -> Branch:
    if pr_shared_backend is not None and pr_shared_backend.app_id != branch.app_id:
        raise ValidationError({"pr_shared_backend": "That branch belongs to another app."})
    with transaction.atomic():
        branch.pr_previews_enabled, branch.pr_shared_backend = pr_previews_enabled, pr_shared_backend
        branch.save(update_fields=["pr_previews_enabled", "pr_shared_backend", "updated_at"])
        audit_record(
            actor=actor,
            action="branch.previews.update",
            target_type="branch",
            target=f"{branch.app.app_id}/{branch.name}",
            detail={"enabled": pr_previews_enabled, "shared_backend": pr_shared_backend.name if pr_shared_backend else None},
        )
    return branch
