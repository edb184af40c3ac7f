"""The build runner, run in-process: spec, phases, environment, outputs, artifacts, cache."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.buildcache import pack_cache
from apps.builds.buildenv import BuildTimeout
from apps.builds.models import BuildCache, Job
from apps.builds.tests.builds import SITE_SPEC, build, log_of, make_app, preview_branch
from apps.hosting.selectors import deployed_bytes
from apps.hosting.services import cache_key, get_blob
from console.aws import aws_client, aws_credentials


def one_command(command: str) -> str:
    return f"version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n        - {command}\n"


OUTPUTS = {"version": "1.4", "storage": {"aws_region": "us-east-1", "bucket_name": "bucket-1"}}


def test_a_build_succeeds_logs_each_command_and_hosts_the_site(db: None, make_repo: Callable[..., Path], client: Client) -> None:
    app = make_app(make_repo)
    job = build(app)
    head = subprocess.run(
        ["git", "ls-remote", app.repository, "refs/heads/main"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert job.status == Job.Status.SUCCEED, log_of(job)
    assert job.commit_id == head
    assert job.commit_message == "first"
    assert list(job.steps.values_list("name", "status")) == [("BUILD", "SUCCEED"), ("DEPLOY", "SUCCEED"), ("VERIFY", "SUCCEED")]
    log = log_of(job)
    assert "## Starting phase: frontend build" in log
    assert '# Executing command: echo "building $AWS_BRANCH job $AWS_JOB_ID at $AWS_COMMIT_ID"' in log
    assert f"building main job 0000000001 at {head}" in log
    host = f"main.{app.app_id}.localhost:8000"
    page = client.get("/", HTTP_HOST=host)
    assert (page.status_code, page.content, page["Content-Type"]) == (200, b"<h1>home</h1>", "text/html; charset=utf-8")
    css = client.get("/app.css", HTTP_HOST=host)
    assert (css.content, css["Content-Type"]) == (b"body{}", "text/css; charset=utf-8")


def test_job_ids_count_up_per_branch(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    services.branch_connect(actor=None, app=app, name="dev")
    assert [build(app).job_id for _ in range(3)] == [1, 2, 3]
    assert build(app, branch="dev").job_id == 1


def test_a_failing_command_stops_the_build_and_is_named(db: None, make_repo: Callable[..., Path]) -> None:
    spec = SITE_SPEC.replace(
        '      commands:\n        - echo "building', '      commands:\n        - test -f missing-file\n        - echo "building'
    )
    job = build(make_app(make_repo, spec))
    assert job.status == Job.Status.FAILED
    assert (job.failed_command, job.exit_code) == ("test -f missing-file", 1)
    assert job.status_reason == "Command failed with exit code 1: test -f missing-file"
    assert "building main" not in log_of(job)
    assert not Branch.objects.get(pk=job.branch_id).live_deployment
    assert list(job.steps.values_list("status", flat=True)) == ["FAILED", "CANCELLED", "CANCELLED"]


def test_a_failing_backend_skips_the_frontend(db: None, make_repo: Callable[..., Path]) -> None:
    spec = "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n        - exit 7\n" + SITE_SPEC.removeprefix(
        "version: 1\n"
    )
    job = build(make_app(make_repo, spec))
    assert (job.status, job.exit_code, job.failed_command) == ("FAILED", 7, "exit 7")
    assert "frontend" not in log_of(job)


def test_an_invalid_spec_fails_naming_the_key(db: None, make_repo: Callable[..., Path]) -> None:
    job = build(make_app(make_repo, "version: 1\nfrontned:\n  phases: {}\n"))
    assert job.status == Job.Status.FAILED
    assert "frontned" in job.status_reason
    assert "line 2" in job.status_reason


def test_the_stored_spec_is_used_when_the_repository_has_none(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo, spec=None)
    assert "No build spec" in build(app).status_reason
    services.app_build_spec_update(actor=None, app=app, build_spec=SITE_SPEC)
    job = build(app)
    assert job.status == Job.Status.SUCCEED
    assert "the app's stored build spec" in log_of(job)


def test_the_repository_spec_wins_over_the_stored_one(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    services.app_build_spec_update(
        actor=None, app=app, build_spec="version: 1\nfrontend:\n  phases:\n    build:\n      commands: [exit 9]\n"
    )
    assert build(app).status == Job.Status.SUCCEED


def test_environment_precedence_and_built_ins(db: None, make_repo: Callable[..., Path]) -> None:
    spec = (
        "version: 1\nenv:\n  variables:\n    FROM_SPEC: spec\n    SHARED: spec\n"
        "frontend:\n  phases:\n    build:\n      commands:\n"
        '        - echo "spec=$FROM_SPEC shared=$SHARED only_app=$ONLY_APP ci=$CI app=$AWS_APP_ID"\n'
        '        - echo "arn=$AWS_BRANCH_ARN clone=$AWS_CLONE_URL"\n'
    )
    app = make_app(make_repo, spec)
    services.env_var_set(actor=None, app=app, name="SHARED", value="app")
    services.env_var_set(actor=None, app=app, name="ONLY_APP", value="yes")
    services.env_var_set(actor=None, app=app, name="SHARED", value="branch", branch=app.branches.get(name="main"))
    log = log_of(build(app))
    assert f"spec=spec shared=branch only_app=yes ci=1 app={app.app_id}\n" in log
    assert f"arn=arn:aws:amplify:us-east-1:000000000000:apps/{app.app_id}/branches/main clone={app.repository}" in log


def test_a_build_gets_the_service_role_s_credentials_masked_and_never_the_console_s(
    db: None, make_repo: Callable[..., Path]
) -> None:
    role = aws_client("iam").create_role(RoleName="shop-build", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    spec = one_command('echo "key=$AWS_SECRET_ACCESS_KEY id=$AWS_ACCESS_KEY_ID token=${#AWS_SESSION_TOKEN}"')
    app = make_app(make_repo, spec)
    app.service_role_arn = role
    app.save()
    log = log_of(build(app))
    console = aws_credentials()
    assert "key=******** id=" in log
    assert f"key={console.secret_key}" not in log
    assert f"id={console.access_key}" not in log
    key_id = re.search(r"id=(\S+) token=(\d+)", log)
    assert key_id is not None, log
    assert key_id.group(1).startswith("ASIA")  # STS's temporary credentials
    assert int(key_id.group(2)) > 0
    assert f"## AWS credentials: temporary credentials of the service role {role}" in log


def test_without_a_service_role_a_build_has_no_aws_credentials_and_a_backend_failure_says_so(
    db: None, make_repo: Callable[..., Path]
) -> None:
    spec = (
        "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n"
        '        - echo "key=${AWS_SECRET_ACCESS_KEY:-none} id=${AWS_ACCESS_KEY_ID:-none}"\n'
        "        - exit 1\n"
    )
    job = build(make_app(make_repo, spec))
    log = log_of(job)
    assert "key=none id=none" in log
    assert "## No service role: the build has no AWS credentials" in log
    assert job.status == Job.Status.FAILED
    assert job.status_reason == (
        "Command failed with exit code 1: exit 1. The build had no AWS credentials: set a service role in the app's settings."
    )


def test_a_role_that_cannot_be_assumed_fails_the_build_before_any_command_runs(
    db: None, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.branches.servicerole import ServiceRoleError
    from apps.builds import buildenv

    def refuse(**kwargs: Any) -> dict[str, str]:
        raise ServiceRoleError("AccessDenied: not authorized to perform sts:AssumeRole")

    monkeypatch.setattr(buildenv, "assume_service_role", refuse)
    app = make_app(make_repo, one_command("echo never-run-marker"))
    app.service_role_arn = "arn:aws:iam::123456789012:role/missing"
    app.save()
    job = build(app)
    assert job.status == Job.Status.FAILED
    assert job.status_reason == ("The service role could not be assumed: AccessDenied: not authorized to perform sts:AssumeRole")
    assert "never-run-marker" not in log_of(job).replace("echo never-run-marker", "")


def test_backend_outputs_are_captured_and_validated(db: None, make_repo: Callable[..., Path]) -> None:
    spec = "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n        - cp outputs.json amplify_outputs.json\n"
    app = make_app(make_repo, spec, files={"outputs.json": json.dumps(OUTPUTS)})
    job = build(app)
    branch = Branch.objects.get(pk=job.branch_id)
    assert job.status == Job.Status.SUCCEED, log_of(job)
    assert branch.backend_outputs == OUTPUTS
    assert branch.backend_outputs_job_id == job.pk


def test_invalid_backend_outputs_fail_the_build(db: None, make_repo: Callable[..., Path]) -> None:
    spec = "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n        - cp outputs.json amplify_outputs.json\n"
    job = build(make_app(make_repo, spec, files={"outputs.json": json.dumps({"version": "9"})}))
    assert job.status == Job.Status.FAILED
    assert job.status_reason.startswith("amplify_outputs.json is invalid: version")
    assert Branch.objects.get(pk=job.branch_id).backend_outputs is None


def test_missing_artifact_directory_fails_with_a_clear_message(db: None, make_repo: Callable[..., Path]) -> None:
    spec = "version: 1\nfrontend:\n  artifacts:\n    baseDirectory: dist\n    files: ['**/*']\n"
    job = build(make_app(make_repo, spec))
    assert job.status == Job.Status.FAILED
    assert "baseDirectory 'dist' does not exist" in job.status_reason


def test_the_cache_is_restored_on_the_next_build(db: None, make_repo: Callable[..., Path]) -> None:
    spec = (
        "version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n"
        '        - if [ -f .cache/count ]; then echo "cached $(cat .cache/count)"; fi\n'
        "        - mkdir -p .cache && echo $AWS_JOB_ID > .cache/count\n"
        "  cache:\n    paths: ['.cache/**/*', '../outside/**/*']\n"
    )
    app = make_app(make_repo, spec)
    first = build(app)
    assert "cached 0" not in log_of(first)
    assert "../outside/**/*" in log_of(first)  # refused with a warning
    saved = BuildCache.objects.get(branch__app=app)
    # In the hosting bucket, not the database.
    assert (saved.in_bucket, bytes(saved.blob)) == (True, b"")
    stored = get_blob(cache_key(saved.branch_id))
    assert stored is not None
    assert len(stored) == saved.size
    assert "cached 0000000001" in log_of(build(app))


def test_a_cache_saved_in_the_database_before_the_bucket_is_still_restored(db: None, make_repo: Callable[..., Path]) -> None:
    spec = (
        "version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n"
        '        - if [ -f .cache/count ]; then echo "cached $(cat .cache/count)"; fi\n'
        "        - mkdir -p .cache && echo again > .cache/count\n"
        "  cache:\n    paths: ['.cache/**/*']\n"
    )
    app = make_app(make_repo, spec)
    source = Path(tempfile.mkdtemp())
    (source / ".cache").mkdir()
    (source / ".cache" / "count").write_text("from-the-database\n")
    blob, _ = pack_cache(source, [".cache/**/*"], 1024 * 1024)
    assert blob is not None
    BuildCache.objects.create(branch=app.branches.get(name="main"), blob=blob, size=len(blob))
    job = build(app)
    assert "cached from-the-database" in log_of(job)
    assert BuildCache.objects.get(branch__app=app).in_bucket  # saved anew, in the bucket


def test_monorepo_app_root(db: None, make_repo: Callable[..., Path]) -> None:
    spec = (
        "version: 1\napplications:\n  - appRoot: web\n    frontend:\n      phases:\n        build:\n"
        "          commands:\n            - mkdir -p out && pwd > out/index.html\n"
        "      artifacts:\n        baseDirectory: out\n        files: ['**/*']\n"
    )
    app = make_app(make_repo, spec, files={"web/README.md": "web app\n"})
    job = build(app)
    assert job.status == Job.Status.SUCCEED, log_of(job)
    deployment = Branch.objects.get(pk=job.branch_id).live_deployment
    assert deployment is not None
    assert (deployed_bytes(deployment, "index.html") or b"").decode().strip().endswith("/src/web")


def test_a_specific_commit_is_built_not_the_head(db: None, make_repo: Callable[..., Path], tmp_path: Path) -> None:
    app = make_app(make_repo)
    first = build(app).commit_id
    work = tmp_path / "push"
    subprocess.run(["git", "clone", "-q", "-b", "main", app.repository, str(work)], check=True)
    (work / "new.txt").write_text("new")
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "add", "."], cwd=work, check=True)
    subprocess.run(["git", "commit", "-qm", "second"], cwd=work, check=True, env=env)
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=work, check=True)
    assert build(app).commit_message == "second"
    retried = build(app, commit_id=first)
    assert (retried.commit_id, retried.commit_message) == (first, "first")


def test_waiting_jobs_run_one_at_a_time_in_order(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    branch = app.branches.get(name="main")
    first = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="t")
    second = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="t")
    claimed = jobs.claim_next_job(branch.pk)
    assert claimed is not None
    assert claimed.pk == first.pk
    assert jobs.claim_next_job(branch.pk) is None  # one active job per branch
    jobs.job_finish(first.pk, Job.Status.SUCCEED)
    claimed = jobs.claim_next_job(branch.pk)
    assert claimed is not None
    assert claimed.pk == second.pk


def test_a_redelivered_task_does_no_harm(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    job = build(app)
    from apps.builds.tasks import process_branch_queue

    process_branch_queue(job.branch_id)  # the same message again
    assert Job.objects.filter(branch_id=job.branch_id).count() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEED


def test_cancel_a_waiting_job(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="t")
    jobs.job_cancel(job=job, actor=None)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert list(job.steps.values_list("status", flat=True)) == ["CANCELLED"] * 3
    with pytest.raises(Exception, match="already ended"):
        jobs.job_cancel(job=job, actor=None)


def test_cancelling_a_running_job_ends_it_cancelled(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="t")
    jobs.claim_next_job(job.branch_id)
    jobs.job_cancel(job=job, actor=None)
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLING
    assert jobs.job_finish(job.pk, Job.Status.SUCCEED)  # the runner's own ending loses to the cancel
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_retry_builds_the_same_commit_and_redeploy_switches_without_building(db: None, make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    good = build(app)
    failed = build(app)
    Job.objects.filter(pk=failed.pk).update(status=Job.Status.FAILED)
    failed.refresh_from_db()
    admin = _user()
    retry = jobs.job_retry(job=failed, actor=admin)
    assert (retry.job_type, retry.commit_id) == ("RETRY", failed.commit_id)
    branch = Branch.objects.get(pk=good.branch_id)
    live_before = branch.live_deployment_id
    redeploy = jobs.job_redeploy(job=good, actor=admin)
    from apps.builds.tasks import process_branch_queue

    process_branch_queue(branch.pk)
    process_branch_queue(branch.pk)
    redeploy.refresh_from_db()
    branch.refresh_from_db()
    assert redeploy.status == Job.Status.SUCCEED
    assert branch.live_deployment_id == good.deployment.pk
    assert live_before != good.deployment.pk
    assert "no rebuild" in log_of(redeploy)
    assert "Cloning" not in log_of(redeploy)


def test_only_failed_jobs_retry_and_only_successful_ones_redeploy(db: None, make_repo: Callable[..., Path]) -> None:
    good = build(make_app(make_repo))
    with pytest.raises(Exception, match="Only failed or cancelled"):
        jobs.job_retry(job=good, actor=_user())
    Job.objects.filter(pk=good.pk).update(status=Job.Status.FAILED)
    good.refresh_from_db()
    with pytest.raises(Exception, match="Only a successful job"):
        jobs.job_redeploy(job=good, actor=_user())


def test_the_reaper_fails_jobs_whose_worker_stopped(db: None, make_repo: Callable[..., Path], settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    app = make_app(make_repo)
    job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="t")
    jobs.claim_next_job(job.branch_id)
    assert jobs.reap_stale_jobs() == []
    later = timezone.now() + timedelta(seconds=settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS + 1)
    assert jobs.reap_stale_jobs(now=later) == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert re.search(r"stopped: no heartbeat for \d+ s", job.status_reason)


def _user() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username="runner-test")[0]


def test_a_build_past_its_timeout_fails_and_says_so(
    db: None, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # _BUILD_TIMEOUT counts in minutes; the runner's deadline is shortened to keep the test fast.
    monkeypatch.setattr("apps.builds.runner.build_timeout", lambda env, cap: BuildTimeout(1))
    job = build(make_app(make_repo, one_command("sleep 30 & sleep 30; echo never")))
    assert job.status == Job.Status.FAILED
    assert job.status_reason == "Timed out after 1 s (_BUILD_TIMEOUT): every process of the build was stopped."
    assert "never" not in log_of(job).replace("echo never", "")


def test_build_timeout_comes_from_the_apps_build_timeout_variable(settings: Any) -> None:
    from apps.builds.buildenv import build_timeout

    assert build_timeout({}, 480).seconds == settings.BUILD_TIMEOUT_MINUTES * 60
    assert build_timeout({"_BUILD_TIMEOUT": "45"}, 480) == BuildTimeout(45 * 60)
    assert build_timeout({"_BUILD_TIMEOUT": "soon"}, 480).seconds == settings.BUILD_TIMEOUT_MINUTES * 60
    assert build_timeout({"_BUILD_TIMEOUT": "0"}, 480).seconds == 60


@pytest.mark.parametrize(
    ("policy", "gets_secrets"),
    [("WITHOUT_SECRETS", False), ("OFF", False), ("WITH_SECRETS", True)],
)
def test_a_fork_s_preview_gets_secrets_and_the_role_only_when_an_admin_opted_in(
    db: None, make_repo: Callable[..., Path], policy: str, gets_secrets: bool
) -> None:
    from apps.secrets.scopes import Scope
    from apps.secrets.services import secret_set

    role = aws_client("iam").create_role(RoleName="shop-build", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    spec = one_command('echo "secrets=${secrets:-none} key=${AWS_ACCESS_KEY_ID:-none}"')
    app = make_app(make_repo, spec)
    App.objects.filter(pk=app.pk).update(service_role_arn=role, fork_previews=policy)
    app.refresh_from_db()
    preview = preview_branch(app, 9, "dev", from_fork=True)
    secret_set(actor=None, scope=Scope("shared", app.app_id), name="STRIPE_KEY", value="sk-live-shared-value")
    log = log_of(build(app, "pr-9"))
    assert preview.jobs.get().status == Job.Status.SUCCEED, log
    assert "sk-live-shared-value" not in log
    if gets_secrets:
        assert '"STRIPE_KEY": "********"' in log
        assert "key=ASIA" in log
        assert "built with secrets and the service role (an admin opted in)" in log
    else:
        assert "secrets=none key=none" in log
        assert "Pull request from a fork: built without secrets or service role" in log


def test_a_worker_that_cannot_isolate_refuses_the_build_and_the_dashboard_says_why(
    db: None, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, viewer_client: Client
) -> None:
    from django.core.cache import cache

    from apps.builds import isolation

    monkeypatch.setattr(isolation, "isolation_problem", lambda: "bubblewrap (bwrap) is not installed on this worker")
    job = build(make_app(make_repo, one_command("echo never-run-marker")))
    try:
        assert job.status == Job.Status.FAILED
        assert job.status_reason.startswith(
            "Builds are refused on this worker: they cannot be isolated (bubblewrap (bwrap) is not installed on this worker)."
        )
        assert "BUILD_ISOLATION=off" in job.status_reason
        assert "never-run-marker" not in log_of(job)
        page = viewer_client.get("/").content.decode()
        assert "Builds are refused." in page
        assert "bubblewrap (bwrap) is not installed on this worker" in page
    finally:
        cache.clear()


def test_with_isolation_off_a_build_runs_unisolated_and_says_so(db: None, make_repo: Callable[..., Path], settings: Any) -> None:
    settings.BUILD_ISOLATION = "off"
    job = build(make_app(make_repo, one_command('echo "home=$HOME user=$(id -u)"')))
    log = log_of(job)
    assert job.status == Job.Status.SUCCEED, log
    assert "## WARNING: this build is NOT isolated (BUILD_ISOLATION=off)" in log
    # Still a clean environment of its own: a HOME in its workspace, not the worker's.
    assert f"home={settings.BUILD_WORKSPACE_DIR}" in log


def test_node_can_use_webassembly_under_the_memory_limit_and_the_build_s_node_options_are_kept(
    db: None, make_repo: Callable[..., Path]
) -> None:
    command = "node -e \"new WebAssembly.Memory({initial: 1}); console.log('wasm ok', process.env.NODE_OPTIONS)\""
    spec = json.dumps(
        {
            "version": 1,
            "env": {"variables": {"NODE_OPTIONS": "--max-old-space-size=512"}},
            "frontend": {"phases": {"build": {"commands": [command]}}},
        }
    )  # JSON is YAML
    job = build(make_app(make_repo, spec))
    assert job.status == Job.Status.SUCCEED, log_of(job)
    assert "wasm ok --max-old-space-size=512" in log_of(job)
