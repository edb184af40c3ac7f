"""Webhook trigger to running build: POST /webhooks?...&operation=startbuild -> job RUNNING.

Work: the console's real path. A gunicorn web server (console.wsgi, DEBUG off)
answers the POST (authenticate, rate limit, `git ls-remote`, write the job,
queue `process_branch_queue` on commit); a warm Celery worker (prefork, 2
processes) takes the task from Redis, claims the job and clones until the job
is RUNNING. The benchmark polls the Job row every 10 ms, so "POST -> RUNNING" is
perf_counter from before the POST to the first poll that sees RUNNING or
SUCCEED (resolution ~10 ms); "POST -> claimed" uses the job's own `started_at`
(written by the worker) against the wall clock taken before the POST.
Baselines in the same run: the HTTP response time of the same POSTs, and a raw
Redis LPUSH -> BRPOP hand-over between two connections (what a queue hop costs).

Needs a Redis server: REDIS_URL, default redis://127.0.0.1:6379/0 (Redis runs
locally on the bench machines); the run uses its own Celery queue and cache key
prefix on it (ISOLATION). Everything else is made here, in a temporary
directory removed at the end: a bare git repository, a fresh SQLite database,
a moto server (console.emulator), the web server and the worker.
Prints medians and p95 of each, the ratio to the Redis round trip, the goal
check (p50 under 1 s) and the peak memory of the worker and of this script.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker_support import (
    ROOT,
    configure_environment,
    make_repository,
    peak_rss_kib,
    process_tree,
    start_worker,
    stop,
    wait_for_idle_broker,
)

ROUNDS = 30
REDIS_ROUNDS = 200
POLL_SECONDS = 0.01
JOB_TIMEOUT = 60.0


def start_web(tmp: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = (tmp / "web.log").open("wb")
    # Publishes to the run's own queue: CELERY_QUEUE is in `env`.
    command = [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server exited:\n{(tmp / 'web.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).close()
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the web server did not answer within 30 s")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def redis_round_trips(url: str) -> list[float]:
    """LPUSH on one connection -> BRPOP returns on another (a thread blocked in it)."""
    import redis

    key = f"bench:handover:{uuid.uuid4().hex}"
    producer, consumer = redis.Redis.from_url(url), redis.Redis.from_url(url)
    arrived: queue.Queue[float] = queue.Queue()

    def consume() -> None:
        for _ in range(REDIS_ROUNDS + 10):
            consumer.brpop([key], timeout=10)
            arrived.put(time.perf_counter())

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    samples = []
    for index in range(REDIS_ROUNDS + 10):
        start = time.perf_counter()
        producer.lpush(key, b"x")
        got = arrived.get(timeout=10)
        if index >= 10:  # the first hand-overs warm both connections
            samples.append(got - start)
    thread.join()
    producer.delete(key)
    producer.close()
    consumer.close()
    return samples


class Bench:
    def __init__(self, trigger: str, branch_pk: int, worker: subprocess.Popen[bytes], tmp: Path) -> None:
        self.trigger, self.branch_pk, self.worker, self.tmp = trigger, branch_pk, worker, tmp

    def post(self) -> dict[str, Any]:
        # Our own http://127.0.0.1 URL.
        request = urllib.request.Request(self.trigger, data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            assert response.status == 202, response.status
            return json.loads(response.read())

    def wait(self, job_id: int, done: Callable[[str, Any], bool]) -> tuple[float, str]:
        from django.db import close_old_connections

        from apps.builds.models import Job

        deadline, row = time.monotonic() + JOB_TIMEOUT, None
        while time.monotonic() < deadline:
            row = Job.objects.filter(branch_id=self.branch_pk, job_id=job_id).values_list("status", "started_at").first()
            if row and done(*row):
                return time.perf_counter(), row[0]
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{(self.tmp / 'worker.log').read_text()[-3000:]}")
            time.sleep(POLL_SECONDS)
            close_old_connections()
        log = (self.tmp / "worker.log").read_text()[-3000:]
        raise RuntimeError(f"job {job_id} is still {row and row[0]} after {JOB_TIMEOUT:.0f} s; the worker's log:\n{log}")

    def one(self) -> dict[str, float]:
        from apps.builds.models import Job, JobStep

        wall0, start = time.time(), time.perf_counter()
        body = self.post()
        answered = time.perf_counter()
        job_id = int(body["jobSummary"]["jobId"])
        running_seen, _ = self.wait(job_id, lambda status, started: started is not None and status in ("RUNNING", "SUCCEED"))
        _, final = self.wait(job_id, lambda status, started: status in Job.ENDED)
        if final != Job.Status.SUCCEED:
            raise RuntimeError(f"job {job_id} ended {final}; see {self.tmp / 'worker.log'}")
        job = Job.objects.get(branch_id=self.branch_pk, job_id=job_id)
        build_step = JobStep.objects.get(job=job, name=JobStep.Name.BUILD)
        assert job.started_at is not None
        assert build_step.started_at is not None
        return {
            "http": answered - start,
            "running": running_seen - start,
            "created": job.created_at.timestamp() - wall0,
            "claimed": job.started_at.timestamp() - wall0,
            "build_step": build_step.started_at.timestamp() - wall0,
        }


@contextlib.contextmanager
def running_console(tmp: Path) -> Iterator[Bench]:
    """Emulator, database, worker, web server, an app with a webhook; all stopped at the end."""
    from console.emulator import free_port, start_emulator

    repo = make_repository(tmp)
    configure_environment(tmp)
    emulator = start_emulator()
    os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
    processes: list[subprocess.Popen[bytes]] = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from apps.branches.services import app_create
        from apps.builds.webhooks import webhook_create

        call_command("migrate", verbosity=0)
        app = app_create(actor=None, name="bench", repository=str(repo), production_branch="main")
        branch = app.branches.get(name="main")
        webhook = webhook_create(actor=None, branch=branch, name="bench")
        env = dict(os.environ)
        worker = start_worker(tmp, env)
        processes.append(worker)
        port = free_port()
        processes.append(start_web(tmp, env, port))
        trigger = f"http://127.0.0.1:{port}/webhooks?id={webhook.webhook_id}&token={webhook.token}&operation=startbuild"
        yield Bench(trigger, branch.pk, worker, tmp)
    finally:
        for process in reversed(processes):
            stop(process)
        emulator.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()


def summary(name: str, samples: list[float]) -> str:
    return f"{name} p50 {statistics.median(samples) * 1000:7.1f} ms   p95 {percentile(samples, 0.95) * 1000:7.1f} ms"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    try:
        with running_console(tmp) as bench:
            bench.one()  # the worker's first job imports and connects; not counted
            bench.one()
            rounds = [bench.one() for _ in range(ROUNDS)]
            tracemalloc.start()
            bench.one()
            traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            worker_pids = process_tree(bench.worker.pid)
            worker_rss = {pid: peak_rss_kib(pid) for pid in worker_pids}
            wait_for_idle_broker(os.environ["REDIS_URL"])
            redis_samples = redis_round_trips(os.environ["REDIS_URL"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    http = [r["http"] for r in rounds]
    running = [r["running"] for r in rounds]
    claimed = [r["claimed"] for r in rounds]
    created = [r["created"] for r in rounds]
    queue_hop = [r["claimed"] - r["created"] for r in rounds]
    clone = [r["running"] - r["claimed"] for r in rounds]
    redis_median = statistics.median(redis_samples)
    p50 = statistics.median(running)
    print(f"rounds: {ROUNDS} webhook POSTs, sequential; worker: prefork x2 on {os.environ['REDIS_URL']}; web: gunicorn x1")
    print(f"RUNNING is seen by polling the Job row every {POLL_SECONDS * 1000:.0f} ms: that is the resolution")
    print(summary("POST -> job RUNNING (polled):     ", running))
    print(summary("POST -> claimed (job.started_at): ", claimed))
    print(summary("POST -> HTTP 202 response:        ", http))
    print(summary("raw Redis LPUSH -> BRPOP:         ", redis_samples) + f"   ({REDIS_ROUNDS} hand-overs)")
    print("breakdown (medians):")
    print(f"  POST -> job row written (web: auth, git ls-remote, insert): {statistics.median(created) * 1000:7.1f} ms")
    print(f"  job row -> claimed by the worker (commit, broker, claim):   {statistics.median(queue_hop) * 1000:7.1f} ms")
    print(f"  claimed -> RUNNING seen (workspace, git clone, update):     {statistics.median(clone) * 1000:7.1f} ms")
    print(f"ratio POST->RUNNING / raw Redis round trip: {p50 / redis_median:.0f}x (medians)")
    print(f"ratio POST->RUNNING / HTTP response:        {p50 / statistics.median(http):.2f} (medians)")
    print(f"goal check: p50 under 1 s: {'yes' if p50 < 1.0 else 'no'} ({p50 * 1000:.0f} ms)")
    main_kib = worker_rss.get(bench.worker.pid, 0)
    children = [kib for pid, kib in worker_rss.items() if pid != bench.worker.pid]
    print(
        f"worker peak RSS (VmHWM): main {main_kib / 1024:.1f} MiB, {len(children)} pool processes "
        f"max {max(children, default=0) / 1024:.1f} MiB, all {sum(worker_rss.values()) / 1024:.1f} MiB"
    )
    print(f"peak Python memory of this script for one trigger and wait (tracemalloc): {traced_peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
