"""Every mutating view: viewers and operators get 403, outsiders go to sign-in, nothing changes.

The table below must name every URL of the console: a new URL makes
`test_every_url_is_classified` fail until it is listed as mutating or read-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver

from apps.branches import services
from apps.branches.models import App, EnvironmentVariable
from apps.builds import jobs
from apps.builds.models import Job, Webhook
from apps.builds.webhooks import webhook_create
from apps.datamanager.models import DataTask, SchemaUpload
from apps.datamanager.schema import schema_from_introspection
from apps.datamanager.tests.factories import field, make_table, model, outputs_document
from apps.datamanager.views import key_token
from apps.gitops.models import Teardown
from apps.hosting.models import BasicAuth, Deployment, SiteSettings
from apps.hosting.selectors import parse_rules, stored_rules
from apps.hosting.services import set_custom_rules
from apps.notifications.models import Delivery, Subscription
from apps.notifications.services import secret_rotate
from apps.prstatus.models import PullRequest, Reporting
from apps.prstatus.services import reporting_save
from apps.sandboxes.inventory import refresh_inventory
from apps.sandboxes.models import InventorySettings, RegionScan, Sandbox
from apps.sandboxes.tests.stacks import deploy_sandbox, set_stack_state
from apps.secrets.scopes import Scope
from apps.secrets.services import secret_set
from console.models import AuditEvent

READ_ONLY = {
    "login",
    "logout",
    "dashboard",
    "app_overview",
    "remote_branches",
    "branch_status",
    "branch_outputs",
    "audit_log",
    "job_detail",
    "job_log",
    "job_log_download",
    "hosted_site",
    "hosted_site_path",
    "pattern_preview",
    "previews",
    "secrets",
    "secrets_export",
    "secret_history",
    "sandboxes",
    "sandboxes_export",
    "sandbox_detail",
    "sandbox_status",
    "data_home",
    "data_model",
    "data_export",
    "data_task",
    "data_cell",  # a cell's whole value (the grid's side panel)
    "data_parents",  # the parent picker's search
    "data_children",  # a hasMany's child count
    "hosting_monitoring",
    "hosting_access_logs",
    "hosting_rules",  # the page and its tester (GET)
    "compute_panel",
    "compute_logs",
    "compute_log_download",
    "functions_list",
    "function_detail",
    "function_logs",
    "function_logs_tail",
    "function_logs_download",
    "app_insights",  # and its CSV downloads (?chart=...&format=csv)
    "sandbox_insights",
}
# Changes only the signed-in person's own layout of a grid (no data, nobody else's view): any
# signed-in user may (tests in apps/datamanager/tests/test_grid_prefs.py).
OWN_PREFERENCES = {"data_grid_prefs"}
# Authenticated by its own token, not by a session (tests in test_webhooks.py).
TOKEN_AUTHENTICATED = {"webhook_trigger", "github_hook", "gitlab_hook"}
# Views an operator may use; every other mutating view is for admins only.
OPERATOR_ALLOWED = {
    "job_start",
    "job_cancel",
    "job_retry",
    "job_redeploy",
    "sandboxes_refresh",
    "data_outputs_upload",
    "data_record_new",
    "data_record_edit",
    "data_delete",
    "data_seed",
    "data_import",
    "data_import_map",
    "data_task_retry",
    "data_cell_update",
    "data_record_file",
    "notification_redeliver",
}


@dataclass(frozen=True)
class Upload:
    """A file field of a form: posted as a file `name` holding `text` (not filled in)."""

    name: str
    text: str


# The data manager's schema in the world: one Todo model, its table and one record.
TODO_INTROSPECTION = {
    "version": 1,
    "models": {
        "Todo": model(
            "Todo", [field("id", "ID", required=True), field("title", "String", required=True), field("attachment", "String")]
        )
    },
    "enums": {},
    "nonModels": {},
}
TODO_OUTPUTS = outputs_document(TODO_INTROSPECTION, region="us-east-1")
TODO_TABLE = "Todo-abc123-NONE"
TODO = {"id": "todo-1", "title": "Kept", "attachment": "media/kept.txt", "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z", "__typename": "Todo"}  # fmt: skip
# The branch's bucket (its outputs' storage section), for files put into records.
FILES_BUCKET = "shop-main-files"
FILES_PATHS = {"media/*": {"authenticated": ["get", "write"]}}
FILES_STORAGE = {"aws_region": "us-east-1", "bucket_name": FILES_BUCKET, "buckets": [
    {"name": "shopFiles", "bucket_name": FILES_BUCKET, "aws_region": "us-east-1", "paths": FILES_PATHS}
]}  # fmt: skip
DATA = "/apps/{app}/branches/main/data/"
RULES = "/apps/{app}/hosting/rules/"

# url name -> (path template, form data); {app}, {var}, {sandbox} etc. are filled in per test.
MUTATING: dict[str, tuple[str, dict[str, str | Upload]]] = {
    "app_create": ("/apps/new/", {"name": "X", "repository": "{repo}", "production_branch": "main", "platform": "WEB"}),
    "app_settings": (
        "/apps/{app}/settings/",
        {"name": "Changed", "repository": "{repo}", "production_branch": "main", "platform": "WEB", "node_version": "22"},
    ),
    "app_delete": ("/apps/{app}/delete/", {"confirm_name": "Shop"}),
    "app_build_spec": ("/apps/{app}/build-spec/", {"build_spec": "version: 1\n"}),
    "app_environment": ("/apps/{app}/environment/", {"name": "NEW", "value": "1"}),
    "env_var_delete": ("/apps/{app}/environment/{var}/delete/", {}),
    "branch_connect": ("/apps/{app}/connect-branch/", {"name": "extra", "stage": "DEVELOPMENT"}),
    "branch_detail": ("/apps/{app}/branches/main/", {"stage": "BETA", "node_version": "22"}),
    "branch_disconnect": ("/apps/{app}/branches/main/disconnect/", {"confirm_name": "main"}),
    "job_start": ("/apps/{app}/branches/main/build/", {}),
    "job_cancel": ("/apps/{app}/branches/main/jobs/{job}/cancel/", {}),
    "job_retry": ("/apps/{app}/branches/main/jobs/{failed_job}/retry/", {}),
    "job_redeploy": ("/apps/{app}/branches/main/jobs/{good_job}/redeploy/", {}),
    "webhook_add": ("/apps/{app}/branches/main/webhooks/", {"name": "CMS"}),
    "webhook_remove": ("/apps/{app}/branches/main/webhooks/{webhook}/delete/", {}),
    "git_settings": ("/apps/{app}/git/", {"auto_detect_stage": "BETA", "auto_disconnect": "on", "fork_previews": "OFF"}),
    "rotate_webhook_secret": ("/apps/{app}/git/rotate-secret/", {}),
    "teardown_retry": ("/apps/{app}/teardowns/{teardown}/retry/", {}),
    "branch_previews": ("/apps/{app}/branches/main/previews/", {"pr_previews_enabled": "on"}),
    "secret_set": ("/apps/{app}/secrets/set/", {"name": "NEW_SECRET", "value": "v4lue", "scopes": "__shared__"}),
    "secret_remove": ("/apps/{app}/secrets/remove/", {"name": "KEPT", "scope": "__shared__", "confirm_name": "KEPT"}),
    "secret_reveal": ("/apps/{app}/secrets/reveal/", {"name": "KEPT", "scope": "__shared__"}),
    "secret_copy": ("/apps/{app}/secrets/copy/", {"copy-source": "main", "copy-target": "dev"}),
    "secret_import": ("/apps/{app}/secrets/import/", {"import-text": "IMPORTED=1", "import-scopes": "__shared__"}),
    "secret_import_preview": ("/apps/{app}/secrets/import/preview/", {"import-text": "IMPORTED=1"}),
    "sandboxes_refresh": ("/sandboxes/refresh/", {}),
    "sandboxes_bulk_delete": ("/sandboxes/delete/", {"ids": "{sandbox}", "confirm": "delete 1"}),
    "sandboxes_settings": ("/sandboxes/settings/", {"stale_after_days": "7", "retention_days": "60"}),
    "sandboxes_retention_run": ("/sandboxes/retention/run/", {"confirm": "delete 1"}),
    "sandbox_delete": ("/sandboxes/{sandbox}/delete/", {"confirm_name": "{sandbox_name}"}),
    "data_outputs_upload": (DATA + "outputs/", {"outputs": Upload("amplify_outputs.json", json.dumps(TODO_OUTPUTS))}),
    "data_record_new": (DATA + "models/Todo/new/", {"id": "todo-2", "title": "New"}),
    "data_record_edit": (
        DATA + "models/Todo/edit/",
        {"key": "{todo_key}", "title": "Changed", "loaded_updated_at": TODO["updatedAt"]},
    ),
    "data_delete": (DATA + "models/Todo/delete/", {"keys": "{todo_key}", "confirm": "delete 1"}),
    "data_seed": (DATA + "models/Todo/seed/", {"count": "1"}),
    "data_import": (DATA + "models/Todo/import/", {"file": Upload("todos.csv", "id,title\ntodo-3,Imported\n")}),
    "data_import_map": (DATA + "models/Todo/import/{draft}/", {"map-0": "id", "map-1": "title", "mode": "skip"}),
    "data_task_retry": (DATA + "tasks/{failed_seed}/retry/", {}),
    "data_cell_update": (
        DATA + "models/Todo/cell/update/",
        {"key": "{todo_key}", "field": "title", "value": "Inline", "loaded_updated_at": TODO["updatedAt"]},
    ),
    "data_record_file": (
        DATA + "models/Todo/file/",
        {"key": "{todo_key}", "field": "attachment", "loaded_updated_at": TODO["updatedAt"], "file": Upload("new.txt", "hi")},
    ),
    "hosting_rule_save": (RULES + "save/", {"version": "{rules_version}", "source": "/a", "target": "/b", "status": "301"}),
    "hosting_rule_move": (RULES + "move/", {"version": "{rules_version}", "number": "1", "direction": "down"}),
    "hosting_rule_delete": (RULES + "delete/", {"version": "{rules_version}", "number": "1"}),
    # Doubled braces: form data goes through str.format like the paths.
    "hosting_rules_json": (
        RULES + "json/",
        {"version": "{rules_version}", "rules_json": '[{{"source": "/x", "target": "/y", "status": "302"}}]'},
    ),
    "hosting_headers": ("/apps/{app}/hosting/headers/", {"custom_headers": "customHeaders: []\n"}),
    "notifications": ("/apps/{app}/notifications/", {"kind": "EMAIL", "target": "new@example.com", "events": "failed"}),
    "notification_edit": ("/apps/{app}/notifications/{mail_subscription}/", {"target": "team@example.com", "events": "started"}),
    "notification_delete": ("/apps/{app}/notifications/{mail_subscription}/delete/", {"confirm": "ops@example.com"}),
    "notification_rotate_secret": ("/apps/{app}/notifications/{hook_subscription}/rotate-secret/", {}),
    "notification_redeliver": ("/apps/{app}/notifications/deliveries/{delivery}/redeliver/", {}),
    "pr_reporting": (
        "/apps/{app}/pull-request-status/",
        {"provider": "gitlab", "api_url": "https://140.82.112.6/api/v4", "repository": "group/shop", "token": "glpat-new"},
    ),
    "pr_reporting_remove": ("/apps/{app}/pull-request-status/remove/", {"confirm": "octo-org/shop"}),
    "hosting_access": (
        "/apps/{app}/hosting/access/",
        {"scope": "app", "app-enabled": "on", "app-username": "ada", "app-password": "open-sesame-42"},
    ),
}
# Views that answer 200 (a fragment) rather than redirecting after success.
RENDERS = {"secret_reveal", "secret_import_preview", "notifications", "notification_rotate_secret"}
# POST only to keep pasted values out of URLs (a preview), or to stage an uploaded CSV
# for its column mapping (the import itself is audited): they change nothing, so they
# are not audited.
NOT_A_CHANGE = {"secret_import_preview", "data_import"}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_classified() -> None:
    # The file browser's URLs have their own table (uploads need tickets and raw bodies):
    # apps/storage/tests/test_permissions_storage.py checks them the same way.
    from apps.storage.tests.test_permissions_storage import MUTATING as STORAGE_MUTATING
    from apps.storage.tests.test_permissions_storage import READ_ONLY as STORAGE_READ_ONLY

    storage = STORAGE_READ_ONLY | set(STORAGE_MUTATING)
    # The API keys' pages and the Amplify-compatible API: apps/amplify_api/tests/test_permissions_api.py.
    from apps.amplify_api.tests import test_permissions_api as api

    api_urls = api.READ_ONLY | api.MUTATING | api.TOKEN_AUTHENTICATED
    # A branch's Cognito users and groups (admins write): apps/users/tests/test_permissions_users.py.
    from apps.users.tests import test_permissions_users as users

    users_urls = users.READ_ONLY | set(users.MUTATING)
    # Custom domains and the TLS `ask` endpoint: apps/hosting/tests/test_domains.py.
    from apps.hosting.tests import test_domains as domains

    domain_urls = domains.MUTATING | domains.WITHOUT_SESSION
    assert url_names() == (
        READ_ONLY | TOKEN_AUTHENTICATED | OWN_PREFERENCES | set(MUTATING) | storage | api_urls | users_urls | domain_urls
    )


@pytest.fixture
def world(db: None, make_repo: Any) -> dict[str, Any]:
    repo = make_repo(("main", "dev", "extra"))
    app = services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    variable = services.env_var_set(actor=None, app=app, name="KEEP", value="1")
    main = app.branches.get(name="main")
    pending = jobs.job_start(branch=main, job_type=Job.Type.MANUAL, triggered_by="test")
    failed = jobs.job_start(branch=main, job_type=Job.Type.MANUAL, triggered_by="test")
    Job.objects.filter(pk=failed.pk).update(status=Job.Status.FAILED)
    good = jobs.job_start(branch=main, job_type=Job.Type.MANUAL, triggered_by="test")
    Job.objects.filter(pk=good.pk).update(status=Job.Status.SUCCEED)
    Deployment.objects.create(branch=main, job=good)
    webhook = webhook_create(actor=None, branch=main, name="Existing")
    services.branch_connect(actor=None, app=app, name="dev")
    secret_set(actor=None, scope=Scope.shared(app.app_id), name="KEPT", value="kept-value")
    teardown = Teardown.objects.create(app=app, kind=Teardown.Kind.PREVIEW, branch_name="pr-9", stack_name="x", status="FAILED")
    # Idle past the default retention period, so the retention run has one sandbox to delete.
    set_stack_state("us-east-1", deploy_sandbox("shop", "alice"), updated_days_ago=40)
    refresh_inventory()
    sandbox = Sandbox.objects.get()
    main.backend_outputs = {**TODO_OUTPUTS, "storage": FILES_STORAGE}
    main.save(update_fields=["backend_outputs"])  # not the stale next_job_id
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=FILES_BUCKET)
    todo = schema_from_introspection(TODO_INTROSPECTION).model("Todo")
    assert todo is not None
    make_table(todo, api_id="abc123", region="us-east-1")
    boto3.resource("dynamodb", region_name="us-east-1").Table(TODO_TABLE).put_item(Item=TODO)
    draft = DataTask.objects.create(
        kind=DataTask.Kind.IMPORT, branch=main, model_name="Todo", status=DataTask.Status.DRAFT, total=1,
        payload={"csv": "id,title\ntodo-4,Mapped\n", "file_name": "todos.csv"},
    )  # fmt: skip
    # A seed whose worker died after none of its one record: Retry writes it.
    failed_seed = DataTask.objects.create(
        kind=DataTask.Kind.SEED, branch=main, model_name="Todo", status=DataTask.Status.FAILED, retryable=True, total=1,
        payload={"count": 1, "seed": 7},
    )  # fmt: skip
    rules = [
        {"source": "/old", "target": "/new", "status": "301"},
        {"source": "/<*>", "target": "/index.html", "status": "404-200"},
    ]
    set_custom_rules(actor=None, app=app, rules=parse_rules(rules))
    mail_subscription = Subscription.objects.create(app=app, kind="EMAIL", target="ops@example.com", events=["failed"])
    hook_subscription = Subscription.objects.create(
        app=app, kind="WEBHOOK", target="https://hooks.example.com/b", events=["failed"]
    )
    secret_rotate(actor=None, subscription=hook_subscription)
    reporting_save(
        actor=None, app=app, provider="github", api_url="https://140.82.112.6", repository="octo-org/shop", token="ghp_x"
    )
    PullRequest.objects.create(app=app, number=9, comment_id="5")
    delivery = Delivery.objects.create(
        subscription=mail_subscription, event="failed", job=failed, status=Delivery.Status.FAILED, attempts=1
    )
    return {
        "mail_subscription": mail_subscription.pk,
        "hook_subscription": hook_subscription.pk,
        "delivery": delivery.pk,
        "rules_version": stored_rules(app).version,
        "failed_seed": failed_seed.pk,
        "app": app,
        "var": variable,
        "repo": repo,
        "job": pending.job_id,
        "failed_job": failed.job_id,
        "good_job": good.job_id,
        "webhook": webhook.webhook_id,
        "teardown": teardown.pk,
        "sandbox": sandbox.pk,
        "sandbox_name": sandbox.stack_name,
        "todo_key": key_token(todo, TODO),
        "draft": draft.pk,
    }


def data_snapshot() -> tuple[Any, ...]:
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TODO_TABLE)["Items"]
    return (
        sorted(items, key=lambda item: json.dumps(item, sort_keys=True)),
        list(DataTask.objects.order_by("pk").values()),
        list(SchemaUpload.objects.values()),
    )


def snapshot() -> tuple[Any, ...]:
    return (
        list(App.objects.values()),
        list(App.objects.get().branches.values()),
        list(EnvironmentVariable.objects.values()),
        list(Job.objects.values()),
        list(Webhook.objects.values()),
        list(Teardown.objects.values()),
        sorted(p["Name"] for p in boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"]),
        list(Sandbox.objects.values()),
        list(InventorySettings.objects.values()),
        list(RegionScan.objects.values()),
        [s["StackStatus"] for s in boto3.client("cloudformation", region_name="us-east-1").describe_stacks()["Stacks"]],
        list(SiteSettings.objects.values()),
        list(BasicAuth.objects.values()),
        list(Subscription.objects.values()),
        list(Delivery.objects.values()),
        list(Reporting.objects.values()),
        list(PullRequest.objects.values()),
        [o["Key"] for o in boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=FILES_BUCKET).get("Contents", [])],
        *data_snapshot(),
    )


def fill(template: str, world: dict[str, Any]) -> str:
    values = {k: v for k, v in world.items() if k not in ("app", "var")}
    return template.format(app=world["app"].app_id, var=world["var"].pk, **values)


def form(data: dict[str, str | Upload], world: dict[str, Any]) -> dict[str, Any]:
    """The form data to post: placeholders filled in, a fresh file for each Upload."""
    return {k: SimpleUploadedFile(v.name, v.text.encode()) if isinstance(v, Upload) else fill(v, world) for k, v in data.items()}


REFUSED = [(name, "viewer_client") for name in sorted(MUTATING)] + [
    (name, "operator_client") for name in sorted(set(MUTATING) - OPERATOR_ALLOWED)
]


@pytest.mark.parametrize(("name", "who"), REFUSED)
def test_roles_below_the_required_one_are_refused(
    name: str, who: str, world: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(who)
    path, data = MUTATING[name]
    before = snapshot()
    response = client.post(fill(path, world), form(data, world))
    assert response.status_code == 403
    assert snapshot() == before
    denied = AuditEvent.objects.get(outcome="denied")
    assert denied.target == fill(path, world)


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_outsiders_are_sent_to_sign_in(name: str, outsider_client: Client, world: dict[str, Any]) -> None:
    path, data = MUTATING[name]
    before = snapshot()
    response = outsider_client.post(fill(path, world), form(data, world))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_admins_may(name: str, admin_client: Client, world: dict[str, Any]) -> None:
    path, data = MUTATING[name]
    response = admin_client.post(fill(path, world), form(data, world))
    assert response.status_code == (200 if name in RENDERS else 302), response.content.decode()[:2000]
    assert AuditEvent.objects.filter(outcome="success", actor_name="ada").exists() != (name in NOT_A_CHANGE)


@pytest.mark.parametrize("name", sorted(OPERATOR_ALLOWED))
def test_operators_may_run_builds_refresh_sandboxes_and_change_data(
    name: str, operator_client: Client, world: dict[str, Any]
) -> None:
    path, data = MUTATING[name]
    before = Job.objects.count()
    deliveries = Delivery.objects.count()
    scanned = RegionScan.objects.get(region="us-east-1").finished_at
    data_before = data_snapshot()
    response = operator_client.post(fill(path, world), form(data, world))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(outcome="success", actor_name="otto").exists() != (name in NOT_A_CHANGE)
    if name.startswith("data_"):
        assert data_snapshot() != data_before
    elif name == "sandboxes_refresh":
        assert RegionScan.objects.filter(region="us-east-1", finished_at__gt=scanned).exists()
    elif name == "notification_redeliver":
        assert Delivery.objects.count() == deliveries + 1
    elif name != "job_cancel":
        assert Job.objects.count() == before + 1


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_posts_without_csrf_token_are_refused(name: str, admin_user: Any, world: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    path, data = MUTATING[name]
    before = snapshot()
    assert client.post(fill(path, world), form(data, world)).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(READ_ONLY - {"login", "logout"}))
def test_read_only_pages_need_sign_in(name: str, outsider_client: Client, world: dict[str, Any]) -> None:
    from django.urls import reverse

    app_id = world["app"].app_id
    args = {
        "dashboard": [],
        "audit_log": [],
        "branch_status": [app_id, "main"],
        "branch_outputs": [app_id, "main"],
        "hosted_site": [app_id, "main"],
        "hosted_site_path": [app_id, "main", "index.html"],
        "job_detail": [app_id, "main", world["job"]],
        "job_log": [app_id, "main", world["job"]],
        "job_log_download": [app_id, "main", world["job"]],
        "pattern_preview": [app_id],
        "secrets": [app_id],
        "secrets_export": [app_id],
        "secret_history": [app_id],
        "previews": [app_id],
        "sandboxes": [],
        "sandboxes_export": [],
        "sandbox_insights": [],
        "sandbox_detail": [world["sandbox"]],
        "sandbox_status": [world["sandbox"]],
        "data_home": [app_id, "main"],
        "data_model": [app_id, "main", "Todo"],
        "data_export": [app_id, "main", "Todo"],
        "data_task": [app_id, "main", world["draft"]],
        "data_cell": [app_id, "main", "Todo"],
        "data_parents": [app_id, "main", "Todo"],
        "data_children": [app_id, "main", "Todo"],
        "compute_panel": [app_id, "main"],
        "compute_logs": [app_id, "main"],
        "compute_log_download": [app_id, "main"],
        "functions_list": [app_id, "main"],
        "function_detail": [app_id, "main", "sayHello"],
        "function_logs": [app_id, "main", "sayHello"],
        "function_logs_tail": [app_id, "main", "sayHello"],
        "function_logs_download": [app_id, "main", "sayHello"],
    }.get(name, [app_id])
    response = outsider_client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
