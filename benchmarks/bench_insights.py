"""The Insights page of an app with 10,000 jobs over 90 days across 10 branches.

Work: GET /apps/<id>/insights/ through Django's test Client as a signed-in viewer, from the
database only: the default page (30 days), ?days=90, and ?days=90&branch=main (the duration
chart for one branch); RENDERS renders each, interleaved. Baseline in the same run: the
plain ORM query counting all the app's jobs by day over 90 days (TruncDate + Count). Prints
the medians and p95, their ratio to the baseline, SQL queries per render, the peak Python
memory (tracemalloc) of one 90-day render, and the goal check (default page median under
300 ms). Then the two ways of getting the percentiles, timed alone over 90 days: what the
page does (fetch each started job's day, branch, status, duration and queue time, computed
by the database, and sort in Python) against Postgres' percentile_cont per day (Postgres only).

Database: DATABASE_URL if it is a Postgres URL: the bench creates a database of its own on
that server (bench_insights_<pid>) and drops it at the end, so it never touches another
run's. Otherwise a fresh SQLite file in a temporary directory. About a minute.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings_test"

from emulator_support import make_repository, ms, peak_growth, timed  # noqa: E402

JOBS = 10_000
DAYS = 90
BRANCHES = 10
RENDERS = 21
GOAL_MS = 300.0
SEED = 22


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


@contextmanager
def database() -> Iterator[str]:
    """The DATABASE_URL to use: a database of this run's own, removed afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = f"bench_insights_{os.getpid()}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-insights-"))
        try:
            yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-insights-var-"))
    try:
        with database() as url:
            os.environ.pop("REDIS_URL", None)
            os.environ.update(
                {"DATABASE_URL": url, "CONSOLE_VAR_DIR": str(tmp / "var"), "DEBUG": "0", "CELERY_TASK_ALWAYS_EAGER": "0"}
            )
            import django

            django.setup()
            run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def seed(tmp: Path) -> Any:
    """The app, its branches and JOBS jobs spread over DAYS days (most succeeded, some failed
    or cancelled, a few still queued or running today)."""
    from django.utils import timezone

    from apps.branches.models import Branch
    from apps.branches.services import app_create
    from apps.builds.models import Job

    app = app_create(actor=None, name="Bench", repository=str(make_repository(tmp)), production_branch="main")
    for index in range(1, BRANCHES):
        Branch.objects.create(app=app, name=f"feature-{index}", display_name=f"feature-{index}")
    branches = list(app.branches.order_by("pk"))
    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    now = timezone.now()
    jobs, created = [], []
    statuses = [Job.Status.SUCCEED] * 80 + [Job.Status.FAILED] * 15 + [Job.Status.CANCELLED] * 5
    for number in range(JOBS):
        branch = branches[number % BRANCHES]
        when = now - timedelta(seconds=rng.uniform(600, DAYS * 86400 - 600))
        if number >= JOBS - 10:  # the newest: still queued or running
            status = Job.Status.RUNNING if number % 2 else Job.Status.PENDING
            when = now - timedelta(minutes=rng.uniform(1, 9))
        else:
            status = rng.choice(statuses)
        started = when + timedelta(seconds=rng.uniform(1, 60)) if status != Job.Status.PENDING else None
        ended = started + timedelta(seconds=rng.uniform(60, 900)) if started and status in Job.ENDED else None
        jobs.append(
            Job(
                branch=branch, job_id=number // BRANCHES + 1, job_type="MANUAL", status=status, started_at=started, ended_at=ended
            )
        )
        created.append(when)
    made = Job.objects.bulk_create(jobs, batch_size=1000)
    for job, when in zip(made, created, strict=True):
        job.created_at = when
    Job.objects.bulk_update(made, ["created_at"], batch_size=1000)  # auto_now_add stamped them with now
    return app


def run(tmp: Path) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from console.roles import Role, set_role

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    app = seed(tmp)
    print(
        f"seeded {JOBS:,} jobs, {BRANCHES} branches, {DAYS} days on {connection.vendor} in {time.perf_counter() - started:.1f} s"
    )
    viewer = get_user_model().objects.create_user("bench-viewer")
    set_role(viewer, Role.VIEWER)
    client = Client(HTTP_HOST="localhost")
    client.force_login(viewer)
    base = f"/apps/{app.app_id}/insights/"
    pages: dict[str, Callable[[], Any]] = {
        "page, 30 days (default)": lambda: client.get(base),
        "page, 90 days": lambda: client.get(f"{base}?days=90"),
        "page, 90 days, branch main": lambda: client.get(f"{base}?days=90&branch=main"),
        "baseline: jobs by day, 90 days": lambda: baseline(app),
    }
    for name, fn in pages.items():  # warm up: templates, connections, the first query plans
        result = fn()
        assert name.startswith("baseline") or result.status_code == 200, (name, result.status_code)
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(RENDERS):
        for name, fn in pages.items():
            seconds, _ = timed(fn)
            times[name].append(seconds)
    base_median = statistics.median(times["baseline: jobs by day, 90 days"])
    print(f"{'':32} {'median':>9} {'p95':>9} {'ratio':>7} {'queries':>8}")
    for name, values in times.items():
        queries = count_queries(pages[name])
        median = statistics.median(values)
        print(f"{name:32} {ms(median):>9} {ms(p95(values)):>9} {median / base_median:>6.1f}x {queries:>8}")
    growth, _ = peak_growth(pages["page, 90 days"])
    print(f"peak Python memory of one 90-day render: {growth / 1024:,.0f} KiB")
    default = statistics.median(times["page, 30 days (default)"])
    print(f"goal: default page median < {GOAL_MS:.0f} ms: {'met' if default * 1000 < GOAL_MS else 'NOT met'} ({ms(default)})")
    percentile_ways(app)


def baseline(app: Any) -> list[Any]:
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from apps.builds.models import Job

    since = timezone.now() - timedelta(days=DAYS)
    rows = Job.objects.filter(branch__app=app, created_at__gte=since).annotate(day=TruncDate("created_at"))
    return list(rows.values("day").annotate(n=Count("pk")).order_by())


def count_queries(fn: Callable[[], Any]) -> int:
    from django.db import connection

    calls: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        calls.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return len(calls)


def percentile_ways(app: Any) -> None:
    """The fallback (values fetched, sorted in Python) against percentile_cont in Postgres, over
    all 90 days with a branch chosen; on Postgres both must give the same numbers."""
    from django.db import connection

    from apps.builds.selectors import app_jobs
    from apps.insights import percentiles
    from apps.insights.series import DayRange

    days = DayRange.last(DAYS)
    jobs = app_jobs(app).filter(created_at__gte=days.start, created_at__lt=days.end)
    main = app.branches.get(name="main").pk
    ways: dict[str, Callable[[], percentiles.Timings]] = {"fetch values, sort in Python": lambda: percentiles.fetched(jobs, main)}
    if connection.vendor == "postgresql":
        ways["percentile_cont (the page's way)"] = lambda: percentiles.in_database(jobs, main)
        assert percentiles.agree(percentiles.fetched(jobs, main), percentiles.in_database(jobs, main))
        print("percentile_cont and the fallback agree on every day and branch (to a microsecond)")
    results = {name: [timed(fn)[0] for _ in range(RENDERS)] for name, fn in ways.items()}
    print(f"percentiles (median and p95 of durations and queue times per day and per branch, {DAYS} days):")
    for name, values in results.items():
        print(f"  {name:34} median {ms(statistics.median(values))}, p95 {ms(p95(values))}")
    if connection.vendor != "postgresql":
        print("  (percentile_cont needs Postgres: set DATABASE_URL to compare; on SQLite the page fetches)")


if __name__ == "__main__":
    main()
