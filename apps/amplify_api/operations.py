"""The Amplify API's operations on the console's own apps, branches, jobs and webhooks,
through the same services the pages use (so they are audited and validated alike).

Each operation takes a Call (the signed-in key's user, the request, the validated input)
and returns the output document. Reading needs the viewer role, starting and stopping
jobs the operator role, everything else the admin role: as on the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from apps.amplify_api import hosting_settings, render, unhonoured
from apps.amplify_api.domain_operations import DOMAIN_OPERATIONS
from apps.amplify_api.paging import page_of
from apps.amplify_api.protocol import bad_request, limit_exceeded, not_found
from apps.amplify_api.tag_operations import TAG_OPERATIONS
from apps.amplify_api.tags import TagsInvalid, check_tags, tags_set
from apps.branches import services
from apps.branches.models import App, Branch, EnvironmentVariable
from apps.branches.selectors import mask_credentials, parse_patterns
from apps.branches.services import GitError, InvalidRepositoryUrl, list_remote_branches, split_credentials, validate_role_arn
from apps.builds import services as build_services
from apps.builds.models import Job, Webhook
from console.roles import Role

# Amplify's own default quotas.
MAX_BRANCHES_PER_APP = 50
MAX_WEBHOOKS_PER_BRANCH = 10
MAX_WAITING_JOBS_PER_BRANCH = 5
STAGES = {choice.value for choice in Branch.Stage}


@dataclass(frozen=True)
class Call:
    request: HttpRequest
    user: Any
    params: dict[str, Any]


Operation = Callable[[Call], dict[str, Any]]


def _validation_message(error: ValidationError) -> str:
    """The services' messages, each after the field it is about in the API's spelling."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    parts = []
    for field, messages in error.message_dict.items():
        head, *rest = field.split("_")
        prefix = "" if field == "__all__" else head + "".join(word.title() for word in rest) + ": "
        parts.append(prefix + " ".join(messages))
    return " ".join(parts)


def _app(app_id: str) -> App:
    app = App.objects.filter(app_id=app_id).first()
    if app is None:
        raise not_found(f"App {app_id} not found.")
    return app


def _branch(app: App, name: str) -> Branch:
    branch = app.branches.filter(name=name).first()
    if branch is None:
        raise not_found(f"Branch {name} not found in app {app.app_id}.")
    return branch


def _job(branch: Branch, job_id: str) -> Job:
    job = branch.jobs.filter(job_id=int(job_id)).first() if job_id.isdigit() else None
    if job is None:
        raise not_found(f"Job {job_id} not found on branch {branch.name}.")
    return job


def _webhook(webhook_id: str) -> Webhook:
    webhook = Webhook.objects.select_related("branch__app").filter(webhook_id=webhook_id).first()
    if webhook is None:
        raise not_found(f"Webhook {webhook_id} not found.")
    return webhook


def _unsupported(params: dict[str, Any], *, branch: bool = False) -> None:
    """Settings the console cannot honour are refused, not silently dropped; bad tags too."""
    unhonoured.check(params, branch=branch)
    try:
        check_tags(params.get("tags") or {})
    except TagsInvalid as error:
        raise bad_request(f"tags: {error}") from None
    if (params.get("autoBranchCreationConfig") or {}).get("enableBasicAuth"):
        raise bad_request(
            "Basic auth for automatically created branches is not supported: set enableBasicAuth on the app "
            "(it protects every branch) or on a branch."
        )


def _replace_variables(call: Call, app: App, branch: Branch | None, variables: dict[str, str]) -> None:
    """Set the whole map, as Amplify does: names not in it are removed."""
    current = EnvironmentVariable.objects.filter(app=app, branch=branch)
    for variable in current:
        if variable.name not in variables:
            services.env_var_delete(actor=call.user, variable=variable)
    for name, value in variables.items():
        services.env_var_set(actor=call.user, app=app, name=name, value=value, branch=branch)


# --- Apps ---------------------------------------------------------------------------


def _production_branch_of(repository: str) -> str:
    try:
        bare, credentials = split_credentials(repository)
        names = [branch.name for branch in list_remote_branches(bare, credentials=credentials)]
    except (GitError, ValidationError, InvalidRepositoryUrl) as error:
        raise bad_request(f"Cannot read the repository {mask_credentials(repository)!r}: {error}") from None
    return next((name for name in ("main", "master") if name in names), names[0] if names else "main")


def _app_settings(call: Call, app: App) -> None:
    """UpdateApp's and CreateApp's optional settings onto the app."""
    params, fields = call.params, {}
    for api_name, field in (("name", "name"), ("description", "description"), ("platform", "platform")):
        if api_name in params:
            fields[field] = params[api_name]
    if "enableBranchAutoBuild" in params:
        fields["enable_branch_auto_build"] = params["enableBranchAutoBuild"]
    if "enableBranchAutoDeletion" in params:
        fields["auto_disconnect"] = params["enableBranchAutoDeletion"]
    if "enableAutoBranchCreation" in params:
        fields["auto_detect_branches"] = params["enableAutoBranchCreation"]
    if "autoBranchCreationPatterns" in params:
        text = ", ".join(params["autoBranchCreationPatterns"])
        try:
            parse_patterns(text)
        except ValueError as error:
            raise bad_request(f"autoBranchCreationPatterns: {error}") from None
        fields["auto_detect_patterns"] = text
    stage = (params.get("autoBranchCreationConfig") or {}).get("stage")
    if stage:
        fields["auto_detect_stage"] = stage
    if "repository" in params and params["repository"] != app.repository:
        fields["repository"] = params["repository"]
    if "iamServiceRoleArn" in params:
        try:
            fields["service_role_arn"] = validate_role_arn(params["iamServiceRoleArn"] or "")
        except ValidationError as error:
            raise bad_request(f"iamServiceRoleArn: {' '.join(error.messages)}") from None
    if fields:
        services.app_update(actor=call.user, app=app, **fields)
    if "buildSpec" in params:
        services.app_build_spec_update(actor=call.user, app=app, build_spec=params["buildSpec"])
    if "environmentVariables" in params:
        _replace_variables(call, app, None, params["environmentVariables"])


def create_app(call: Call) -> dict[str, Any]:
    params = call.params
    _unsupported(params)
    hosting_settings.check(params)
    if params.get("iamServiceRoleArn"):
        try:
            validate_role_arn(params["iamServiceRoleArn"])  # before anything is written
        except ValidationError as error:
            raise bad_request(f"iamServiceRoleArn: {' '.join(error.messages)}") from None
    repository = params.get("repository")
    if not repository:
        raise bad_request("repository is required: the console builds apps from a git repository (a URL or a path).")
    with transaction.atomic():
        app = services.app_create(
            actor=call.user,
            name=params["name"],
            repository=repository,
            production_branch=_production_branch_of(repository),
            platform=params.get("platform") or App.Platform.WEB,
            description=params.get("description", ""),
            enable_branch_auto_build=params.get("enableBranchAutoBuild", True),
            connect_production_branch=False,
        )
        _app_settings(call, app)
        hosting_settings.apply_to_app(call, app)
        tags_set(actor=call.user, app=app, branch=None, tags=params.get("tags") or {})
    app.refresh_from_db()
    return {"app": render.app_shape(app)}


def get_app(call: Call) -> dict[str, Any]:
    return {"app": render.app_shape(_app(call.params["appId"]))}


def list_apps(call: Call) -> dict[str, Any]:
    page = page_of(App.objects.all(), call.params, order="pk", operation="ListApps", default_size=100)
    return {"apps": [render.app_shape(app) for app in page.items], "nextToken": page.next_token}


def update_app(call: Call) -> dict[str, Any]:
    app = _app(call.params["appId"])
    _unsupported(call.params)
    hosting_settings.check(call.params, app)
    with transaction.atomic():
        _app_settings(call, app)
        hosting_settings.apply_to_app(call, app)
    app.refresh_from_db()
    return {"app": render.app_shape(app)}


def delete_app(call: Call) -> dict[str, Any]:
    app = _app(call.params["appId"])
    shape = render.app_shape(app)
    services.app_delete(actor=call.user, app=app, confirm_name=app.name)
    return {"app": shape}


# --- Branches -----------------------------------------------------------------------


def _branch_settings(call: Call, branch: Branch) -> None:
    params = call.params
    if "displayName" in params and params["displayName"] != branch.display_name:
        name = params["displayName"]
        if branch.app.branches.filter(display_name=name).exclude(pk=branch.pk).exists():
            raise bad_request(f"displayName {name!r} is taken by another branch of this app.")
        branch.display_name = name
    if any(key in params for key in ("stage", "enableAutoBuild", "description")):
        services.branch_update(
            actor=call.user,
            branch=branch,
            stage=params.get("stage") or branch.stage,
            enable_auto_build=params.get("enableAutoBuild", branch.enable_auto_build),
            description=params.get("description", branch.description),
        )
    if "enablePullRequestPreview" in params:
        services.branch_preview_settings_update(
            actor=call.user,
            branch=branch,
            pr_previews_enabled=params["enablePullRequestPreview"],
            pr_shared_backend=branch.pr_shared_backend,
        )
    branch.framework = params.get("framework", branch.framework)
    branch.backend_stack_arn = (params.get("backend") or {}).get("stackArn", branch.backend_stack_arn)
    branch.save(update_fields=["display_name", "framework", "backend_stack_arn", "updated_at"])
    hosting_settings.apply_to_branch(call, branch)
    if "environmentVariables" in params:
        _replace_variables(call, branch.app, branch, params["environmentVariables"])


def create_branch(call: Call) -> dict[str, Any]:
    params = call.params
    app = _app(params["appId"])
    _unsupported(params, branch=True)
    hosting_settings.check(params, app)
    if app.branches.count() >= MAX_BRANCHES_PER_APP:
        raise limit_exceeded(f"App {app.app_id} already has {MAX_BRANCHES_PER_APP} branches, the most it can have.")
    with transaction.atomic():
        branch = services.branch_connect(
            actor=call.user,
            app=app,
            name=params["branchName"],
            stage=params.get("stage") or Branch.Stage.DEVELOPMENT,
            enable_auto_build=params.get("enableAutoBuild", app.enable_branch_auto_build),
        )
        _branch_settings(call, branch)
        tags_set(actor=call.user, app=app, branch=branch, tags=params.get("tags") or {})
    branch.refresh_from_db()
    return {"branch": render.branch_shape(branch)}


def get_branch(call: Call) -> dict[str, Any]:
    return {"branch": render.branch_shape(_branch(_app(call.params["appId"]), call.params["branchName"]))}


def list_branches(call: Call) -> dict[str, Any]:
    app = _app(call.params["appId"])
    page = page_of(app.branches.all(), call.params, order="pk", operation="ListBranches", default_size=50)
    return {"branches": [render.branch_shape(branch) for branch in page.items], "nextToken": page.next_token}


def update_branch(call: Call) -> dict[str, Any]:
    branch = _branch(_app(call.params["appId"]), call.params["branchName"])
    _unsupported(call.params, branch=True)
    hosting_settings.check(call.params, branch.app)
    with transaction.atomic():
        _branch_settings(call, branch)
    branch.refresh_from_db()
    return {"branch": render.branch_shape(branch)}


def delete_branch(call: Call) -> dict[str, Any]:
    branch = _branch(_app(call.params["appId"]), call.params["branchName"])
    shape = render.branch_shape(branch)
    services.branch_disconnect(actor=call.user, branch=branch, confirm_name=branch.name)
    return {"branch": shape}


# --- Jobs ---------------------------------------------------------------------------


def start_job(call: Call) -> dict[str, Any]:
    params = call.params
    branch = _branch(_app(params["appId"]), params["branchName"])
    job_type = params["jobType"]
    if branch.jobs.filter(status__in=Job.WAITING).count() >= MAX_WAITING_JOBS_PER_BRANCH:
        raise limit_exceeded(
            f"Branch {branch.name} already has {MAX_WAITING_JOBS_PER_BRANCH} jobs waiting: wait for them or stop some."
        )
    if job_type == Job.Type.RETRY:
        if not params.get("jobId"):
            raise bad_request("jobId is required for a RETRY job: the id of the failed or cancelled job to run again.")
        job = build_services.job_retry(job=_job(branch, params["jobId"]), actor=call.user)
    elif job_type == Job.Type.MANUAL:
        raise bad_request("MANUAL jobs deploy an uploaded zip, which this console does not take: use RELEASE.")
    else:
        job = build_services.job_start(
            branch=branch,
            job_type=job_type,
            triggered_by=f"{call.user.get_username()} (API{': ' + params['jobReason'] if params.get('jobReason') else ''})",
            commit_id=params.get("commitId", ""),
            commit_message=params.get("commitMessage", ""),
            # Kept until the build clones the commit, whose own message and time then replace them.
            commit_time=params.get("commitTime"),
            actor=call.user,
        )
    return {"jobSummary": render.job_summary(job)}


def get_job(call: Call) -> dict[str, Any]:
    branch = _branch(_app(call.params["appId"]), call.params["branchName"])
    return {"job": render.job_shape(call.request, _job(branch, call.params["jobId"]))}


def list_jobs(call: Call) -> dict[str, Any]:
    branch = _branch(_app(call.params["appId"]), call.params["branchName"])
    page = page_of(branch.jobs.all(), call.params, order="-job_id", operation="ListJobs", default_size=50)
    return {"jobSummaries": [render.job_summary(job) for job in page.items], "nextToken": page.next_token}


def stop_job(call: Call) -> dict[str, Any]:
    branch = _branch(_app(call.params["appId"]), call.params["branchName"])
    job = build_services.job_cancel(job=_job(branch, call.params["jobId"]), actor=call.user)
    return {"jobSummary": render.job_summary(job)}


# --- Webhooks -----------------------------------------------------------------------


def _webhook_name(branch: Branch, description: str) -> str:
    """Webhook names are unique per branch; an empty description gets a numbered one."""
    if description.strip():
        return description.strip()[:100]
    taken = set(branch.webhooks.values_list("name", flat=True))
    return next(f"API webhook {n}" for n in range(1, len(taken) + 2) if f"API webhook {n}" not in taken)


def create_webhook(call: Call) -> dict[str, Any]:
    branch = _branch(_app(call.params["appId"]), call.params["branchName"])
    if branch.webhooks.count() >= MAX_WEBHOOKS_PER_BRANCH:
        raise limit_exceeded(f"Branch {branch.name} already has {MAX_WEBHOOKS_PER_BRANCH} webhooks, the most it can have.")
    name = _webhook_name(branch, call.params.get("description", ""))
    webhook = build_services.webhook_create(actor=call.user, branch=branch, name=name)
    return {"webhook": render.webhook_shape(call.request, webhook)}


def get_webhook(call: Call) -> dict[str, Any]:
    return {"webhook": render.webhook_shape(call.request, _webhook(call.params["webhookId"]))}


def list_webhooks(call: Call) -> dict[str, Any]:
    app = _app(call.params["appId"])
    rows = Webhook.objects.filter(branch__app=app).select_related("branch__app")
    page = page_of(rows, call.params, order="pk", operation="ListWebhooks", default_size=50)
    return {"webhooks": [render.webhook_shape(call.request, w) for w in page.items], "nextToken": page.next_token}


def update_webhook(call: Call) -> dict[str, Any]:
    webhook = _webhook(call.params["webhookId"])
    branch = webhook.branch
    if call.params.get("branchName"):
        branch = _branch(webhook.branch.app, call.params["branchName"])
    description = call.params.get("description")
    webhook = build_services.webhook_update(
        actor=call.user,
        webhook=webhook,
        branch=branch,
        name=webhook.name if description is None else _webhook_name(branch, description),
    )
    return {"webhook": render.webhook_shape(call.request, webhook)}


def delete_webhook(call: Call) -> dict[str, Any]:
    webhook = _webhook(call.params["webhookId"])
    shape = render.webhook_shape(call.request, webhook)
    build_services.webhook_delete(actor=call.user, webhook=webhook)
    return {"webhook": shape}


OPERATIONS: dict[str, tuple[Role, Operation]] = {
    "CreateApp": (Role.ADMIN, create_app),
    "GetApp": (Role.VIEWER, get_app),
    "ListApps": (Role.VIEWER, list_apps),
    "UpdateApp": (Role.ADMIN, update_app),
    "DeleteApp": (Role.ADMIN, delete_app),
    "CreateBranch": (Role.ADMIN, create_branch),
    "GetBranch": (Role.VIEWER, get_branch),
    "ListBranches": (Role.VIEWER, list_branches),
    "UpdateBranch": (Role.ADMIN, update_branch),
    "DeleteBranch": (Role.ADMIN, delete_branch),
    "StartJob": (Role.OPERATOR, start_job),
    "GetJob": (Role.VIEWER, get_job),
    "ListJobs": (Role.VIEWER, list_jobs),
    "StopJob": (Role.OPERATOR, stop_job),
    "CreateWebhook": (Role.ADMIN, create_webhook),
    "GetWebhook": (Role.VIEWER, get_webhook),
    "ListWebhooks": (Role.VIEWER, list_webhooks),
    "UpdateWebhook": (Role.ADMIN, update_webhook),
    "DeleteWebhook": (Role.ADMIN, delete_webhook),
    **DOMAIN_OPERATIONS,
    **TAG_OPERATIONS,
}


def run(name: str, call: Call) -> dict[str, Any]:
    """The operation's output; ApiError for what the caller got wrong."""
    _, operation = OPERATIONS[name]
    try:
        return operation(call)
    except ValidationError as error:
        raise bad_request(_validation_message(error)) from None
