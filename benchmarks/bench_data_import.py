"""CSV import of 10,000 records and a seed of 100, against raw BatchWriteItem of the same items.

Import work: the console's import as the background task runs it (apps.datamanager.tasks
`_import`, without its DataTask progress updates): `csv_io.read_csv(text)` of a
10,000-row CSV (made with `csv_io.export_lines` from generated `Order` records),
`suggest_mapping`, `validate_rows` and `import_rows(mode="skip")` (stamp_new, BatchWriteItem
in 25s with its unprocessed-items retries). Baseline: what a careful script does with the
same 10,000 records already in Python: TypeSerializer, BatchWriteItem in 25s, unprocessed
items retried with backoff. Both write the same 10,000 items with the same keys: against
the emulator the baseline goes first and inserts them, the import overwrites them.

Seed work: `services.records_seed(count=100)`, what the records page's inline seed does
(Seeder rows, check_value to the stored form, stamp_new, BatchWriteItem, an audit row);
also timed, the page itself: a POST of count=100 to the seed view through Django's test
Client as a signed-in admin (it also finds the schema and table and makes a first row to
check the rules). Baseline: raw BatchWriteItem (as above) of 100 records generated
beforehand with the same Seeder, each round a new set, so seeds write fresh keys.

Two settings, both over real HTTP through a small proxy process in front of the moto
server (see bench_data_export.py):
- "emulator": writes go to moto. moto takes 1-2 ms per written item, most of a
  10,000-row write, so the import has one such round (it also warms up the rest).
- "client side": the goal figure; writes to `OrderStub-<apiId>-NONE` are answered by the proxy at once
  (no unprocessed items, nothing stored), so the rounds measure the console's and the
  script's own work alone, the strictest comparison.

Setup, in a temporary directory removed at the end: a fresh SQLite database, a moto server
(console.emulator), an App and Branch row whose `backend_outputs` hold the `Order` model
(String, Int, Float, Boolean, AWSDateTime, an enum, a list of strings, a custom type) and
the table `Order-<apiId>-NONE`. Prints medians, ratios, the goal checks (under 1.5), the
AWS calls of each (botocore `before-call` hooks) and the peak Python memory growth
(tracemalloc, peak during minus before) of the import and of a seed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench_data_export import (
    API_ID,
    MB,
    MODEL,
    TABLE,
    admin_client,
    create_table,
    introspection,
    make_branch,
    make_items,
    mb,
    ms,
    raw_batch_write,
    raw_dynamodb,
    replay_proxy,
    yes,
)
from emulator_support import CallCounter, calls_text, django_on_emulator, peak_growth, timed

ROUNDS = 5
SEED_ROUNDS = 21  # a seed takes 30-130 ms: more rounds for a steadier median
LIVE_IMPORT_ROUNDS = 1  # 10,000 writes to moto take 20-40 s each
IMPORT_ROWS = 10_000
SEED_ROWS = 100
GOAL_RATIO = 1.5
STUB_TABLE = f"{MODEL}Stub-{API_ID}-NONE"  # writes answered by the proxy


def run(endpoint_url: str) -> None:
    from django.conf import settings
    from django.contrib.messages import get_messages
    from django.core.management import call_command
    from django.urls import reverse

    from apps.datamanager import csv_io, dynamo, services
    from apps.datamanager.schema import schema_from_introspection
    from apps.datamanager.seed import Seeder
    from apps.datamanager.sources import BranchData
    from apps.datamanager.values import check_value
    from console.aws import aws_client

    call_command("migrate", verbosity=0)
    region = settings.AWS_REGION
    schema = schema_from_introspection(introspection())
    model = schema.model(MODEL)
    assert model is not None
    data = BranchData(schema=schema, region=region, api_id=API_ID)

    setup_start = time.perf_counter()
    raw = raw_dynamodb(endpoint_url)
    create_table(raw, TABLE)
    items = make_items(IMPORT_ROWS, seed=11)
    text = "".join(csv_io.export_lines(model, items))
    live_table = dynamo.describe_table(TABLE, region)
    assert live_table is not None
    stub_table = dynamo.Table(name=STUB_TABLE, region=region, hash_key="id")

    def seed_batch(seed: int) -> list[dict[str, Any]]:
        """What the baseline writes: 100 Seeder records in their stored form, stamped."""
        rows = Seeder(schema, model, seed=seed).rows(SEED_ROWS)
        stored = [{k: check_value(model.field(k), v, schema) for k, v in row.items()} for row in rows]
        return [dynamo.stamp_new(model, live_table, {k: v for k, v in row.items() if v is not None}) for row in stored]

    seed_batches = [seed_batch(seed) for seed in range(2 * SEED_ROUNDS + 1)]
    app, branch = make_branch(region)
    client, admin = admin_client()
    seed_url = reverse("data_seed", args=[app.app_id, branch.name, MODEL])
    setup_seconds = time.perf_counter() - setup_start

    console_calls = CallCounter(aws_client("dynamodb", region=region), aws_client("cloudformation"))
    raw_calls = CallCounter(raw)

    def import_csv(table: dynamo.Table) -> csv_io.ImportReport:
        parsed = csv_io.read_csv(text)
        mapping = csv_io.suggest_mapping(parsed.header, model)
        results = csv_io.validate_rows(parsed, mapping, model, schema)
        report = csv_io.import_rows(table, model, results, mode=csv_io.SKIP)
        assert report.written == IMPORT_ROWS, (report.written, report.line_errors[:3], report.error)
        return report

    def import_baseline(name: str) -> int:
        written = raw_batch_write(raw, name, items)
        assert written == IMPORT_ROWS
        return written

    def seed(table: dynamo.Table) -> int:
        report = services.records_seed(actor=admin, branch=branch, data=data, model=model, table=table, count=SEED_ROWS)
        assert report.written == SEED_ROWS and not report.unwritten, (report.written, report.error)  # noqa: PT018
        return report.written

    def seed_view() -> int:
        response = client.post(seed_url, {"count": str(SEED_ROWS)})
        assert response.status_code == 302, response.status_code
        shown = [str(m) for m in get_messages(response.wsgi_request)]
        assert shown[-1] == f"Seeded {SEED_ROWS} {MODEL} records.", shown  # earlier ones stay unread
        return SEED_ROWS

    batches = iter(seed_batches)

    def seed_baseline(name: str) -> int:
        written = raw_batch_write(raw, name, next(batches))
        assert written == SEED_ROWS
        return written

    # Warm-up: the seeds (the import's first rounds are against the emulator, before the others).
    seed(live_table)
    seed_view()
    seed_baseline(TABLE)
    console_calls.take()
    raw_calls.take()

    Work = dict[str, tuple[Callable[[], Any], CallCounter]]
    samples: dict[str, list[float]] = {}
    counted: dict[str, dict[str, int]] = {}

    def rounds(work: Work, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):  # interleaved, so all see the same machine
            for label, (fn, counter) in work.items():
                samples.setdefault(label, []).append(timed(fn)[0])
                counted.setdefault(label, counter.take())  # the calls of the first round
                counter.take()
        return time.perf_counter() - start

    live_seconds = rounds(
        {
            "import baseline": (lambda: import_baseline(TABLE), raw_calls),
            "import": (lambda: import_csv(live_table), console_calls),
        },
        LIVE_IMPORT_ROUNDS,
    )
    other_seconds = rounds(
        {
            "import baseline, client side": (lambda: import_baseline(STUB_TABLE), raw_calls),
            "import, client side": (lambda: import_csv(stub_table), console_calls),
        },
        ROUNDS,
    )
    other_seconds += rounds(
        {
            "seed baseline": (lambda: seed_baseline(TABLE), raw_calls),
            "seed": (lambda: seed(live_table), console_calls),
            "seed view": (seed_view, console_calls),
            "seed baseline, client side": (lambda: seed_baseline(STUB_TABLE), raw_calls),
            "seed, client side": (lambda: seed(stub_table), console_calls),
        },
        SEED_ROUNDS,
    )
    # The import wrote the records as they are (a sample read back).
    for item in items[:: IMPORT_ROWS // 20]:
        assert dynamo.get_item(live_table, {"id": item["id"]}) == item, item["id"]
    memory_start = time.perf_counter()
    memory = {
        "import": peak_growth(lambda: import_csv(stub_table))[0],
        "seed": peak_growth(lambda: seed(stub_table))[0],
    }
    memory_seconds = time.perf_counter() - memory_start

    medians = {label: statistics.median(values) for label, values in samples.items()}

    def line(label: str, base: str, what: str) -> float:
        ratio = medians[label] / medians[base]
        print(f"  {what:<66} median {ms(medians[label])}  ({ratio:.2f}x)")
        return ratio

    print(
        f"import of {IMPORT_ROWS:,} {MODEL} records ({len(text.encode()) / MB:.1f} MB of CSV) and seed of {SEED_ROWS}; "
        f"{LIVE_IMPORT_ROUNDS} round(s) of the import against the emulator, {ROUNDS} client side, "
        f"{SEED_ROUNDS} of each seed, interleaved"
    )
    print(
        f"setup (table, {IMPORT_ROWS:,} records as CSV, {len(seed_batches)} Seeder batches): {setup_seconds:.1f} s; "
        f"rounds: {live_seconds:.1f} s + {other_seconds:.1f} s; memory runs: {memory_seconds:.1f} s"
    )
    print(
        f"import, against the emulator, {LIVE_IMPORT_ROUNDS} round(s) (moto stores every item; the baseline writes "
        f"{IMPORT_ROWS:,} new keys, the import then overwrites them):"
    )
    print(f"  {'baseline: raw BatchWriteItem of the same records':<66} median {ms(medians['import baseline'])}")
    import_ratio = line("import", "import baseline", "work: read_csv -> validate_rows -> import_rows (skip)")
    print("import, client side (the proxy answers the writes):")
    base = medians["import baseline, client side"]
    print(f"  {'baseline: raw BatchWriteItem of the same records':<66} median {ms(base)}")
    import_client_ratio = line("import, client side", "import baseline, client side", "work: the same import")
    print(f"seed of {SEED_ROWS}, against the emulator (fresh keys every round):")
    print(f"  {'baseline: raw BatchWriteItem of 100 pre-generated Seeder records':<66} median {ms(medians['seed baseline'])}")
    seed_ratio = line("seed", "seed baseline", "work: services.records_seed(count=100)")
    view_ratio = line("seed view", "seed baseline", "work: POST count=100 to the seed view (test Client)")
    print(f"seed of {SEED_ROWS}, client side (the proxy answers the writes):")
    base = medians["seed baseline, client side"]
    print(f"  {'baseline: raw BatchWriteItem of 100 pre-generated Seeder records':<66} median {ms(base)}")
    seed_client_ratio = line("seed, client side", "seed baseline, client side", "work: services.records_seed(count=100)")
    print(
        f"goal check: ratio under {GOAL_RATIO}: import {yes(import_ratio < GOAL_RATIO)} on the emulator, "
        f"{yes(import_client_ratio < GOAL_RATIO)} client side; seed {yes(seed_ratio < GOAL_RATIO)} on the emulator "
        f"(view {yes(view_ratio < GOAL_RATIO)}), {yes(seed_client_ratio < GOAL_RATIO)} client side"
    )
    print(f"AWS calls per import: {calls_text(counted['import'])}; per baseline: {calls_text(counted['import baseline'])}")
    print(f"AWS calls per seed: {calls_text(counted['seed'])}; per seed view: {calls_text(counted['seed view'])}")
    print(f"AWS calls per seed baseline: {calls_text(counted['seed baseline'])}")
    print(
        f"peak Python memory growth (tracemalloc, peak during minus before): import {mb(memory['import'])} "
        f"(the baseline's records are in memory before it starts: it holds one request of 25 more), "
        f"seed {mb(memory['seed'])}"
    )


def main() -> None:
    with django_on_emulator("bench-data-import-", proxy=replay_proxy({"stub_writes": [STUB_TABLE]})) as run_on:
        run(run_on.endpoint_url)


if __name__ == "__main__":
    main()
