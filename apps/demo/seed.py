"""The demo `make run` seeds: an admin, a local git repository made from
examples/todo-app, an app connected to it with `main` and `dev`, and (on the
emulator only) a build of each branch, whose backend phase deploys to the
emulator with the example's ampx stand-in, a team's sandboxes: a few sandbox
stacks of the app's project and of another one, one of them stale and one failed,
and, once main's build has deployed its tables, rows of each of its data models.

Every step checks before it writes, so seeding twice changes nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.datamanager.selectors import NoSchema, SchemaInvalid, TableMissing, branch_data, table_has_records
from apps.datamanager.services import seed_records
from apps.functions.services import seed_demo_logs
from apps.sandboxes.services import refresh_inventory
from apps.secrets.selectors import Scope
from apps.secrets.services import sandbox_secrets_seed
from apps.users.services import ensure_demo_users
from console.amplify_names import sandbox_stack_name
from console.aws import aws_client
from console.aws_errors import AwsError, AwsNotFound, aws_errors
from console.cloudformation import create_stack, describe_stack
from console.emulator import EmulatorError, set_stack_state
from console.queue import send_on_commit
from console.roles import Role, set_role

DEMO_APP_NAME = "Todo app (demo)"
DEMO_PACKAGE = "todo-app"  # examples/todo-app/package.json: the namespace of its sandboxes
EXAMPLE_DIR = settings.BASE_DIR / "examples" / "todo-app"
DEMO_BRANCHES = ("main", "dev")

Say = Callable[[str], None]


def ensure_admin(say: Say) -> tuple[str, str | None]:
    """Create `admin` once; return (username, password if it was just set)."""
    User = get_user_model()
    wanted = os.environ.get("CONSOLE_ADMIN_PASSWORD") or None
    user = User.objects.filter(username="admin").first()
    if user is not None and wanted is None:
        return "admin", None
    password = wanted or secrets.token_urlsafe(12)
    with transaction.atomic():
        user = user or User(username="admin")
        user.set_password(password)
        user.save()
        set_role(user, Role.ADMIN)
    say("admin account ready")
    return "admin", password


def _git(args: list[str], cwd: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Demo",
        "GIT_AUTHOR_EMAIL": "demo@example.com",
        "GIT_COMMITTER_NAME": "Demo",
        "GIT_COMMITTER_EMAIL": "demo@example.com",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def single_branch_repository(
    example: Path, bare: Path, *, branch: str, message: str, leave_out: tuple[str, ...], add: tuple[Path, ...] = ()
) -> bool:
    """Make `bare`, unless it exists: one commit on `branch` of `example` without `leave_out`
    (build leftovers), plus the folders `add` at the top. True when it was made."""
    if (bare / "HEAD").exists():
        return False
    bare.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / example.name
        shutil.copytree(example, work, ignore=shutil.ignore_patterns(*leave_out))
        for folder in add:
            shutil.copytree(folder, work / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
        _git(["init", "-q", "-b", branch], work)
        _git(["add", "-A"], work)
        _git(["commit", "-q", "-m", message], work)
        _git(["init", "-q", "--bare", "-b", branch, str(bare)], work)
        _git(["push", "-q", str(bare), branch], work)
    return True


def ensure_repository(root: Path, say: Say) -> Path:
    """A bare repository with branches main and dev, made from the example."""
    bare = root / "todo-app.git"
    if (bare / "HEAD").exists():
        return bare
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "todo-app"
        shutil.copytree(EXAMPLE_DIR, work, ignore=shutil.ignore_patterns("amplify_outputs.json", "dist", "__pycache__"))
        _git(["init", "-q", "-b", "main"], work)
        _git(["add", "-A"], work)
        _git(["commit", "-q", "-m", "Initial commit of the todo app"], work)
        _git(["checkout", "-q", "-b", "dev"], work)
        readme = work / "README.md"
        readme.write_text(readme.read_text() + "\nThis line only exists on the dev branch.\n")
        _git(["commit", "-q", "-am", "Start dev work"], work)
        _git(["init", "-q", "--bare", "-b", "main", str(bare)], work)
        _git(["push", "-q", str(bare), "main", "dev"], work)
    say(f"demo repository created at {bare}")
    return bare


def ensure_app(repository: Path, say: Say) -> App:
    app = App.objects.filter(name=DEMO_APP_NAME).first()
    if app is None:
        app = services.app_create(
            actor=None,
            name=DEMO_APP_NAME,
            repository=str(repository),
            production_branch="main",
            package_name=DEMO_PACKAGE,
            description="Seeded by make run from examples/todo-app.",
        )
        # Branches named feature/* are connected as they appear; previews of PRs into main.
        App.objects.filter(pk=app.pk).update(
            auto_detect_branches=True, auto_detect_patterns="feature/*, dev", auto_disconnect=True
        )
        Branch.objects.filter(app=app, name="main").update(pr_previews_enabled=True)
        app.refresh_from_db()
        say(f"demo app created: {app.app_id}")
    if not app.package_name:  # a demo app from before apps had one; an edited name is left alone
        app = services.app_update(actor=None, app=app, package_name=DEMO_PACKAGE)
    if not app.branches.filter(name="dev").exists():
        services.branch_connect(actor=None, app=app, name="dev", stage=Branch.Stage.DEVELOPMENT)
    if not app.build_spec:
        services.app_build_spec_update(actor=None, app=app, build_spec=(EXAMPLE_DIR / "amplify.yml").read_text())
    if not app.environment_variables.exists():
        services.env_var_set(actor=None, app=app, name="GREETING", value="Hello from every branch")
        services.env_var_set(actor=None, app=app, name="GREETING", value="Hello from dev", branch=app.branches.get(name="dev"))
    return app


DEMO_ROLE = "amplify-demo-build-role"
_AMPLIFY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "amplify.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


_DEPLOY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["cloudformation:*", "s3:*", "dynamodb:*", "appsync:*", "cognito-idp:*", "ssm:GetParameter*"],
            "Resource": "*",
        }
    ],
}


def ensure_service_role(app: App, say: Say) -> None:
    """The role the demo's builds assume (on the emulator): builds never get the console's keys."""
    iam = aws_client("iam")
    try:
        with aws_errors("read the demo's build role"):
            arn = iam.get_role(RoleName=DEMO_ROLE)["Role"]["Arn"]
    except AwsNotFound:
        with aws_errors("create the demo's build role"):
            arn = iam.create_role(
                RoleName=DEMO_ROLE,
                AssumeRolePolicyDocument=json.dumps(_AMPLIFY_TRUST),
                Description="Builds of the demo app assume this role (seeded by make run).",
            )["Role"]["Arn"]
            # What the ampx stand-in deploys: CloudFormation stacks and the resources in them.
            iam.put_role_policy(RoleName=DEMO_ROLE, PolicyName="deploy-backend", PolicyDocument=json.dumps(_DEPLOY_POLICY))
        say(f"demo build role created: {arn}")
    if app.service_role_arn != arn:
        App.objects.filter(pk=app.pk).update(service_role_arn=arn)
        app.service_role_arn = arn


def ensure_secrets(app: App, say: Say) -> None:
    """Shared and branch secrets on the emulator; dev lacks STRIPE_KEY, so the page flags it."""
    from apps.secrets import services as secrets

    demo = {
        Scope.shared(app.app_id): {"API_KEY": "demo-shared-api-key"},
        Scope.branch(app.app_id, "main"): {"STRIPE_KEY": "demo-main-stripe-key", "API_KEY": "demo-main-api-key"},
    }
    for scope, values in demo.items():
        for name, value in values.items():
            secrets.secret_set(actor=None, scope=scope, name=name, value=value)
    say("demo secrets written (shared API_KEY; main has its own API_KEY and STRIPE_KEY; dev lacks STRIPE_KEY)")


# --- Sandboxes: what `ampx sandbox` leaves in a team's account.

OTHER_PACKAGE = "billing-service"  # a project with no app in the console
FAILED_REASON = "The following resource(s) failed to update: [data7552DF31]. "
# Where the CDK bootstrap keeps templates; the nested stacks' templates go there.
ASSETS_BUCKET = "cdk-hnb659fds-assets-{account}-{region}"
# The root stack's nested stacks, by logical id (as CDK names them), and their templates.
NESTED_STACKS = {
    "data7552DF31": {
        "Description": "Amplify data: the Todo model's change feed",
        "Resources": {"TodoChangesTopic": {"Type": "AWS::SNS::Topic"}, "TodoChangesQueue": {"Type": "AWS::SQS::Queue"}},
    },
    "storage0EC3F24A": {
        "Description": "Amplify storage",
        "Resources": {"amplifyStorageBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"bucketName": {"Value": {"Ref": "amplifyStorageBucket"}}},
    },
}


@dataclass(frozen=True)
class DemoSandbox:
    package: str
    owner: str
    region_slot: int = 0  # index into the demo's regions (wraps round when there are fewer)
    secrets: dict[str, str] = field(default_factory=dict)
    # Set through the emulator's hook when the stack is created: what moto cannot do.
    state: dict[str, Any] = field(default_factory=dict)


DEMO_SANDBOXES = (
    DemoSandbox(DEMO_PACKAGE, "alice", secrets={"API_KEY": "alice-sandbox-api-key", "STRIPE_KEY": "sk_test_alice"}),
    DemoSandbox(DEMO_PACKAGE, "bob", region_slot=1),
    DemoSandbox(DEMO_PACKAGE, "carol", state={"created_days_ago": 60, "updated_days_ago": 45}),  # stale
    DemoSandbox(
        DEMO_PACKAGE,
        "dave",
        secrets={"API_KEY": "dave-sandbox-api-key"},
        state={"status": "UPDATE_ROLLBACK_COMPLETE", "reason": FAILED_REASON, "created_days_ago": 9, "updated_days_ago": 1},
    ),  # failed
    DemoSandbox(OTHER_PACKAGE, "alice", region_slot=1),
    DemoSandbox(OTHER_PACKAGE, "erin"),
)


def demo_regions() -> list[str]:
    """The inventory's regions, the console's own first (SSM secrets are written there)."""
    regions = list(dict.fromkeys(settings.AWS_REGIONS))
    if settings.AWS_REGION in regions:
        regions.remove(settings.AWS_REGION)
        regions.insert(0, settings.AWS_REGION)
    return regions


def _template_url(region: str) -> str:
    """The nested templates' folder in the region's assets bucket (made once)."""
    with aws_errors("sts:GetCallerIdentity"):
        account = aws_client("sts", region=region).get_caller_identity()["Account"]
    bucket = ASSETS_BUCKET.format(account=account, region=region)
    s3 = aws_client("s3", region=region)
    try:
        with aws_errors("s3:HeadBucket"):
            s3.head_bucket(Bucket=bucket)
    except AwsNotFound:
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        with aws_errors("s3:CreateBucket"):
            s3.create_bucket(Bucket=bucket, **location)
        for logical_id, template in NESTED_STACKS.items():
            with aws_errors("s3:PutObject"):
                s3.put_object(Bucket=bucket, Key=f"demo-sandbox/{logical_id}.json", Body=json.dumps(template).encode())
    return f"https://{bucket}.s3.{region}.amazonaws.com/demo-sandbox/"


def _root_template(template_url: str) -> str:
    nested = {"Type": "AWS::CloudFormation::Stack"}
    resources = {key: {**nested, "Properties": {"TemplateURL": f"{template_url}{key}.json"}} for key in NESTED_STACKS}
    description = {"createdOn": "Linux", "createdBy": "AmplifySandbox", "createdWith": "1.8.0", "stackType": "root"}
    outputs = {"awsAppsyncRegion": {"Value": {"Ref": "AWS::Region"}}, "storageRegion": {"Value": {"Ref": "AWS::Region"}}}
    return json.dumps({"Description": json.dumps(description), "Resources": resources, "Outputs": outputs})


def _deploy_sandbox(name: str, region: str, template_url: str) -> bool:
    """Create the stack, named and tagged as `ampx sandbox` does, unless it exists; True if created."""
    if describe_stack(name, region=region) is not None:
        return False
    tags = {"created-by": "amplify", "amplify:deployment-type": "sandbox"}
    create_stack(name, _root_template(template_url), tags=tags, region=region)
    return True


def ensure_sandboxes(say: Say) -> None:
    """Deploy the demo sandboxes that are missing, give the new ones their state (stale,
    failed: through the embedded emulator's hook), write their secrets, then refresh
    the inventory so the Sandboxes page has them at once."""
    regions = demo_regions()
    placed = [(sandbox, regions[sandbox.region_slot % len(regions)]) for sandbox in DEMO_SANDBOXES]
    template_urls = {region: _template_url(region) for region in dict.fromkeys(region for _, region in placed)}
    deployed = []
    for sandbox, region in placed:
        name = sandbox_stack_name(sandbox.package, sandbox.owner)
        if _deploy_sandbox(name, region, template_urls[region]):
            deployed.append(f"{sandbox.package}/{sandbox.owner} ({region})")
            if sandbox.state and settings.AWS_ENDPOINT_URL:
                try:
                    set_stack_state(settings.AWS_ENDPOINT_URL, region=region, stack_name=name, **sandbox.state)
                except EmulatorError as error:  # an emulator without our hook: the sandbox stays as deployed
                    say(f"sandbox {name} left as deployed: {error}")
        if region == settings.AWS_REGION:  # SSM writes go to the console's region
            sandbox_secrets_seed(sandbox.package, sandbox.owner, dict(sandbox.secrets))
    if deployed:
        say(f"demo sandboxes deployed: {', '.join(deployed)}")
    result = refresh_inventory(regions)
    say(f"sandbox inventory refreshed: {result.added} new, {result.updated} updated, {result.gone} gone")


def build_branches(app: App, say: Say) -> None:
    """Queue a build of each demo branch; the worker deploys its backend to the emulator and hosts its site."""
    from apps.builds.services import job_start

    for branch in app.branches.filter(name__in=DEMO_BRANCHES).order_by("name"):
        job = job_start(branch=branch, job_type=Job.Type.RELEASE, triggered_by="make run")
        say(f"build #{job.job_id} of {branch.name} queued")


# --- Data: rows to browse in main's tables, which exist once its build has run.

DEMO_DATA_BRANCH = "main"
# Parents first, so each todo's projectId is the id of a project already written.
DEMO_ROWS = (("Project", 8), ("Todo", 40), ("Note", 12))
DEMO_DATA_SEED = 20_260_101  # the same generated values on every run (ids and timestamps are new)


class BuildPending(Exception):
    """The branch still has a build waiting or running: its tables may not exist yet."""


def ensure_demo_data(branch: Branch, say: Say) -> None:
    """Seed each demo model of the branch's schema, unless its table holds records already."""
    try:
        data = branch_data(branch)
        for name, count in DEMO_ROWS:
            model = data.schema.model(name)
            if model is None:
                say(f"{branch.name}'s schema has no {name} model; no demo rows for it")
                continue
            table = data.table(model)
            if table_has_records(table):
                continue
            report = seed_records(data, model, table, count=count, seed=DEMO_DATA_SEED)
            say(f"demo data: {report.written} {model.plural_name} written to {table.name}")
    except (NoSchema, SchemaInvalid, TableMissing, AwsError) as error:
        say(f"no demo data for {branch.name}: {error}")
    ensure_demo_files(branch, say)
    ensure_demo_users(branch.backend_outputs, say)
    seed_demo_logs(branch, say)


def ensure_demo_files(branch: Branch, say: Say) -> None:
    """Folders and files in the branch's storage buckets, for the file browser."""
    from apps.storage.selectors import outputs_buckets
    from apps.storage.services import seed_demo_files

    branch.refresh_from_db(fields=["backend_outputs"])
    for bucket in outputs_buckets(branch.backend_outputs):
        try:
            written = seed_demo_files(bucket.name, bucket.region)
        except AwsError as error:
            say(f"no demo files in {bucket.name}: {error}")
        else:
            if written:
                say(f"demo files: {written} objects put in {bucket.name}")


def seed_demo_data_after_build(branch_pk: int, say: Say) -> None:
    """What the seed_demo_data task does: BuildPending while the branch's build has not
    ended; after a successful one, the demo rows; after a failed one, nothing."""
    branch = Branch.objects.select_related("app").get(pk=branch_pk)
    if branch.jobs.filter(status__in=(*Job.WAITING, *Job.ACTIVE)).exists():
        raise BuildPending(f"{branch.name} is still building")
    latest = branch.jobs.order_by("-job_id").first()
    if latest is None or latest.status != Job.Status.SUCCEED:
        say(f"no demo data for {branch.name}: its last build did not succeed")
        return
    ensure_demo_data(branch, say)


def queue_demo_data(app: App, say: Say) -> None:
    """The rows go in once main's build has deployed its tables: a task waits for it."""
    branch = app.branches.get(name=DEMO_DATA_BRANCH)
    send_on_commit("apps.demo.tasks.seed_demo_data", branch.pk)
    say(f"demo data for {branch.name} queued (written after its build)")


def seed_demo(*, build: bool, say: Say, nextjs: bool = False) -> tuple[str, str | None]:
    """With `nextjs` (the seed_demo command, so `make run`), the Next.js and frontend demos
    too; their status lines are said as NEXTJS_DEMO=... and FRONTEND_DEMO=..., which
    runconsole puts in its banner."""
    username, password = ensure_admin(say)
    repository = ensure_repository(settings.VAR_DIR / "demo", say)
    app = ensure_app(repository, say)
    if build:
        ensure_service_role(app, say)
        ensure_secrets(app, say)
        ensure_sandboxes(say)
        build_branches(app, say)
        queue_demo_data(app, say)
    if nextjs:
        from apps.demo.frontend_demo import seed_frontend_demo  # they import this module
        from apps.demo.nextjs_demo import seed_nextjs_demo

        say(f"NEXTJS_DEMO={seed_nextjs_demo(build=build, say=say)}")
        say(f"FRONTEND_DEMO={seed_frontend_demo(build=build, say=say)}")
    return username, password
