"""What the console adds to a build that does nothing: the only command is `true`, no artifacts.

Work: `apps.builds.jobs.job_start` (a MANUAL job) run by a warm, real Celery
worker (prefork, 2 processes) over Redis: queue hop, claim, workspace, clone,
spec, environment, the phase script in its own process group, log, finish.
Job wall time is `ended_at - created_at` from the job row (worker-side clock);
"observed" is perf_counter from before `job_start` to the first 10 ms poll of
the row that sees SUCCEED. Baseline in the same run, by hand, interleaved with
the jobs: `git clone --quiet --single-branch --branch main <repo> <dir>` then
`bash -c true`.

Needs a Redis server: REDIS_URL, default redis://127.0.0.1:6379/0 (Redis runs
locally on the bench machines); the run uses its own Celery queue and cache key
prefix on it (ISOLATION). Everything else is made here, in a temporary
directory removed at the end: a bare git repository, a fresh SQLite database,
a moto server (console.emulator) and the worker.
Prints medians, the ratio, the overhead, the goal check (under 2 s at the
median) and the peak memory of the worker and of this script.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker_support import (
    by_hand,
    configure_environment,
    make_repository,
    peak_rss_kib,
    process_tree,
    start_worker,
    stop,
    wait_for_idle_broker,
)

ROUNDS = 15
POLL_SECONDS = 0.01
JOB_TIMEOUT = 60.0


class Bench:
    def __init__(self, branch: Any, worker: subprocess.Popen[bytes], tmp: Path) -> None:
        self.branch, self.worker, self.tmp = branch, worker, tmp

    def one(self) -> dict[str, float]:
        from apps.builds import jobs
        from apps.builds.models import Job, JobStep

        start = time.perf_counter()
        job = jobs.job_start(branch=self.branch, job_type=Job.Type.MANUAL, triggered_by="bench")
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            if status in Job.ENDED:
                seen = time.perf_counter()
                break
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{(self.tmp / 'worker.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                log = (self.tmp / "worker.log").read_text()[-3000:]
                raise RuntimeError(f"job {job.job_id} is still {status} after {JOB_TIMEOUT:.0f} s; the worker's log:\n{log}")
            time.sleep(POLL_SECONDS)
        job.refresh_from_db()
        if status != Job.Status.SUCCEED:
            raise RuntimeError(f"job {job.job_id} ended {status}: {job.status_reason}")
        steps = {step.name: step for step in JobStep.objects.filter(job=job)}
        build = steps[JobStep.Name.BUILD]
        assert job.started_at is not None
        assert job.ended_at is not None
        assert build.started_at is not None
        assert build.ended_at is not None
        return {
            "wall": (job.ended_at - job.created_at).total_seconds(),
            "observed": seen - start,
            "queue": (job.started_at - job.created_at).total_seconds(),
            "claim_to_build": (build.started_at - job.started_at).total_seconds(),
            "build": (build.ended_at - build.started_at).total_seconds(),
            "after_build": (job.ended_at - build.ended_at).total_seconds(),
        }


@contextlib.contextmanager
def running_worker(tmp: Path, repo: Path) -> Iterator[Bench]:
    """Emulator, database, worker and an app on the repository; all stopped at the end."""
    from console.emulator import start_emulator

    configure_environment(tmp)
    emulator = start_emulator()
    os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
    worker: subprocess.Popen[bytes] | None = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from apps.branches.services import app_create

        call_command("migrate", verbosity=0)
        app = app_create(actor=None, name="bench", repository=str(repo), production_branch="main")
        worker = start_worker(tmp, dict(os.environ))
        yield Bench(app.branches.get(name="main"), worker, tmp)
    finally:
        if worker is not None:
            stop(worker)
        emulator.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-build-"))
    tmp.chmod(0o755)  # isolated builds run as users of their own, who pass through it to their workspaces
    try:
        repo = make_repository(tmp)
        with running_worker(tmp, repo) as bench:
            bench.one()  # the worker's first job imports and connects; not counted
            bench.one()
            by_hand(repo, tmp / "hand-warm")
            rounds, hand = [], []
            for index in range(ROUNDS):  # interleaved, so both see the same machine
                hand.append(by_hand(repo, tmp / f"hand-{index}"))
                rounds.append(bench.one())
            tracemalloc.start()
            bench.one()
            traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            worker_pid = bench.worker.pid
            worker_rss = {pid: peak_rss_kib(pid) for pid in process_tree(worker_pid)}
            wait_for_idle_broker(os.environ["REDIS_URL"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    wall, observed, base = median("wall"), median("observed"), statistics.median(hand)
    overhead = wall - base
    print(f"builds: {ROUNDS} through the worker (prefork x2 on {os.environ['REDIS_URL']}), {ROUNDS} by hand; command: true")
    print(f"baseline git clone + bash -c true:          median {base * 1000:7.1f} ms")
    print(f"job wall time (ended_at - created_at):      median {wall * 1000:7.1f} ms")
    print(f"job_start -> SUCCEED seen (10 ms polls):    median {observed * 1000:7.1f} ms")
    print("breakdown of the job (medians):")
    print(f"  created -> claimed (commit, Redis, claim):     {median('queue') * 1000:7.1f} ms")
    print(f"  claimed -> build step started (log, workspace): {median('claim_to_build') * 1000:7.1f} ms")
    print(f"  build step (clone, spec, env, bash script):    {median('build') * 1000:7.1f} ms")
    print(f"  build step ended -> job ended (deploy, finish): {median('after_build') * 1000:7.1f} ms")
    print(f"ratio job wall / baseline: {wall / base:.1f}x (medians)")
    print(f"overhead (median job wall - median baseline): {overhead * 1000:.0f} ms")
    print(f"goal check: overhead under 2 s at the median: {'yes' if overhead < 2.0 else 'no'}")
    main_kib = worker_rss.get(worker_pid, 0)
    children = [kib for pid, kib in worker_rss.items() if pid != worker_pid]
    print(
        f"worker peak RSS (VmHWM): main {main_kib / 1024:.1f} MiB, {len(children)} pool processes "
        f"max {max(children, default=0) / 1024:.1f} MiB, all {sum(worker_rss.values()) / 1024:.1f} MiB"
    )
    print(f"peak Python memory of this script for one job_start and wait (tracemalloc): {traced_peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
