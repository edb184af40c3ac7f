"""The sandbox inventory: 1,000 sandboxes over 3 regions.

Work 1: `apps.sandboxes.inventory.refresh_inventory()` in-process (what the beat's
`refresh_sandboxes` task runs): per region, in a thread each, a DescribeStacks walk
(no name: every stack but DELETE_COMPLETE, with its tags), one recursive
DescribeParameters walk of /amplify (secret counts) and a ListStackResources per new
or changed stack (8 threads); then the rows are written. Timed twice per round:
the FIRST refresh on a cold inventory (every Sandbox row deleted beforehand, so all
1,000 stacks are new and have their resources counted) and the STEADY refresh right
after it (nothing changed on AWS).
Baseline in the same run, interleaved with the work: what the toolchain does with
raw boto3 against the same moto server: per region, ListStacks (every status but
DELETE_COMPLETE), keep the names that parse as sandboxes, then DescribeStacks(StackName)
for each to read its tags and status. Once one call at a time (the toolchain) and
once with the console's threads (a thread per region, 8 per region for the describes).

Work 2: GET /sandboxes/ through Django's test Client as a signed-in admin, from the
database only: the default page (25 rows, oldest update first), ?per_page=100,
?stale=1 and the htmx table partial a filter change fetches. Medians and p95 over
RENDERS renders each, SQL queries per render.

Setup, in a temporary directory removed at the end: a fresh SQLite database, a moto
server (console.emulator) and, created on it with a thread pool: 1,000 sandbox stacks
(`sandbox_stack_name(package, owner)`, 25 packages x 200 owners, tagged
created-by=amplify and amplify:deployment-type=sandbox, 1-3 SNS topics each) spread
over the 3 regions; as noise, 150 branch stacks, 60 other stacks, 30 sandbox-named
stacks without the sandbox tag and 30 sandbox stacks deleted (DELETE_COMPLETE);
500 sandbox secrets (2 for every 4th sandbox) and 90 branch secrets in SSM. 10 apps
own 10 of the packages (the page links their sandboxes to them).
moto creates every stack CREATE_COMPLETE, now, so before the renders (after every
refresh, which would undo it) the rows' dates are spread over the last 60 days in the
database and 2% are marked FAILED: the stale filter, the retention dry run and the
status cells then have something to show.
Prints medians, the ratios, the goal checks (steady refresh / baseline under 1.3, also
against the threaded baseline; page median under 150 ms), AWS calls per refresh and
per baseline (botocore `before-call` hooks on every console client, whichever thread
uses it), boto3 clients built per refresh, the time `_store` takes to write the rows,
SQL queries per refresh and per render (an execute wrapper) and the peak Python
memory (tracemalloc) of one refresh of each kind and one render. About 3-6 minutes
on 2 busy cores, mostly the 3 x 4 timed refreshes and baselines.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulator_support import CallCounter, django_on_emulator, timed

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
SANDBOXES = 1000
PACKAGES = 25
OWNERS = 200
BRANCH_STACKS = 150
OTHER_STACKS = 60
UNTAGGED_SANDBOXES = 30  # sandbox-named stacks without amplify:deployment-type=sandbox
DELETED_SANDBOXES = 30  # DELETE_COMPLETE: neither side lists them
SECRETS_EVERY = 4  # every 4th sandbox has SECRETS_EACH secrets
SECRETS_EACH = 2
BRANCH_SECRETS = 90
APPS = 10
SETUP_THREADS = 16
COUNT_THREADS = 8  # apps.sandboxes.inventory.COUNT_THREADS, for the threaded baseline
ROUNDS = 3
RENDERS = 30
GOAL_RATIO = 1.3
GOAL_RENDER_MS = 150.0
SANDBOX_TAGS = {"created-by": "amplify", "amplify:deployment-type": "sandbox"}
BRANCH_TAGS = {"created-by": "amplify", "amplify:deployment-type": "branch"}


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """Where the run is, on stderr (the figures go to stdout)."""
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def template(resources: int) -> str:
    return json.dumps({"Resources": {f"Topic{i}": {"Type": "AWS::SNS::Topic", "Properties": {}} for i in range(resources)}})


def package_name(index: int) -> str:
    return f"@acme/project-{index:02d}"


def sandbox_specs() -> Iterator[tuple[str, str, str, int]]:
    """(package, owner, region, resources) of the SANDBOXES sandboxes; (package, owner) is unique."""
    for i in range(SANDBOXES):
        yield package_name(i // (SANDBOXES // PACKAGES)), f"dev{i % OWNERS:03d}", REGIONS[i % len(REGIONS)], 1 + i % 3


def seed(clients: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Every stack and secret on the emulator; returns what was made, by kind."""
    from apps.sandboxes.inventory import secret_prefix
    from console.amplify_names import BackendIdentifier, branch_stack_name, sandbox_stack_name

    jobs: list[Callable[[], Any]] = []

    def stack(region: str, name: str, tags: dict[str, str], resources: int = 1, delete: bool = False) -> None:
        def create() -> None:
            cfn = clients[region]["cloudformation"]
            tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
            stack_id = cfn.create_stack(StackName=name, TemplateBody=template(resources), Tags=tag_list)["StackId"]
            if delete:
                cfn.delete_stack(StackName=stack_id)

        jobs.append(create)

    def secret(region: str, path: str) -> None:
        jobs.append(lambda: clients[region]["ssm"].put_parameter(Name=path, Value="v", Type="SecureString"))

    made = {"sandbox": 0, "branch": 0, "other": 0, "untagged": 0, "deleted": 0, "sandbox secret": 0, "branch secret": 0}
    for i, (package, owner, region, resources) in enumerate(sandbox_specs()):
        stack(region, sandbox_stack_name(package, owner), SANDBOX_TAGS, resources)
        made["sandbox"] += 1
        if i % SECRETS_EVERY == 0:
            ident = BackendIdentifier(package, owner, "sandbox")
            prefix = secret_prefix(ident.sanitized_namespace, ident.sanitized_name, ident.hash)
            for k in range(SECRETS_EACH):
                secret(region, f"{prefix}SECRET_{k}")
                made["sandbox secret"] += 1
    for i in range(BRANCH_STACKS):
        app_id = f"d{i % 30:013d}"
        stack(REGIONS[i % len(REGIONS)], branch_stack_name(app_id, f"feature-{i}"), BRANCH_TAGS)
        made["branch"] += 1
    for i in range(BRANCH_SECRETS):
        secret(REGIONS[i % len(REGIONS)], f"/amplify/shared/d{i % 30:013d}/BRANCH_SECRET_{i}")
        made["branch secret"] += 1
    for i in range(OTHER_STACKS):
        stack(REGIONS[i % len(REGIONS)], f"service-{i:02d}-prod" if i else "CDKToolkit", {"team": "platform"})
        made["other"] += 1
    for i in range(UNTAGGED_SANDBOXES):  # named like a sandbox, without the tag: the toolchain drops them
        stack(REGIONS[i % len(REGIONS)], sandbox_stack_name("@acme/untagged", f"ghost{i:02d}"), {"created-by": "amplify"})
        made["untagged"] += 1
    for i in range(DELETED_SANDBOXES):
        stack(REGIONS[i % len(REGIONS)], sandbox_stack_name("@acme/gone", f"former{i:02d}"), SANDBOX_TAGS, delete=True)
        made["deleted"] += 1
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(retried, jobs))
    return made


def retried(job: Callable[[], Any]) -> None:
    """moto's backends are not thread-safe: a create beside another in the same region
    sometimes fails with a 500 ("OrderedDict mutated during iteration", before it
    creates anything). Setup only; the timed work only reads."""
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError

    for attempt in range(5):
        try:
            job()
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "AlreadyExistsException" and attempt:
                return  # the failed attempt had created it after all
            if attempt == 4:
                raise
        except ResponseParserError:
            if attempt == 4:
                raise
        time.sleep(0.05 * (attempt + 1))


def spread_dates() -> None:
    """Rows' dates over the last 60 days (moto made every stack now), 2% FAILED."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from apps.sandboxes.models import Sandbox

    now = timezone.now()
    pks = list(Sandbox.objects.order_by("stack_name").values_list("pk", flat=True))
    with transaction.atomic():
        for days in range(60):
            chunk = pks[days::60]
            updated = now - timedelta(days=days, hours=days % 7)
            Sandbox.objects.filter(pk__in=chunk).update(last_updated=updated, created_time=updated - timedelta(days=days % 11))
        Sandbox.objects.filter(pk__in=pks[::50]).update(
            status=Sandbox.Status.FAILED,
            stack_status="UPDATE_ROLLBACK_COMPLETE",
            status_reason="The following resource(s) failed to update: [Topic0].",
        )


class SqlCounter:
    """The SQL statements run on a connection while active, with their times
    (an execute wrapper: unlike CaptureQueriesContext it needs no debug cursor and
    survives the test Client's request_started, which empties the query log)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.statements: list[tuple[float, str]] = []

    def _wrapper(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - start, sql))

    def run(self, fn: Callable[[], Any]) -> Any:
        self.statements = []
        with self.connection.execute_wrapper(self._wrapper):
            return fn()

    def summary(self) -> str:
        writes = sum(sql.split()[0].upper() in ("INSERT", "UPDATE", "DELETE") for _, sql in self.statements)
        seconds = sum(t for t, _ in self.statements)
        return f"{len(self.statements)} SQL queries ({writes} writes, {seconds * 1000:.1f} ms in SQL)"


def run(tmp: Path, endpoint_url: str) -> None:
    import boto3
    from botocore.config import Config
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    import console.aws
    from apps.branches.models import App
    from apps.sandboxes import inventory
    from apps.sandboxes.models import Sandbox
    from console.amplify_names import parse_stack_name
    from console.roles import Role, set_role

    assert list(settings.AWS_REGIONS) == list(REGIONS), settings.AWS_REGIONS
    assert inventory.COUNT_THREADS == COUNT_THREADS, inventory.COUNT_THREADS
    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()

    def raw_client(service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106
            config=Config(max_pool_connections=SETUP_THREADS, retries={"mode": "standard"}),
        )

    setup_start = time.perf_counter()
    clients = {
        region: {"cloudformation": raw_client("cloudformation", region), "ssm": raw_client("ssm", region)} for region in REGIONS
    }
    made = seed(clients)
    setup_seconds = time.perf_counter() - setup_start
    progress(f"setup done in {setup_seconds:.1f} s")

    for k in range(APPS):
        App.objects.create(
            app_id=f"a{k:013d}",
            name=f"Project {k:02d}",
            repository="/dev/null",
            production_branch="main",
            package_name=package_name(k * 2),
        )
    admin = get_user_model().objects.create_user(username="bench-admin", password="unused-bench-password")  # noqa: S106
    set_role(admin, Role.ADMIN)

    # Every console client, whichever thread builds or uses it, reports its calls here.
    console_calls = CallCounter()
    built = console.aws._cached_client  # an lru_cache: its misses are the clients built

    def watched_client(*key: Any) -> Any:
        return console_calls.watch(built(*key))

    console.aws._cached_client = watched_client  # type: ignore[assignment]
    raw_calls = CallCounter()
    for by_service in clients.values():
        raw_calls.watch(by_service["cloudformation"])

    # Every status but DELETE_COMPLETE, from botocore's own model of ListStacks.
    statuses = clients[REGIONS[0]]["cloudformation"].meta.service_model.operation_model("ListStacks").input_shape
    live_statuses = [s for s in statuses.members["StackStatusFilter"].member.enum if s != "DELETE_COMPLETE"]

    def sandbox_names(cfn: Any) -> list[str]:
        names = []
        for page in cfn.get_paginator("list_stacks").paginate(StackStatusFilter=live_statuses):
            for summary in page["StackSummaries"]:
                parsed = parse_stack_name(summary["StackName"])
                if parsed is not None and parsed.type == "sandbox":
                    names.append(summary["StackName"])
        return names

    def describe(cfn: Any, name: str) -> bool:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        tags = {tag["Key"]: tag["Value"] for tag in stack.get("Tags", [])}
        _ = stack["StackStatus"], stack.get("LastUpdatedTime") or stack["CreationTime"]
        return tags.get("amplify:deployment-type") == "sandbox"

    def baseline_region(region: str) -> int:
        cfn = clients[region]["cloudformation"]
        return sum(describe(cfn, name) for name in sandbox_names(cfn))

    def baseline_region_threaded(region: str) -> int:
        cfn = clients[region]["cloudformation"]
        with ThreadPoolExecutor(max_workers=COUNT_THREADS) as pool:
            return sum(pool.map(lambda name: describe(cfn, name), sandbox_names(cfn)))

    def baseline() -> int:
        return sum(baseline_region(region) for region in REGIONS)

    def baseline_threaded() -> int:
        with ThreadPoolExecutor(max_workers=len(REGIONS)) as pool:
            return sum(pool.map(baseline_region_threaded, REGIONS))

    # The time refresh_inventory spends writing rows (its _store, once per region).
    store_seconds: list[float] = []
    store = inventory._store

    def timed_store(*args: Any) -> None:
        start = time.perf_counter()
        store(*args)
        store_seconds.append(time.perf_counter() - start)

    inventory._store = timed_store  # type: ignore[assignment]

    def refresh() -> int:
        result = inventory.refresh_inventory()
        assert not result.errors, result.errors
        return sum(len(r.stacks) for r in result.regions)

    # Warm-up (imports, models, connections) on the last region only: a third of the cost.
    assert baseline_region(REGIONS[-1]) == SANDBOXES // len(REGIONS)
    inventory.refresh_inventory([REGIONS[-1]])
    console_calls.take()
    raw_calls.take()
    progress("warm-up done")

    sql = SqlCounter(connection)
    labels = ("baseline", "baseline threaded", "first refresh", "steady refresh")
    work: dict[str, Callable[[], int]] = {
        "baseline": baseline,
        "baseline threaded": baseline_threaded,
        "first refresh": refresh,
        "steady refresh": refresh,
    }
    samples: dict[str, list[float]] = {label: [] for label in labels}
    stores: dict[str, list[float]] = {"first refresh": [], "steady refresh": []}
    clients_built: dict[str, list[int]] = {"first refresh": [], "steady refresh": []}
    counted: dict[str, dict[str, int]] = {}
    sql_summary: dict[str, str] = {}
    for _ in range(ROUNDS):  # interleaved, so all see the same machine
        for label in labels:
            if label == "first refresh":
                Sandbox.objects.all().delete()  # a cold inventory: every stack is new (not timed)
            misses = built.cache_info().misses
            store_seconds.clear()
            seconds, found = timed(lambda label=label: sql.run(work[label]))  # type: ignore[misc]
            assert found == SANDBOXES, (label, found)
            samples[label].append(seconds)
            if label in stores:
                stores[label].append(sum(store_seconds))
                clients_built[label].append(built.cache_info().misses - misses)
                sql_summary.setdefault(label, sql.summary())
            counted.setdefault(label, (console_calls if label in stores else raw_calls).take())
            console_calls.take()
            raw_calls.take()
            progress(f"{label}: {seconds:.2f} s")

    # Both sides saw every sandbox; the inventory has every resource and secret count.
    expected_resources = sum(resources for *_, resources in sandbox_specs())
    assert Sandbox.objects.filter(resource_count__isnull=False).count() == SANDBOXES
    assert sum(Sandbox.objects.values_list("resource_count", flat=True)) == expected_resources  # type: ignore[arg-type]
    counted_secrets = sum(Sandbox.objects.values_list("secret_count", flat=True))
    assert counted_secrets == made["sandbox secret"], (counted_secrets, made["sandbox secret"])

    # For the breakdown: the least a steady refresh must write (last_seen of every
    # row, one UPDATE per region), and what one boto3 client built in a new session costs.
    def touch_last_seen() -> None:
        now = timezone.now()
        for region in REGIONS:
            Sandbox.objects.filter(region=region).update(last_seen=now)

    touch_seconds = statistics.median(timed(touch_last_seen)[0] for _ in range(3))
    client_build = statistics.median(
        timed(lambda: boto3.session.Session().client("cloudformation", region_name=REGIONS[1], endpoint_url=endpoint_url))[0]
        for _ in range(3)
    )

    tracemalloc.start()
    refresh()
    steady_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    Sandbox.objects.all().delete()
    tracemalloc.start()
    refresh()
    cold_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    console_calls.take()
    progress("refresh figures done")

    # ---- Work 2: the page, from the database (no AWS call).
    spread_dates()
    host = "testserver" if "testserver" in settings.ALLOWED_HOSTS else "localhost"
    client = Client(HTTP_HOST=host)
    client.force_login(admin)
    url = reverse("sandboxes")
    pages: dict[str, tuple[dict[str, str], dict[str, str]]] = {
        "default (25 rows)": ({}, {}),
        "?per_page=100": ({"per_page": "100"}, {}),
        "?stale=1": ({"stale": "1"}, {}),
        "htmx table, ?stale=1&per_page=100": (
            {"stale": "1", "per_page": "100"},
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "inventory-table"},
        ),
    }

    def render(query: dict[str, str], headers: dict[str, str]) -> bytes:
        response = client.get(url, query, **headers)  # type: ignore[arg-type]
        assert response.status_code == 200, response.status_code
        return bytes(response.content)

    html: dict[str, bytes] = {label: render(*args) for label, args in pages.items()}  # warm-up
    for label, rows in (("default (25 rows)", 25), ("?per_page=100", 100), ("htmx table, ?stale=1&per_page=100", 100)):
        assert table_rows(html[label]) == rows, (label, table_rows(html[label]))
    assert b"<html" not in html["htmx table, ?stale=1&per_page=100"][:200].lower()
    render_samples: dict[str, list[float]] = {label: [] for label in pages}
    for _ in range(RENDERS):
        for label, args in pages.items():
            render_samples[label].append(timed(lambda args=args: render(*args))[0])  # type: ignore[misc]
    render_sql: dict[str, str] = {}
    for label, args in pages.items():
        sql.run(lambda args=args: render(*args))  # type: ignore[misc]
        render_sql[label] = sql.summary()
    console_calls.take()
    tracemalloc.start()
    render({"per_page": "100"}, {})
    render_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not console_calls.take(), "the page called AWS"
    stale_rows = Sandbox.objects.filter(last_updated__lt=_days_ago(14)).exclude(status=Sandbox.Status.DELETED).count()
    progress("render figures done")
    load_after = os.getloadavg()

    # ---- Report.
    medians = {label: statistics.median(values) for label, values in samples.items()}
    base, base_threaded = medians["baseline"], medians["baseline threaded"]
    first, steady = medians["first refresh"], medians["steady refresh"]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:7.1f} ms"

    def calls(made_calls: dict[str, int]) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(made_calls.items())) or "none"

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def yes(ok: bool) -> str:
        return "yes" if ok else "no"

    print(
        f"sandboxes: {SANDBOXES} over {len(REGIONS)} regions ({', '.join(REGIONS)}); noise: {made['branch']} branch stacks, "
        f"{made['other']} other stacks, {made['untagged']} untagged sandbox names, {made['deleted']} DELETE_COMPLETE sandboxes; "
        f"{made['sandbox secret']} sandbox secrets, {made['branch secret']} branch secrets; {ROUNDS} rounds, interleaved"
    )
    print(f"load average (1 min) at the start / end: {load_before[0]:.1f} / {load_after[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"setup ({sum(made.values())} stacks and secrets on the emulator, {SETUP_THREADS} threads): {setup_seconds:.1f} s")
    print(f"baseline: raw ListStacks + DescribeStacks(name) per sandbox, one at a time:            median {ms(base)}")
    print(f"baseline threaded: the same, a thread per region, {COUNT_THREADS} per region describing: median {ms(base_threaded)}")
    print(f"work: steady refresh_inventory() (nothing changed):                                   median {ms(steady)}")
    print(f"work: first refresh_inventory() (cold database, every resource count fetched):        median {ms(first)}")
    print(f"ratio steady refresh / baseline: {steady / base:.2f}x; / threaded baseline: {steady / base_threaded:.2f}x (medians)")
    print(f"ratio first refresh / baseline:  {first / base:.2f}x; / threaded baseline: {first / base_threaded:.2f}x (medians)")
    print(f"goal check: steady refresh / baseline under {GOAL_RATIO}: {yes(steady / base < GOAL_RATIO)}")
    print(f"goal check: steady refresh / threaded baseline under {GOAL_RATIO}: {yes(steady / base_threaded < GOAL_RATIO)}")
    print(
        f"  (not the goal: the first refresh also makes {counted['first refresh'].get('ListStackResources', 0)} "
        f"ListStackResources calls, one per new stack, that the baseline does not; "
        f"first / baseline under {GOAL_RATIO}: {yes(first / base < GOAL_RATIO)})"
    )
    print(f"AWS calls per baseline: {calls(counted['baseline'])}")
    print(f"AWS calls per threaded baseline: {calls(counted['baseline threaded'])}")
    print(f"AWS calls per steady refresh: {calls(counted['steady refresh'])}")
    print(f"AWS calls per first refresh: {calls(counted['first refresh'])}")
    print("breakdown (medians of the same rounds):")
    for label in stores:
        written = statistics.median(stores[label])
        print(
            f"  {label}: writing the rows (_store, {len(REGIONS)} regions) {ms(written)}, the rest (AWS, reading rows) "
            f"{ms(medians[label] - written)}; {sql_summary[label]}; boto3 clients built: "
            f"{statistics.median(clients_built[label]):.0f}"
        )
    print(
        f"  one UPDATE of last_seen per region for all {SANDBOXES} rows (the least a steady refresh writes): {ms(touch_seconds)}"
    )
    print(f"  one boto3 cloudformation client in a new session (the cost of each client built): {ms(client_build)}")
    print(
        f"peak Python memory (tracemalloc): steady refresh {steady_peak / 1024:.0f} KiB; first refresh {cold_peak / 1024:.0f} KiB"
    )
    print(
        f"page GET /sandboxes/ (test Client, admin, from the database; {stale_rows} of {SANDBOXES} stale), "
        f"{RENDERS} renders each, interleaved:"
    )
    for label in pages:
        values = render_samples[label]
        print(
            f"  {label:35} median {ms(statistics.median(values))}  p95 {ms(p95(values))}  "
            f"{render_sql[label]}, {len(html[label]) // 1024} KiB"
        )
    page = statistics.median(render_samples["default (25 rows)"])
    worst = max(statistics.median(v) for v in render_samples.values())
    print(f"goal check: default page median under {GOAL_RENDER_MS:.0f} ms: {yes(page * 1000 < GOAL_RENDER_MS)}")
    print(f"  every variant's median under {GOAL_RENDER_MS:.0f} ms: {yes(worst * 1000 < GOAL_RENDER_MS)}")
    print(f"peak Python memory of one render (?per_page=100, tracemalloc): {render_peak / 1024:.0f} KiB")


def table_rows(html: bytes) -> int:
    """Rows of the inventory table (each <tr> but the header's)."""
    return len(re.findall(rb"<tr[\s>]", html)) - 1


def _days_ago(days: int) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(days=days)


def main() -> None:
    os.environ.pop("AWS_REGION", None)
    # The console's regions: console/env.py env_regions reads them comma-separated.
    regions = {"AWS_DEFAULT_REGION": REGIONS[0], "CONSOLE_AWS_REGIONS": ",".join(REGIONS)}
    with django_on_emulator("bench-sandboxes-", extra_env=regions) as run_on:
        run(run_on.tmp, run_on.endpoint_url)


if __name__ == "__main__":
    main()
