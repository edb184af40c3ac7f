"""CSV export of 20,000 records of a data model, against a raw boto3 scan + csv.writer.

Work, timed two ways in the same rounds:
- "export": the console's export path exactly as `apps.datamanager.views.records_export`
  streams it, called directly: `dynamo.scan_all(table)` (the Scan paginator, each item
  deserialized) into `csv_io.export_lines(model, records)`, every line handed to a
  sink that counts lines and characters and keeps nothing.
- "view": the real view through Django's test Client as a signed-in admin (middleware,
  session, `branch_data` from the branch's captured amplify_outputs.json, DescribeStacks,
  ListTables and DescribeTable to find the table, then the StreamingHttpResponse),
  reading `response.streaming_content` chunk by chunk into the same kind of sink.
Baseline, interleaved with both: a raw boto3 client `scan` paginator, TypeDeserializer on
every attribute and `csv.writer` writing into the same kind of sink, with the cell
formatting a careful script would use (JSON for lists and maps, true/false, numbers as
written). A warm-up checks that the three write exactly the same CSV.

The emulator and the replay proxy: moto 5.2 serializes every Scan answer through its
generic, model-driven serializer at about 3-5 ms per item, so one export of 20,000
records against it takes over a minute, nearly all of it in the moto process: timed
rounds against it would take far too long and measure moto. So the console and the
baseline talk to a small proxy (this file run with --proxy, in its own process) in
front of the moto server: it forwards everything, and keeps moto's answer to each Scan
request so that later identical requests get the same bytes back at once. The first
export (the console's, timed and printed) goes to the live emulator; every timed round
then measures the client side alone (HTTP, botocore parsing, deserializing, CSV) over
real HTTP with moto's own answers, the strictest comparison. The memory-vs-rows check
exports `OrderSmall-<apiId>-NONE`, which the proxy answers with the first two pages of
the same answers (the second one without LastEvaluatedKey).

Setup, in a temporary directory removed at the end: a fresh SQLite database, a moto server
(console.emulator), an App and Branch row whose `backend_outputs` hold a model
introspection (the `Order` model: String, Int, Float, Boolean, AWSDateTime, an enum, a
list of strings and a custom `Address` type, plus the timestamps) and the table
`Order-<apiId>-NONE` with 20,000 items written beforehand with raw BatchWriteItem from a
few threads straight to the emulator.

Prints medians, ratios, the goal checks (export under 1.25x the baseline; peak memory
growth under 50 MB and not growing with the row count), the AWS calls of one export, one
view and one baseline (botocore `before-call` hooks) and the peak Python memory growth
(tracemalloc: peak during the run minus the traced memory before it) of the export of
the first two pages and of all 20,000 rows, of the view and of the baseline.

The helpers at the top are shared with bench_data_import.py.
"""

from __future__ import annotations

import csv
import json
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from emulator_support import CallCounter, Proxy, calls_text, django_on_emulator, peak_growth, timed

ROUNDS = 5
ROWS = 20_000
GOAL_RATIO = 1.25
GOAL_MEMORY_MB = 50
# "Does not scale with rows": the 20,000-row peak within this factor of the 5,000-row one.
FLAT_MEMORY_FACTOR = 1.5
API_ID = "benchapi0123456789"
MODEL = "Order"
TABLE = f"{MODEL}-{API_ID}-NONE"  # where Amplify keeps the model's records
SMALL_TABLE = f"{MODEL}Small-{API_ID}-NONE"  # answered by the proxy from TABLE's first pages
SETUP_THREADS = 4
BATCH = 25  # BatchWriteItem's limit
MB = 1024 * 1024
SMALL_PAGES = 2  # the small export: the first pages of the recorded scan

# Shared with bench_data_import.py

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


def serve_proxy(upstream: str, port: int, config: dict[str, Any]) -> None:
    """The replay proxy (run in its own process by start_proxy, so it costs the measured
    process nothing): forwards every request to the emulator unchanged, except
    - Scan: the emulator's first answer to each request (table, ExclusiveStartKey, ...)
      is kept and sent back, byte for byte, to every later identical request; a table
      in config["alias"] is answered from another table's answers, ending after
      config["truncate"][name] pages (LastEvaluatedKey removed, CRC32 header redone);
    - BatchWriteItem to tables in config["stub_writes"]: answered at once with no
      unprocessed items, nothing stored (the client's part alone)."""
    import http.client
    import threading
    import zlib
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    target_host = urlsplit(upstream)
    alias: dict[str, str] = config.get("alias", {})
    truncate: dict[str, int] = config.get("truncate", {})
    stubbed = set(config.get("stub_writes", []))
    recorded: dict[tuple[str, str], tuple[int, list[tuple[str, str]], bytes, int]] = {}
    pages: dict[str, int] = {}
    lock = threading.Lock()
    Answer = tuple[int, list[tuple[str, str]], bytes]

    def with_crc(headers: list[tuple[str, str]], data: bytes) -> list[tuple[str, str]]:
        kept = [(k, v) for k, v in headers if k.lower() != "x-amz-crc32"]
        return [*kept, ("x-amz-crc32", str(zlib.crc32(data) & 0xFFFFFFFF))]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's
        # algorithm and the client's delayed ACK stall every answer by ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def forward(self, body: bytes) -> Answer:
            connection = http.client.HTTPConnection(target_host.hostname or "127.0.0.1", target_host.port, timeout=900)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS | {"host"}}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                return response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS], data
            finally:
                connection.close()

        def scan(self, body: bytes) -> Answer:
            request = json.loads(body)
            name = request["TableName"]
            source = alias.get(name, name)
            key = (source, json.dumps({k: v for k, v in request.items() if k != "TableName"}, sort_keys=True))
            with lock:
                hit = recorded.get(key)
            if hit is None:
                status, headers, data = self.forward(json.dumps({**request, "TableName": source}).encode())
                if status != 200:
                    return status, headers, data
                with lock:
                    index = pages[source] = pages.get(source, -1) + 1
                    hit = recorded[key] = (status, headers, data, index)
            status, headers, data, index = hit
            if name in truncate and index >= truncate[name] - 1:
                answer = json.loads(data)
                answer.pop("LastEvaluatedKey", None)
                data = json.dumps(answer).encode()
                headers = with_crc(headers, data)
            return status, headers, data

        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            action = self.headers.get("X-Amz-Target", "")
            if action.endswith(".Scan"):
                status, headers, data = self.scan(body)
            elif action.endswith(".BatchWriteItem") and set(json.loads(body)["RequestItems"]) <= stubbed:
                data = b'{"UnprocessedItems":{}}'
                status, headers = 200, with_crc([("Content-Type", "application/x-amz-json-1.0")], data)
            else:
                status, headers, data = self.forward(body)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def start_proxy(upstream: str, config: dict[str, Any]) -> tuple[subprocess.Popen[bytes], str]:
    """serve_proxy in a child process (this file run with --proxy); its endpoint URL once it answers."""
    from console.emulator import free_port

    port = free_port()
    command = [sys.executable, __file__, "--proxy", upstream, str(port), json.dumps(config)]
    process = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the replay proxy exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    stop_process(process)
    raise RuntimeError("the replay proxy did not start")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _field(
    name: str, type_: str | dict[str, str], *, required: bool = False, array: bool = False, **extra: Any
) -> dict[str, Any]:
    return {"name": name, "isArray": array, "type": type_, "isRequired": required, "attributes": [], **extra}


def introspection() -> dict[str, Any]:
    """`Order`: a realistic mix of field types (what amplify_outputs.json's model_introspection holds)."""
    fields = [
        _field("id", "ID", required=True),
        _field("customer", "String", required=True),
        _field("note", "String"),
        _field("quantity", "Int"),
        _field("price", "Float"),
        _field("paid", "Boolean"),
        _field("placedAt", "AWSDateTime"),
        _field("status", {"enum": "OrderStatus"}),
        _field("tags", "String", array=True),
        _field("shipTo", {"nonModel": "Address"}),
        _field("createdAt", "AWSDateTime", isReadOnly=True),
        _field("updatedAt", "AWSDateTime", isReadOnly=True),
    ]
    address = [_field("street", "String", required=True), _field("city", "String"), _field("zip", "Int")]
    return {
        "version": 1,
        "models": {
            MODEL: {
                "name": MODEL,
                "pluralName": f"{MODEL}s",
                "syncable": True,
                "attributes": [{"type": "model", "properties": {}}],
                "primaryKeyInfo": {"isCustomPrimaryKey": False, "primaryKeyFieldName": "id", "sortKeyFieldNames": []},
                "fields": {f["name"]: f for f in fields},
            }
        },
        "enums": {"OrderStatus": {"name": "OrderStatus", "values": ["PENDING", "PAID", "SHIPPED", "CANCELLED"]}},
        "nonModels": {"Address": {"name": "Address", "fields": {f["name"]: f for f in address}}},
    }


HEADER = ["id", "customer", "note", "quantity", "price", "paid", "placedAt", "status", "tags", "shipTo", "createdAt", "updatedAt"]
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus", "Radia", "Tim")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth", "O'Neil")
_WORDS = (
    "gift",
    "rush",
    "fragile",
    "bulk",
    "repeat",
    "wholesale",
    "sample",
    "return",
    "vip",
    "promo",
    "export",
    "backorder",
    "the",
    "customer",
    "asked",
    "for",
    "delivery",
    "before",
    "noon",
    "please",
    "leave",
    "at",
    "door",
    "call",
    "ahead",
)
_CITIES = ("Springfield", "Riverton", "Lakeside", "Fairview", "Greenville", "Bristol", "Salem", "Madison", "Georgetown")
_STATUSES = ("PENDING", "PAID", "SHIPPED", "CANCELLED")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_items(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Stored `Order` records as the create resolver leaves them (numbers as Decimals,
    timestamps, __typename); optional fields are sometimes absent, and some notes
    hold commas, quotes and newlines. Prices never end in 0, so a raw script's
    str(Decimal) writes what the console writes."""
    rng = random.Random(seed)  # noqa: S311 - fake data
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for _ in range(count):
        created = start + timedelta(seconds=rng.randrange(3 * 365 * 86_400), milliseconds=rng.randrange(1000))
        item: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "customer": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            "quantity": Decimal(rng.randrange(1, 500)),
            "price": Decimal(f"{rng.randrange(1, 1000)}.{rng.randrange(1, 10)}{rng.randrange(1, 10)}"),
            "paid": rng.random() < 0.6,
            "placedAt": _iso(created - timedelta(minutes=rng.randrange(1, 600))),
            "status": rng.choice(_STATUSES),
            "tags": rng.sample(_WORDS[:12], rng.randrange(0, 4)),
            "createdAt": _iso(created),
            "updatedAt": _iso(created + timedelta(hours=rng.randrange(0, 48))),
            "__typename": MODEL,
        }
        if rng.random() < 0.7:
            words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(4, 30)))
            item["note"] = words if rng.random() < 0.8 else f'{words}, "quoted",\nsecond line'
        if rng.random() < 0.9:
            address: dict[str, Any] = {"street": f"{rng.randrange(1, 9999)} {rng.choice(_LAST)} St"}
            if rng.random() < 0.9:
                address["city"] = rng.choice(_CITIES)
            if rng.random() < 0.8:
                address["zip"] = Decimal(rng.randrange(10_000, 99_999))
            item["shipTo"] = address
        items.append(item)
    return items


def raw_dynamodb(endpoint_url: str) -> Any:
    import boto3
    from django.conf import settings

    return boto3.client(
        "dynamodb",
        region_name=settings.AWS_REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    )


def create_table(raw: Any, name: str) -> None:
    """Keyed as Amplify keys a model with an `id` primary key."""
    raw.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def raw_batch_write(raw: Any, name: str, items: list[dict[str, Any]], sleep: Callable[[float], None] = time.sleep) -> int:
    """What a careful script does: TypeSerializer, BatchWriteItem in 25s, unprocessed
    items retried with backoff (and an error when they never go)."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    written = 0
    for start in range(0, len(items), BATCH):
        pending = [
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in item.items() if v is not None}}}
            for item in items[start : start + BATCH]
        ]
        for attempt in range(8):
            unprocessed = raw.batch_write_item(RequestItems={name: pending}).get("UnprocessedItems", {}).get(name, [])
            written += len(pending) - len(unprocessed)
            pending = unprocessed
            if not pending:
                break
            sleep(min(0.05 * 2**attempt, 2.0))
        if pending:
            raise RuntimeError(f"{len(pending)} items were never written")
    return written


def threaded_write(raw: Any, name: str, items: list[dict[str, Any]], threads: int = SETUP_THREADS) -> int:
    """Setup only: raw_batch_write from a few threads (boto3 clients are thread-safe)."""
    step = BATCH * 40
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(pool.map(lambda start: raw_batch_write(raw, name, items[start : start + step]), range(0, len(items), step)))


def make_branch(region: str) -> tuple[Any, Any]:
    """An App and its `main` Branch (rows only, no git) whose captured amplify_outputs.json holds the data schema."""
    from apps.branches.models import App, Branch
    from apps.branches.services import new_app_id

    app = App.objects.create(app_id=new_app_id(), name="bench", repository="/nonexistent.git", production_branch="main")
    outputs = {
        "version": "1.4",
        "data": {
            "url": "https://example.appsync-api.us-east-1.amazonaws.com/graphql",
            "aws_region": region,
            "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
            "authorization_types": [],
            "model_introspection": introspection(),
        },
    }
    branch = Branch.objects.create(app=app, name="main", display_name="main", backend_outputs=outputs)
    return app, branch


def admin_client() -> tuple[Any, Any]:
    """A test Client signed in as an admin, and the admin."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from console.roles import Role, set_role

    admin = get_user_model().objects.create_user(username="bench-admin", password="unused-bench-password")  # noqa: S106
    set_role(admin, Role.ADMIN)
    # The test settings' ALLOWED_HOSTS has no "testserver" (only setup_test_environment adds it).
    client = Client(HTTP_HOST="testserver" if "testserver" in settings.ALLOWED_HOSTS else "localhost")
    client.force_login(admin)
    return client, admin


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def mb(size: int) -> str:
    return f"{size / MB:5.1f} MB"


def yes(ok: bool) -> str:
    return "yes" if ok else "no"


# This benchmark


class Sink:
    """Where the CSV goes: counts writes and characters, keeps nothing (unless `keep`)."""

    def __init__(self, *, keep: bool = False) -> None:
        self.lines = 0
        self.chars = 0
        self.kept: list[str] | None = [] if keep else None

    def write(self, text: str) -> None:
        self.lines += 1
        self.chars += len(text)
        if self.kept is not None:
            self.kept.append(text)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def raw_cell(value: Any) -> str:
    """A careful script's cell: blank for absent, JSON for lists and maps, true/false, numbers as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def run(endpoint_url: str, emulator_url: str) -> None:
    from boto3.dynamodb.types import TypeDeserializer
    from django.conf import settings
    from django.core.management import call_command
    from django.urls import reverse

    from apps.datamanager import dynamo
    from apps.datamanager.csv_io import export_header, export_lines
    from apps.datamanager.schema import schema_from_introspection
    from console.aws import aws_client

    call_command("migrate", verbosity=0)
    region = settings.AWS_REGION
    model = schema_from_introspection(introspection()).model(MODEL)
    assert model is not None
    assert export_header(model) == HEADER, export_header(model)
    assert dynamo.table_name(model, API_ID) == TABLE

    setup_start = time.perf_counter()
    items = make_items(ROWS)
    generated = time.perf_counter() - setup_start
    direct = raw_dynamodb(emulator_url)  # setup writes skip the proxy
    create_table(direct, TABLE)
    assert threaded_write(direct, TABLE, items) == ROWS
    setup_seconds = time.perf_counter() - setup_start
    del items
    app, branch = make_branch(region)
    client, _ = admin_client()
    url = reverse("data_export", args=[app.app_id, branch.name, MODEL])
    table = dynamo.describe_table(TABLE, region)
    assert table is not None
    small_table = dynamo.Table(name=SMALL_TABLE, region=region, hash_key="id")

    raw = raw_dynamodb(endpoint_url)
    console_calls = CallCounter(aws_client("dynamodb", region=region), aws_client("cloudformation"))
    raw_calls = CallCounter(raw)
    deserializer = TypeDeserializer()

    def export(export_table: dynamo.Table = table, sink: Sink | None = None) -> Sink:
        sink = sink or Sink()
        for line in export_lines(model, dynamo.scan_all(export_table)):
            sink.write(line)
        return sink

    def view(sink: Sink | None = None) -> Sink:
        sink = sink or Sink()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        assert response.streaming
        for chunk in response.streaming_content:
            sink.write(chunk.decode())
        response.close()
        return sink

    def baseline(name: str = TABLE, sink: Sink | None = None) -> Sink:
        sink = sink or Sink()
        writer = csv.writer(sink)
        writer.writerow(HEADER)
        for page in raw.get_paginator("scan").paginate(TableName=name):
            for stored in page["Items"]:
                record = {k: deserializer.deserialize(v) for k, v in stored.items()}
                writer.writerow([raw_cell(record.get(column)) for column in HEADER])
        return sink

    # The one export against the live emulator (the proxy keeps its answers), then the
    # check that all three write the same CSV (the view's lines may arrive in other chunks).
    live_seconds, first = timed(lambda: export(sink=Sink(keep=True)))
    texts = ["".join(sink.kept or []) for sink in (first, view(sink=Sink(keep=True)), baseline(sink=Sink(keep=True)))]
    assert texts[0] == texts[1] == texts[2], [len(t) for t in texts]
    assert first.lines == ROWS + 1, first.lines
    csv_size = len(texts[0].encode())
    del texts, first
    small_rows = export(small_table).lines - 1
    assert baseline(SMALL_TABLE).lines - 1 == small_rows < ROWS
    console_calls.take()
    raw_calls.take()

    work: dict[str, tuple[Callable[[], Any], CallCounter]] = {
        "baseline": (baseline, raw_calls),
        "export": (export, console_calls),
        "view": (view, console_calls),
    }
    samples: dict[str, list[float]] = {label: [] for label in work}
    counted: dict[str, dict[str, int]] = {}
    rounds_start = time.perf_counter()
    for _ in range(ROUNDS):  # interleaved, so all see the same machine
        for label, (fn, counter) in work.items():
            seconds, sink = timed(fn)
            assert sink.lines == ROWS + 1, sink.lines
            samples[label].append(seconds)
            counted.setdefault(label, counter.take())  # the calls of the first round
            counter.take()
    rounds_seconds = time.perf_counter() - rounds_start

    memory_start = time.perf_counter()
    memory = {
        "export": peak_growth(export)[0],
        "export_small": peak_growth(lambda: export(small_table))[0],
        "view": peak_growth(view)[0],
        "baseline": peak_growth(baseline)[0],
    }
    memory_seconds = time.perf_counter() - memory_start

    medians = {label: statistics.median(values) for label, values in samples.items()}
    base = medians["baseline"]
    ratio, view_ratio = medians["export"] / base, medians["view"] / base
    flat = memory["export"] < FLAT_MEMORY_FACTOR * memory["export_small"]
    print(
        f"export of {ROWS:,} {MODEL} records ({len(HEADER)} columns: String, Int, Float, Boolean, AWSDateTime, enum, "
        f"[String], custom type; {csv_size / MB:.1f} MB of CSV); {ROUNDS} rounds, interleaved; Scan pages replayed "
        "from the emulator's recorded answers"
    )
    print(
        f"setup ({generated:.1f} s generating, {ROWS:,} items BatchWriteItem'd from {SETUP_THREADS} threads): "
        f"{setup_seconds:.1f} s; the one export against the live emulator: {live_seconds:.1f} s "
        f"({live_seconds / ROWS * 1000:.1f} ms per item, nearly all moto serializing Scan answers); "
        f"rounds: {rounds_seconds:.1f} s; memory runs: {memory_seconds:.1f} s"
    )
    print(f"baseline: raw scan paginator + TypeDeserializer + csv.writer:      median {ms(base)}")
    print(f"work: dynamo.scan_all -> csv_io.export_lines (the view's path):    median {ms(medians['export'])}")
    print(f"work: the export view through the test Client (streaming_content): median {ms(medians['view'])}")
    print(f"ratio export / baseline: {ratio:.2f}x; view / baseline: {view_ratio:.2f}x (medians)")
    print(f"goal check: ratio under {GOAL_RATIO}: {yes(ratio < GOAL_RATIO)} (export), {yes(view_ratio < GOAL_RATIO)} (view)")
    print(f"AWS calls per export: {calls_text(counted['export'])}")
    print(f"AWS calls per view:   {calls_text(counted['view'])}")
    print(f"AWS calls per baseline: {calls_text(counted['baseline'])}")
    print("peak Python memory growth (tracemalloc, peak during minus before):")
    print(f"  export, {small_rows:,} rows (the first {SMALL_PAGES} Scan pages): {mb(memory['export_small'])}")
    print(f"  export, {ROWS:,} rows: {mb(memory['export'])}")
    print(f"  view,   {ROWS:,} rows: {mb(memory['view'])}")
    print(f"  baseline, {ROWS:,} rows: {mb(memory['baseline'])}")
    under = max(memory["export"], memory["view"]) < GOAL_MEMORY_MB * MB
    print(
        f"goal check: export peak growth under {GOAL_MEMORY_MB} MB: {yes(under)}; "
        f"flat in rows ({ROWS:,}-row peak under {FLAT_MEMORY_FACTOR}x the {small_rows:,}-row one): {yes(flat)}"
    )


def replay_proxy(config: dict[str, Any]) -> Proxy:
    """The replay proxy (see start_proxy) between the emulator and the console."""

    def start(upstream: str) -> tuple[str, Callable[[], None]]:
        process, url = start_proxy(upstream, config)
        return url, lambda: stop_process(process)

    return start


def main() -> None:
    proxy = replay_proxy({"alias": {SMALL_TABLE: TABLE}, "truncate": {SMALL_TABLE: SMALL_PAGES}})
    with django_on_emulator("bench-data-export-", proxy=proxy) as run_on:
        run(run_on.endpoint_url, run_on.emulator_url)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--proxy"]:
        serve_proxy(sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]))
    else:
        main()
