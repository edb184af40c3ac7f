"""Many writers at once: webhook calls racing over many branches, admins saving the same
thing at the same moment. Exactly what the rules allow happens; nothing is lost,
duplicated or half-written, and whoever loses a race is told."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.branches import services
from apps.builds.models import Job
from apps.builds.webhooks import webhook_create
from conftest import post_to, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BRANCHES = [f"feature-{n}" for n in range(10)]
CALLS_PER_BRANCH = 5
LIMIT = 4  # WEBHOOK_RATE_LIMIT_PER_MINUTE for this test


def test_fifty_concurrent_webhook_calls_over_ten_branches_make_exactly_the_allowed_jobs_none_lost_none_duplicated(
    live_worker: Any, live_server: Any, settings: Any, make_repo: Callable[..., Path]
) -> None:
    settings.WEBHOOK_RATE_LIMIT_PER_MINUTE = LIMIT
    live_server.thread.httpd.socket.listen(128)  # a real server's backlog (see test_build_worker)
    spec = yaml.safe_dump({"version": 1, "frontend": {
        "phases": {"build": {"commands": ["mkdir -p out && echo concurrent > out/index.html"]}},
        "artifacts": {"baseDirectory": "out", "files": ["**/*"]},
    }})  # fmt: skip
    repo = make_repo(("main", *BRANCHES), {"amplify.yml": spec})
    app = services.app_create(actor=None, name="Busy", repository=str(repo), production_branch="main")
    hooks = {}
    for name in BRANCHES:
        branch = services.branch_connect(actor=None, app=app, name=name, enable_auto_build=False)
        hooks[name] = webhook_create(actor=None, branch=branch, name="ci")
    urls = [
        (name, f"{live_server.url}/webhooks?id={hook.webhook_id}&token={hook.token}&operation=startbuild")
        for name, hook in hooks.items()
        for _ in range(CALLS_PER_BRANCH)
    ]
    barrier = threading.Barrier(len(urls))

    def call(target: tuple[str, str]) -> tuple[str, int, dict[str, Any]]:
        barrier.wait(timeout=30)
        return (target[0], *post_to(target[1]))

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        answers = list(pool.map(call, urls))

    by_status = Counter((name, status) for name, status, _ in answers)
    for name in BRANCHES:
        assert by_status[(name, 202)] == LIMIT, answers
        assert by_status[(name, 429)] == CALLS_PER_BRANCH - LIMIT, answers
    refusals = {body["message"] for _, status, body in answers if status == 429}
    assert refusals == {"Too many requests for this webhook; try again in a minute."}
    accepted = sorted((name, int(body["jobSummary"]["jobId"])) for name, status, body in answers if status == 202)
    assert accepted == sorted((name, n) for name in BRANCHES for n in range(1, LIMIT + 1)), "one job per accepted call"

    wait_for(lambda: not Job.objects.filter(branch__app=app).exclude(status__in=Job.ENDED).exists(), 300, interval=1,
             message="the builds to end")  # fmt: skip
    built = list(Job.objects.filter(branch__app=app).select_related("branch").order_by("branch__name", "job_id"))
    assert len(built) == len(BRANCHES) * LIMIT, "no job lost, none made twice"
    assert {j.status for j in built} == {Job.Status.SUCCEED}, [(j.branch.name, j.job_id, j.status_reason) for j in built]
    for _, jobs in itertools.groupby(built, key=lambda j: j.branch.name):
        runs = list(jobs)
        assert [j.job_id for j in runs] == list(range(1, LIMIT + 1))
        for previous, current in itertools.pairwise(runs):
            assert previous.ended_at is not None
            assert current.started_at is not None
            assert current.started_at >= previous.ended_at, "one build at a time per branch"


# --- two admins saving the same thing at the same moment --------------------------------


def _at_once(*posts: Callable[[], Any]) -> list[Any]:
    """Run the posts from threads released together; each thread has its own database connection."""
    from django.db import connection

    barrier = threading.Barrier(len(posts))

    def run(post: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=30)
            return post()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(posts)) as pool:
        return list(pool.map(run, posts))


def _admin(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def on_emulator(emulator: Any, settings: Any) -> Iterator[None]:
    """The console's AWS calls go to the real moto server of the module."""
    from console.aws import clear_client_cache

    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    yield
    clear_client_cache()


def test_two_admins_adding_the_same_variable_at_once_one_wins_the_other_is_told(
    admin_user: Any, make_repo: Callable[..., Path]
) -> None:
    from apps.branches.models import EnvironmentVariable
    from console.models import AuditEvent

    app = services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    url = f"/apps/{app.app_id}/environment/"
    first, second = _admin(admin_user), _admin(admin_user)
    answers = _at_once(
        lambda: first.post(url, {"name": "API_URL", "value": "https://one.example", "branch": "", "replaces": ""}),
        lambda: second.post(url, {"name": "API_URL", "value": "https://two.example", "branch": "", "replaces": ""}),
    )
    assert sorted(a.status_code for a in answers) == [302, 409]
    won = "https://one.example" if answers[0].status_code == 302 else "https://two.example"
    told = next(a for a in answers if a.status_code == 409).content.decode()
    assert "API_URL already has a value for all branches" in told
    assert won in told, "the one who lost sees the value that won"
    assert list(EnvironmentVariable.objects.filter(app=app).values_list("name", "value")) == [("API_URL", won)]
    assert AuditEvent.objects.filter(action__startswith="envvar.").count() == 1


def test_two_admins_saving_the_build_spec_they_both_opened_one_wins_the_other_is_told(
    admin_user: Any, make_repo: Callable[..., Path]
) -> None:
    import re

    from apps.branches.models import App

    app = services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    url = f"/apps/{app.app_id}/build-spec/"
    first, second = _admin(admin_user), _admin(admin_user)
    loaded = re.search(r'name="loaded_version" value="([^"]*)"', first.get(url).content.decode())
    assert loaded is not None
    specs = ["version: 1\nfrontend:\n  phases:\n    build:\n      commands: [echo one]\n",
             "version: 1\nfrontend:\n  phases:\n    build:\n      commands: [echo two]\n"]  # fmt: skip
    answers = _at_once(
        lambda: first.post(url, {"build_spec": specs[0], "loaded_version": loaded.group(1)}),
        lambda: second.post(url, {"build_spec": specs[1], "loaded_version": loaded.group(1)}),
    )
    assert sorted(a.status_code for a in answers) == [302, 409]
    won = specs[0] if answers[0].status_code == 302 else specs[1]
    assert App.objects.get(pk=app.pk).build_spec == won
    assert "Someone saved the build spec after you opened it" in next(a for a in answers if a.status_code == 409).content.decode()


def test_two_admins_creating_the_same_secret_at_once_one_wins_the_other_is_told(
    admin_user: Any, make_repo: Callable[..., Path], on_emulator: None
) -> None:
    from apps.secrets import ssm
    from apps.secrets.paths import branch_path
    from console.models import AuditEvent

    app = services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    url = f"/apps/{app.app_id}/secrets/set/"
    first, second = _admin(admin_user), _admin(admin_user)
    answers = _at_once(
        lambda: first.post(url, {"name": "RACE_KEY", "value": "value-one-111", "scopes": ["main"], "replaces": ""}),
        lambda: second.post(url, {"name": "RACE_KEY", "value": "value-two-222", "scopes": ["main"], "replaces": ""}),
    )
    assert sorted(a.status_code for a in answers) == [302, 409]
    won = "value-one-111" if answers[0].status_code == 302 else "value-two-222"
    path = branch_path(app.app_id, "main", "RACE_KEY")
    assert ssm.get_value(path) == won
    assert ssm.version_of(path) is not None
    assert ssm.version_of(path).version == 1, "written once"  # type: ignore[union-attr]
    told = next(a for a in answers if a.status_code == 409).content.decode()
    assert "RACE_KEY already has a value in branch main (version 1" in told
    assert "value-one-111" not in told
    assert "value-two-222" not in told
    assert AuditEvent.objects.filter(action="secret.set", target=path).count() == 1


def test_two_operators_saving_the_same_record_at_once_one_wins_the_other_is_told(
    admin_user: Any, make_repo: Callable[..., Path], on_emulator: None, settings: Any
) -> None:
    from apps.datamanager import dynamo
    from apps.datamanager.schema import schema_from_introspection
    from apps.datamanager.tests.factories import field, model, outputs_document
    from apps.datamanager.views import key_token
    from console.aws import aws_client

    introspection = {"version": 1, "enums": {}, "nonModels": {}, "models": {
        "Todo": model("Todo", [field("id", "ID", required=True), field("title", "String", required=True)])}}  # fmt: skip
    app = services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    main = app.branches.get(name="main")
    main.backend_outputs = outputs_document(introspection, region=settings.AWS_REGION)
    main.save(update_fields=["backend_outputs"])
    table_name = "Todo-race123-NONE"
    aws_client("dynamodb").create_table(TableName=table_name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                        BillingMode="PAY_PER_REQUEST")  # fmt: skip
    loaded_at = "2026-01-01T00:00:00.000Z"
    todo = {"id": "todo-1", "title": "Original", "createdAt": loaded_at, "updatedAt": loaded_at, "__typename": "Todo"}
    aws_client("dynamodb").put_item(TableName=table_name, Item=dynamo.to_dynamo(todo))
    todo_model = schema_from_introspection(introspection).model("Todo")
    assert todo_model is not None
    url = f"/apps/{app.app_id}/branches/main/data/models/Todo/edit/"
    key = key_token(todo_model, todo)
    first, second = _admin(admin_user), _admin(admin_user)
    answers = _at_once(
        lambda: first.post(url, {"key": key, "title": "From one", "loaded_updated_at": loaded_at}),
        lambda: second.post(url, {"key": key, "title": "From two", "loaded_updated_at": loaded_at}),
    )
    assert sorted(a.status_code for a in answers) == [302, 400]
    won = "From one" if answers[0].status_code == 302 else "From two"
    stored = aws_client("dynamodb").get_item(TableName=table_name, Key={"id": {"S": "todo-1"}})["Item"]
    assert stored["title"] == {"S": won}
    told = next(a for a in answers if a.status_code == 400).content.decode()
    assert "Someone changed or deleted this record since you opened it" in told
