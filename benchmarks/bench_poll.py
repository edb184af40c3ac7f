"""One branch-poll cycle over 50 apps with 200 branches each, in the steady state.

Work: `apps.gitops.polling.poll_cycle(pks)` over the 50 apps, in-process (what the
beat's `poll_repositories` task runs): two queries, the `git ls-remote` listings
(GIT_POLL_CONCURRENCY at once; also timed one at a time), and `gitsync.sync_app`
only where something changed. Nothing changed in git, so a cycle reads the app
and its branches and writes nothing. Baseline in the same run, interleaved with the
work: 50 plain `git ls-remote --heads <repo>` subprocesses whose output is not parsed.
Also timed, for the breakdown: 50 `apps.branches.git.remote_heads` (ls-remote
and parsing) and 50 `gitsync.sync_app(app, heads)` with the heads read beforehand
(the database side).

Setup, in a temporary directory removed at the end: 50 local bare repositories
(copies of one with `main` and 200 `feature/*` branches, refs packed), a fresh SQLite
database and 50 apps with auto-detection (`feature/*`) and auto-disconnection on. A
first "connect" cycle, outside the goal, connects the 10,000 branches; it queues
their first builds on the file broker under the temporary var dir, which nothing
consumes (no REDIS_URL, CELERY_TASK_ALWAYS_EAGER=0), so no build runs.
Prints medians, the ratio, the goal check (under 1.2), SQL queries per app, the peak
Python memory of a cycle and, for information, the connect cycle and a "changed"
cycle where one branch per app has a new commit (it queues 50 builds).
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings_test"

APPS = 50
BRANCHES = 200  # feature/* branches per repository, plus main
ROUNDS = 7
GOAL_RATIO = 1.2
PATTERN = "feature/*"
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
WRITES = ("INSERT", "UPDATE", "DELETE")


def configure_environment(tmp: Path) -> None:
    """Before django.setup(): a fresh SQLite file and var dir; the file broker, no worker."""
    os.environ.pop("REDIS_URL", None)
    # The file broker has no hostname; kombu warns about it once per connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CONSOLE_VAR_DIR": str(tmp / "var"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DEBUG": "0",
        }
    )


def make_repositories(root: Path) -> list[Path]:
    """One bare repository with main + BRANCHES feature branches (packed refs), copied APPS times."""
    env = {**os.environ, **GIT_ENV}
    template, work = root / "template.git", root / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "f").write_text("x")
    subprocess.run(["git", "add", "f"], cwd=work, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=work, check=True, env=env)
    refs = "".join(f"create refs/heads/feature/b{i:04d} HEAD\n" for i in range(BRANCHES))
    subprocess.run(["git", "update-ref", "--stdin"], cwd=work, input=refs, text=True, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(template)], check=True)
    subprocess.run(["git", "pack-refs", "--all"], cwd=template, check=True)
    repos = []
    for index in range(APPS):
        repo = root / "repos" / f"r{index:02d}.git"
        shutil.copytree(template, repo)
        repos.append(repo)
    shutil.rmtree(work)
    shutil.rmtree(template)
    return repos


def advance_one_branch(repo: Path) -> None:
    """A new commit on feature/b0000 (same tree, parent the old head)."""
    env = {**os.environ, **GIT_ENV}
    head = "refs/heads/feature/b0000"
    commit = subprocess.run(
        ["git", "commit-tree", f"{head}^{{tree}}", "-p", head, "-m", "next"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(["git", "update-ref", head, commit], cwd=repo, check=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    try:
        configure_environment(tmp)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections
        from django.test.utils import CaptureQueriesContext

        try:
            run(tmp, connection, CaptureQueriesContext, call_command)
        finally:
            connections.close_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path, connection: Any, capture: Any, call_command: Callable[..., Any]) -> None:
    from django.conf import settings

    from apps.branches.git import list_remote_branches, remote_heads
    from apps.branches.models import App, Branch
    from apps.branches.services import app_create, app_git_settings_update
    from apps.builds.models import Job
    from apps.gitops.gitsync import sync_app
    from apps.gitops.models import GitDelivery
    from apps.gitops.polling import apps_to_poll, poll_cycle

    call_command("migrate", verbosity=0)
    setup_start = time.perf_counter()
    repos = make_repositories(tmp)
    for index, repo in enumerate(repos):
        app = app_create(actor=None, name=f"bench-{index:02d}", repository=str(repo), production_branch="main")
        app_git_settings_update(
            actor=None, app=app, auto_detect_branches=True, auto_detect_patterns=PATTERN, auto_disconnect=True
        )
    setup_seconds = time.perf_counter() - setup_start

    list_seconds, pks = timed(apps_to_poll)
    assert len(pks) == APPS, pks

    def cycle() -> list[str]:
        return list(poll_cycle(pks).values())

    def sequential_cycle() -> list[str]:
        concurrency = settings.GIT_POLL_CONCURRENCY
        settings.GIT_POLL_CONCURRENCY = 1
        try:
            return cycle()
        finally:
            settings.GIT_POLL_CONCURRENCY = concurrency

    def baseline() -> None:
        for repo in repos:
            subprocess.run(["git", "ls-remote", "--heads", str(repo)], capture_output=True, check=True)

    def listing() -> None:
        for repo in repos:
            remote_heads(str(repo))

    def syncing(apps: list[Any], heads: dict[str, str]) -> None:
        for app in apps:
            assert sync_app(app, heads, source="poll").summary() == "no change"

    # The connect cycle: every feature branch is new (and main is seen for the first time).
    connect_seconds, summaries = timed(cycle)
    connected = Branch.objects.count()
    assert connected == APPS * (BRANCHES + 1), connected
    assert all(s.startswith("connected: ") for s in summaries), summaries[0][:200]
    connect_jobs = Job.objects.count()
    queued = sum(1 for _ in (tmp / "var" / "broker" / "queue").iterdir())

    # Steady state from here on: nothing changes in git.
    assert set(cycle()) == {"no change"}  # warm-up
    baseline()
    listing()
    apps = list(App.objects.filter(pk__in=pks))
    heads = {b.name: b.commit for b in list_remote_branches(str(repos[0]))}  # the same in every copy
    deliveries, jobs_before = GitDelivery.objects.count(), Job.objects.count()
    work_samples, base_samples, list_samples, sync_samples, sequential_samples = [], [], [], [], []
    for _ in range(ROUNDS):  # interleaved, so all see the same machine
        base_samples.append(timed(baseline)[0])
        list_samples.append(timed(listing)[0])
        sync_samples.append(timed(lambda: syncing(apps, heads))[0])
        seconds, summaries = timed(cycle)
        assert set(summaries) == {"no change"}, summaries
        work_samples.append(seconds)
        seconds, summaries = timed(sequential_cycle)
        assert set(summaries) == {"no change"}, summaries
        sequential_samples.append(seconds)
    with capture(connection) as queries:
        assert set(cycle()) == {"no change"}
    steady_sql = [q["sql"] for q in queries.captured_queries]
    steady_writes = [sql for sql in steady_sql if sql.lstrip().upper().startswith(WRITES)]
    tracemalloc.start()
    cycle()
    steady_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (GitDelivery.objects.count(), Job.objects.count()) == (deliveries, jobs_before)

    # Changed cycles: one branch per app has a new commit. The first is timed; the
    # second counts queries and memory (tracemalloc slows the code it traces).
    for repo in repos:
        advance_one_branch(repo)
    changed_seconds, summaries = timed(cycle)
    assert set(summaries) == {"built: feature/b0000"}, summaries[0]
    changed_jobs = Job.objects.count() - jobs_before
    for repo in repos:
        advance_one_branch(repo)
    tracemalloc.start()
    with capture(connection) as queries:
        assert set(cycle()) == {"built: feature/b0000"}
    changed_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    changed_sql = [q["sql"] for q in queries.captured_queries]
    changed_writes = sum(1 for sql in changed_sql if sql.lstrip().upper().startswith(WRITES))

    work, base, lst, syn, seq = (
        statistics.median(s) for s in (work_samples, base_samples, list_samples, sync_samples, sequential_samples)
    )
    ratio = work / base
    print(f"apps: {APPS}, branches per app: {BRANCHES} {PATTERN} + main, rounds: {ROUNDS} (interleaved)")
    print(f"setup (repositories, apps): {setup_seconds:.1f} s; apps_to_poll(): {list_seconds * 1000:.1f} ms")
    print(f"baseline 50 x git ls-remote --heads:          median {base * 1000:7.1f} ms")
    print(f"50 x remote_heads (ls-remote, parse):         median {lst * 1000:7.1f} ms")
    print(f"50 x sync_app, heads read beforehand:         median {syn * 1000:7.1f} ms")
    print(f"poll cycle over 50 apps ({settings.GIT_POLL_CONCURRENCY} listings at once): median {work * 1000:7.1f} ms")
    print(f"poll cycle over 50 apps (one at a time):      median {seq * 1000:7.1f} ms")
    print(
        f"  per app: baseline {base / APPS * 1000:.2f} ms, remote_heads {lst / APPS * 1000:.2f} ms, "
        f"sync_app {syn / APPS * 1000:.2f} ms, cycle {work / APPS * 1000:.2f} ms, one at a time {seq / APPS * 1000:.2f} ms"
    )
    print(f"  all samples (ms): work {[round(s * 1000) for s in work_samples]}")
    print(f"                    base {[round(s * 1000) for s in base_samples]}")
    print(f"ratio work/baseline: {ratio:.2f} (one at a time: {seq / base:.2f}; remote_heads/baseline {lst / base:.2f})")
    print(f"goal check: ratio under {GOAL_RATIO}: {'yes' if ratio < GOAL_RATIO else 'no'}")
    print(
        f"SQL queries in a steady-state cycle: {len(steady_sql)} ({len(steady_sql) / APPS:.1f} per app), "
        f"writes: {len(steady_writes)}"
    )
    print(f"peak Python memory of a steady-state cycle (tracemalloc): {steady_peak / 1024:.0f} KiB")
    print("for information:")
    print(
        f"  connect cycle (10,000 new branches): {connect_seconds:.1f} s, {connect_jobs} builds queued "
        f"({queued} broker messages, not consumed)"
    )
    print(
        f"  changed cycle (1 new commit per app): {changed_seconds * 1000:.1f} ms, {changed_jobs} builds queued; "
        f"the next one: {len(changed_sql)} queries ({len(changed_sql) / APPS:.1f} per app, {changed_writes} writes), "
        f"peak {changed_peak / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
