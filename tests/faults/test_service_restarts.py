"""Services restarted under load: Redis during a build and during a burst of queued
webhook calls, PostgreSQL during a build's log streaming, the AWS emulator during an
upload. Afterwards no job is lost or built twice, logs are complete, and the pages
answered throughout (a 503 with a retry hint at worst, never a 500)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.branches import services
from apps.branches.models import App, Branch
from apps.builds import jobs
from apps.builds.models import Job, JobStep, LogChunk
from apps.builds.webhooks import webhook_create
from conftest import drain_output, queued_to_workers, wait_for, worker_env
from console.celery import app as celery_app
from console.emulator import Emulator, free_port, start_emulator
from console.worker_process import start_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TICKS = 16


# --- a Redis of the test's own, to restart ---------------------------------------------


class PrivateRedis:
    """redis-server on a free port, configured like the machine's (nothing kept on disk),
    so that a restart loses every queued message, as it would there."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        wait_for(lambda: self._answers(client), timeout=20, message="redis-server to answer")

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        with contextlib.suppress(redis.ConnectionError):
            return bool(client.ping())
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def private_redis(settings: Any) -> Iterator[PrivateRedis]:
    """This test process's cache and broker, and its workers', on a Redis of its own."""
    server = PrivateRedis()
    settings.CACHES = {"default": {"BACKEND": "console.cache.ResilientRedisCache", "LOCATION": server.url,
                                   "KEY_PREFIX": "fault"}}  # fmt: skip
    previous = celery_app.conf.broker_url
    _switch_broker(server.url)
    try:
        yield server
    finally:
        _switch_broker(previous)
        server.stop()


def _switch_broker(url: str) -> None:
    """Publish to `url` from now on: Celery caches its connection and producer pools. They
    are forgotten, not closed: kombu keeps one pool per broker for the whole process, and
    the next test publishes through the first one again."""
    app: Any = celery_app
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_workers(
    private_redis: PrivateRedis, transactional_db: None, emulator: Emulator, settings: Any
) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    with queued_to_workers(emulator, settings) as started:

        def start() -> subprocess.Popen[str]:
            process = start_worker(worker_env(emulator, REDIS_URL=private_redis.url), "--pool", "prefork",
                                   "--concurrency", "2", name="redis-fault")  # fmt: skip
            started.append(process)
            process.output_tail = drain_output(process)  # type: ignore[attr-defined]
            return process

        yield start


# --- builds ----------------------------------------------------------------------------


def ticking_app(make_repo: Callable[..., Path], name: str = "Shop", branches: tuple[str, ...] = ("main",)) -> App:
    """An app whose build prints TICKS numbered lines, half a second apart, then hosts a page."""
    spec = yaml.safe_dump({"version": 1, "frontend": {
        "phases": {"build": {"commands": [
            f'for i in $(seq 1 {TICKS}); do echo "tick $i"; sleep 0.5; done',
            "mkdir -p out && echo restart-survivor > out/index.html",
        ]}},
        "artifacts": {"baseDirectory": "out", "files": ["**/*"]},
    }}, sort_keys=False, width=10_000)  # fmt: skip
    repo = make_repo(branches, {"amplify.yml": spec})
    return services.app_create(actor=None, name=name, repository=str(repo), production_branch="main")


def log_text(job: Job) -> str:
    return "".join(LogChunk.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def ticks_logged(job: Job) -> list[int]:
    return [int(n) for n in re.findall(r"^tick (\d+)$", log_text(job), flags=re.MULTILINE)]


def all_ended(*found: Job, timeout: float = 180, output: Any = ()) -> list[Job]:
    pks = [job.pk for job in found]

    def report() -> str:
        states = list(Job.objects.filter(pk__in=pks).values_list("job_id", "status", "status_reason"))
        return f"the jobs to end: {states}\n{''.join(output)[-5000:]}"

    wait_for(lambda: not Job.objects.filter(pk__in=pks).exclude(status__in=Job.ENDED).exists(), timeout=timeout,
             interval=0.5, on_timeout=report)  # fmt: skip
    return list(Job.objects.filter(pk__in=pks).order_by("pk"))


def sweep_waiting_jobs(settings: Any) -> None:
    """What the reaper's beat does every BUILD_REAPER_INTERVAL_SECONDS, with a short timeout."""
    settings.BUILD_HEARTBEAT_TIMEOUT_SECONDS = 3
    time.sleep(3.5)
    jobs.reap_stale_jobs()


def test_redis_restarted_during_a_build_the_build_ends_with_its_whole_log_and_a_build_started_meanwhile_runs(
    redis_workers: Callable[[], subprocess.Popen[str]],
    private_redis: PrivateRedis,
    make_repo: Callable[..., Path],
    admin_client: Client,
    settings: Any,
) -> None:
    app = ticking_app(make_repo)
    branch = app.branches.get(name="main")
    worker = redis_workers()
    first = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")
    wait_for(lambda: len(ticks_logged(first)) >= 3, timeout=120,
             message=f"the build to log\n{''.join(worker.output_tail)}")  # type: ignore[attr-defined]  # fmt: skip

    private_redis.stop()
    down_at = time.monotonic()
    # While Redis is away: the pages answer, and a build started now is kept.
    assert admin_client.get(reverse("job_detail", args=[app.app_id, "main", first.job_id])).status_code == 200
    assert admin_client.get(reverse("dashboard")).status_code == 200
    response = admin_client.post(reverse("job_start", args=[app.app_id, "main"]))
    assert response.status_code == 302
    second = Job.objects.filter(branch=branch).exclude(pk=first.pk).get()
    assert second.status == Job.Status.PENDING
    time.sleep(max(0.0, 3 - (time.monotonic() - down_at)))
    private_redis.start()

    (first,) = all_ended(first, output=worker.output_tail)  # type: ignore[attr-defined]
    assert first.status == Job.Status.SUCCEED, first.status_reason
    assert ticks_logged(first) == list(range(1, TICKS + 1)), "the log is complete and in order"
    sweep_waiting_jobs(settings)  # the second build's message never reached Redis
    (second,) = all_ended(second, timeout=60, output=worker.output_tail)  # type: ignore[attr-defined]
    assert second.status == Job.Status.SUCCEED, second.status_reason
    assert worker.poll() is None, "the worker reconnected to Redis instead of exiting"
    assert Job.objects.filter(branch=branch).count() == 2
    assert JobStep.objects.filter(job=second, name="BUILD").count() == 1


def test_redis_restarted_with_webhook_calls_queued_every_call_builds_exactly_once(
    redis_workers: Callable[[], subprocess.Popen[str]],
    private_redis: PrivateRedis,
    make_repo: Callable[..., Path],
    client: Client,
    settings: Any,
) -> None:
    settings.WEBHOOK_RATE_LIMIT_PER_MINUTE = 1000
    app = ticking_app(make_repo, branches=("main", "dev"))
    services.branch_connect(actor=None, app=app, name="dev")
    hooks = [webhook_create(actor=None, branch=b, name="ci") for b in Branch.objects.filter(app=app).order_by("name")]

    def call(hook: Any) -> int:
        query = f"?id={hook.webhook_id}&token={hook.token}&operation=startbuild"
        return client.post(reverse("webhook_trigger") + query, data="{}", content_type="application/json").status_code

    # No worker yet: the calls' messages wait in Redis, which then restarts and loses them.
    assert [call(hook) for hook in hooks for _ in range(3)] == [202] * 6
    private_redis.stop()
    assert [call(hook) for hook in hooks] == [202] * 2, "calls while Redis is away are kept too"
    private_redis.start()
    redis_workers()
    sweep_waiting_jobs(settings)

    built = all_ended(*Job.objects.filter(branch__app=app), timeout=300)
    assert len(built) == 8, "one job per accepted call: none lost"
    assert [j.status for j in built] == [Job.Status.SUCCEED] * 8, [(j.job_id, j.status_reason) for j in built]
    for job in built:
        assert JobStep.objects.filter(job=job, name="BUILD").count() == 1
        assert log_text(job).count("\ntick 1\n") + log_text(job).startswith("tick 1\n") <= 1, "each job built once"
        assert ticks_logged(job) == list(range(1, TICKS + 1))


# --- PostgreSQL ------------------------------------------------------------------------


@contextlib.contextmanager
def database_away(seconds: float) -> Iterator[None]:
    """What a PostgreSQL restart does to the test database's clients, without stopping the
    server other databases share: every connection but this test's is cut, and new ones
    are refused for `seconds`."""
    import psycopg

    given = connection.settings_dict
    name = given["NAME"]
    address = f"host={given.get('HOST') or '127.0.0.1'} port={given.get('PORT') or 5432} user={given.get('USER') or 'postgres'}"
    if given.get("PASSWORD"):
        address += f" password={given['PASSWORD']}"
    with psycopg.connect(f"{address} dbname=postgres", autocommit=True) as control:
        control.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            control.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                (name, connection.connection.info.backend_pid if connection.connection else 0),
            )
            yield
            time.sleep(seconds)
        finally:
            control.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def test_postgres_restarted_during_a_build_s_log_streaming_the_build_ends_with_its_whole_log(
    transactional_db: None,
    emulator: Emulator,
    settings: Any,
    make_repo: Callable[..., Path],
    admin_client: Client,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (CI runs it there): SQLite has no server to restart")
    app = ticking_app(make_repo)
    branch = app.branches.get(name="main")
    with queued_to_workers(emulator, settings) as started:
        worker = start_worker(worker_env(emulator), "--pool", "solo", name="postgres-fault")
        started.append(worker)
        output = drain_output(worker)
        job = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="pytest")
        wait_for(lambda: len(ticks_logged(job)) >= 3, timeout=120, message=f"the build to log\n{''.join(output)}")
        connection.ensure_connection()
        with database_away(seconds=4):
            # A page that needs a new connection meanwhile: a 503 with a retry hint.
            connection.close()
            admin_client.raise_request_exception = False
            during = admin_client.get(reverse("job_detail", args=[app.app_id, "main", job.job_id]))
            assert during.status_code == 503
            assert "try again in 5 seconds" in during.content.decode().lower()
        (job,) = all_ended(job)
        assert job.status == Job.Status.SUCCEED, f"{job.status_reason}\n{''.join(output)}"
        assert ticks_logged(job) == list(range(1, TICKS + 1)), "the log is complete, in order, once"
        assert any("database unreachable, will retry" in line for line in output)


# --- the AWS emulator ------------------------------------------------------------------


def test_emulator_restarted_during_an_upload_the_upload_fails_clearly_and_the_pages_answer(
    transactional_db: None, settings: Any, make_repo: Callable[..., Path], operator_client: Client
) -> None:
    from apps.storage.models import PendingUpload
    from console.aws import aws_client, clear_client_cache

    port = free_port()
    server = start_emulator(port)
    settings.AWS_ENDPOINT_URL = server.endpoint_url
    clear_client_cache()
    try:
        repo = make_repo(("main",))
        app = services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
        branch = app.branches.get(name="main")
        bucket = "restart-files"
        branch.backend_outputs = {"version": "1.4", "storage": {"aws_region": settings.AWS_REGION, "bucket_name": bucket}}
        branch.save(update_fields=["backend_outputs"])
        aws_client("s3").create_bucket(Bucket=bucket)
        base = [app.app_id, "main", bucket]
        size = 11 * 1024 * 1024
        started = operator_client.post(reverse("storage_upload_start", args=base), {"key": "video.mp4", "size": str(size)})
        assert started.status_code == 200, started.content
        ticket, part_bytes = started.json()["ticket"], started.json()["part_bytes"]
        first = operator_client.post(reverse("storage_upload_part", args=base) + f"?ticket={ticket}&number=1",
                                     b"v" * part_bytes, content_type="application/octet-stream")  # fmt: skip
        assert first.status_code == 200, first.content

        server.stop()  # mid-upload: the emulator goes away ...
        away = operator_client.post(reverse("storage_upload_part", args=base) + f"?ticket={ticket}&number=2",
                                    b"v" * (size - part_bytes), content_type="application/octet-stream")  # fmt: skip
        assert away.status_code == 503
        assert "Cannot reach AWS" in away.json()["error"]
        page = operator_client.get(reverse("storage_browse", args=base))
        assert page.status_code in (200, 503)
        assert "Traceback" not in page.content.decode()

        server = start_emulator(port)  # ... and comes back empty, as moto keeps nothing
        after = operator_client.post(reverse("storage_upload_part", args=base) + f"?ticket={ticket}&number=2",
                                     b"v" * (size - part_bytes), content_type="application/octet-stream")  # fmt: skip
        assert after.status_code in (400, 404, 409, 502), after.content
        assert after.json()["error"]
        assert "Traceback" not in after.content.decode()
        browse = operator_client.get(reverse("storage_browse", args=base))
        assert browse.status_code in (200, 404)
        assert bucket in browse.content.decode()
        assert PendingUpload.objects.filter(key="video.mp4").count() <= 1
    finally:
        server.stop()
        clear_client_cache()
