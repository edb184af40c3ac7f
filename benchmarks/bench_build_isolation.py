"""What isolating a build costs: a `true` build isolated (bubblewrap, a user of its own,
the network guard's check, limits) vs the same build with BUILD_ISOLATION=off, in one run.

Work, in this process (the runner as a worker runs it, without the queue hop, which
bench_build_overhead.py measures): `job_start` of a MANUAL job on an app whose spec's
only command is `true`, run to SUCCEED, timed from before `job_start` to the end.
Rounds alternate isolated / unisolated / by hand, so noise hits all alike. Baselines in
the same run: a hand-run `git clone` + `bash -c true` (as bench_build_overhead.py), and
the sandbox alone: `true` through the sandbox's own bwrap command line vs a plain `true`.

Everything is made here, in a temporary directory removed at the end (reachable by the
build users: mode 0755): a bare git repository, a fresh SQLite database, a moto server.
Prints medians and p90, the isolation overhead (goal: under 150 ms at the median), the
isolated build's overhead over the hand-run clone (goal: under 2 s), ratios, and the
peak memory of this process.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker_support import by_hand, make_repository

ROUNDS = 21


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


def configure(tmp: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "console.settings_test",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CONSOLE_VAR_DIR": str(tmp / "var"),
            "BUILD_WORKSPACE_DIR": str(tmp / "var" / "workspaces"),
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "DEBUG": "0",
        }
    )
    os.environ.pop("REDIS_URL", None)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-isolation-"))
    tmp.chmod(0o755)  # build users pass through it to their workspaces
    configure(tmp)
    from console.emulator import start_emulator

    emulator = start_emulator()
    os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
    try:
        import django

        django.setup()
        import logging

        logging.getLogger("celery").setLevel(logging.WARNING)  # one line per eager task otherwise
        from django.core.management import call_command
        from django.test import override_settings

        from apps.branches.services import app_create
        from apps.builds import jobs
        from apps.builds.models import Job
        from apps.builds.sandbox import Layout, Limits, Sandbox, isolation_problem, outer_uid_for

        problem = isolation_problem()
        if problem:
            raise SystemExit(f"builds cannot be isolated here: {problem}")
        call_command("migrate", verbosity=0)
        repo = make_repository(tmp)
        branch = app_create(actor=None, name="bench", repository=str(repo), production_branch="main").branches.get()

        def build() -> float:
            start = time.perf_counter()
            job = jobs.job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="bench")
            job.refresh_from_db()
            elapsed = time.perf_counter() - start
            if job.status != Job.Status.SUCCEED:
                raise RuntimeError(f"job {job.job_id} ended {job.status}: {job.status_reason}")
            return elapsed

        layout = Layout(tmp / "var" / "workspaces" / "bwrap-alone")
        layout.create()
        layout.src.mkdir()
        sandbox = Sandbox(layout=layout, network=True, limits=Limits.from_settings(), outer_uid=outer_uid_for(1))
        sandbox.hand_over()

        def bwrap_alone() -> float:
            start = time.perf_counter()
            subprocess.run(sandbox.command(["true"]), preexec_fn=sandbox.preexec(), check=True, cwd=layout.src)
            return time.perf_counter() - start

        def plain_true() -> float:
            start = time.perf_counter()
            subprocess.run(["true"], check=True)
            return time.perf_counter() - start

        build()  # warm: imports, first clone, the network guard's first install
        with override_settings(BUILD_ISOLATION="off"):
            build()
        isolated, unisolated, hand, alone, plain = [], [], [], [], []
        tracemalloc.start()
        for index in range(ROUNDS):
            isolated.append(build())
            with override_settings(BUILD_ISOLATION="off"):
                unisolated.append(build())
            hand.append(by_hand(repo, tmp / f"hand-{index}"))
            alone.append(bwrap_alone())
            plain.append(plain_true())
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    med = statistics.median
    overhead = med(isolated) - med(unisolated)
    over_hand = med(isolated) - med(hand)
    print(f"{ROUNDS} rounds of: isolated build, unisolated build, hand-run clone + bash, bwrap alone, plain true")
    for label, values in (
        ("build, isolated", isolated),
        ("build, BUILD_ISOLATION=off", unisolated),
        ("by hand: git clone + bash -c true", hand),
        ("bwrap sandbox running true", alone),
        ("plain true", plain),
    ):
        print(f"  {label:36s} median {med(values) * 1000:7.1f} ms   p90 {p90(values) * 1000:7.1f} ms")
    print(f"isolation overhead (median isolated - median unisolated): {overhead * 1000:.0f} ms")
    print(f"  of which bwrap itself (median bwrap true - median plain true): {(med(alone) - med(plain)) * 1000:.0f} ms")
    print(f"ratio isolated / unisolated: {med(isolated) / med(unisolated):.2f}x (medians)")
    print(f"isolated build over the hand-run clone: {over_hand * 1000:.0f} ms (ratio {med(isolated) / med(hand):.1f}x)")
    print(f"goal check: isolation overhead under 150 ms at the median: {'yes' if overhead < 0.150 else 'no'}")
    print(f"goal check: isolated build overhead over the hand-run clone under 2 s: {'yes' if over_hand < 2.0 else 'no'}")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory: this process {peak_rss / 1024:.1f} MiB RSS; Python allocations, rounds: {traced_peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
