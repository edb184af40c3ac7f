"""The records grid against the records page as it was before it, in the same run.

Work: GET of a model's records page (`apps.datamanager.views.model_records`, now the grid:
columns from the person's layout, a row per record with truncated cells, a parent link per
belongsTo key, edit affordances) through Django's test Client as a signed-in operator, first
page of 25 records of a 13-field model (id, ten fields of most kinds incl. an enum, a list,
JSON, dates, long text and a belongsTo key, createdAt, updatedAt).
Baseline, interleaved: the same GET of the page before the grid (`grid_baseline.py`: main's
view at b80d5d4 and its template, kept under benchmarks/templates/bench/), and, as a reference,
the raw boto3 Scan of the same 25 records.

Both pages make the same DynamoDB reads (printed: the calls of one page each). Setup, in a
temporary directory removed at the end: a fresh SQLite database, a moto server, an app
whose branch's amplify_outputs.json holds the model (and a storage section), its table filled
with 300 records. Prints medians, the ratio, the goal check (at most 1.2x) and the peak Python
memory (tracemalloc) of one render of each page.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator_support import CallCounter, calls_text, django_on_emulator, make_repository, ms, peak_growth, timed

REGION = "us-east-1"
RECORDS = 300
ROUNDS = 30
GOAL = 1.2
API_ID = "benchgrid0000001"
STAMP = "2026-01-01T00:00:00.000Z"


def field(name: str, type_: str | dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "isArray": False, "type": type_, "isRequired": False, "attributes": [], **extra}


def introspection() -> dict[str, Any]:
    """Task: 13 stored fields; Project: its parent (a belongsTo by projectId)."""
    stamps = {n: field(n, "AWSDateTime", isReadOnly=True) for n in ("createdAt", "updatedAt")}
    task_fields = [
        field("id", "ID", isRequired=True),
        field("title", "String", isRequired=True),
        field("notes", "String"),
        field("status", {"enum": "Status"}),
        field("done", "Boolean"),
        field("priority", "Int"),
        field("due", "AWSDate"),
        field("remindAt", "AWSDateTime"),
        field("tags", "String", isArray=True),
        field("meta", "AWSJSON"),
        field("projectId", "ID"),
        field("project", {"model": "Project"}, association={"connectionType": "BELONGS_TO", "targetNames": ["projectId"]}),
    ]

    def model(name: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": name,
            "fields": {**{f["name"]: f for f in fields}, **stamps},
            "syncable": True,
            "pluralName": f"{name}s",
            "attributes": [{"type": "model", "properties": {}}],
            "primaryKeyInfo": {"isCustomPrimaryKey": False, "primaryKeyFieldName": "id", "sortKeyFieldNames": []},
        }

    return {
        "version": 1,
        "models": {
            "Task": model("Task", task_fields),
            "Project": model("Project", [field("id", "ID", isRequired=True), field("name", "String", isRequired=True)]),
        },
        "enums": {"Status": {"name": "Status", "values": ["planned", "active", "done"]}},
        "nonModels": {},
    }


def outputs() -> dict[str, Any]:
    return {
        "version": "1.4",
        "data": {
            "url": "https://example.appsync-api.us-east-1.amazonaws.com/graphql",
            "aws_region": REGION,
            "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
            "authorization_types": [],
            "model_introspection": introspection(),
        },
        "storage": {
            "aws_region": REGION,
            "bucket_name": "bench-grid-files",
            "buckets": [{"name": "files", "bucket_name": "bench-grid-files", "aws_region": REGION, "paths": {"media/*": {}}}],
        },
    }


def records() -> list[dict[str, Any]]:
    rng = random.Random(7)  # noqa: S311 (made-up records, the same every run)
    words = ["tide", "pier", "gauge", "reading", "east", "west", "harbour", "survey", "note", "field", "boat", "rope"]
    items = []
    for n in range(RECORDS):
        items.append(
            {
                "id": f"{n:08d}-1f0e-4c3b-9a57-{rng.getrandbits(48):012x}",
                "title": " ".join(rng.choices(words, k=4)).capitalize(),
                "notes": " ".join(rng.choices(words, k=rng.choice((5, 60)))),
                "status": rng.choice(["planned", "active", "done"]),
                "done": rng.random() < 0.5,
                "priority": rng.randint(1, 5),
                "due": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "remindAt": f"2026-03-{rng.randint(1, 28):02d}T09:30:00.000Z",
                "tags": rng.sample(words, k=rng.randint(0, 4)),
                "meta": json.dumps({"source": "bench", "n": n, "flags": [1, 2, 3]}),
                "projectId": f"project-{n % 8}",
                "createdAt": STAMP,
                "updatedAt": STAMP,
                "__typename": "Task",
            }
        )
    return items


def run(tmp: Path, endpoint_url: str) -> None:
    import boto3
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from apps.branches.services import app_create
    from console.aws import aws_client
    from console.roles import Role, set_role

    call_command("migrate", verbosity=0)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)  # noqa: S106
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    table = f"Task-{API_ID}-NONE"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    from apps.datamanager import dynamo

    items = records()
    for start in range(0, len(items), 25):
        chunk = [{"PutRequest": {"Item": dynamo.to_dynamo(i)}} for i in items[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: chunk})
    app = app_create(actor=None, name="bench", repository=str(make_repository(tmp)), production_branch="main")
    branch = app.branches.get(name="main")
    branch.backend_outputs = outputs()
    branch.save(update_fields=["backend_outputs"])
    operator = get_user_model().objects.create_user(username="bench-operator", password="unused-bench-password")  # noqa: S106
    set_role(operator, Role.OPERATOR)
    host = "testserver" if "testserver" in settings.ALLOWED_HOSTS else "localhost"
    browser = Client(HTTP_HOST=host)
    browser.force_login(operator)
    args = [app.app_id, branch.display_name, "Task"]
    templates = Path(__file__).resolve().parent / "templates"
    engine: dict[str, Any] = dict(settings.TEMPLATES[0])
    engines = [{**engine, "DIRS": [*engine["DIRS"], templates]}]
    with override_settings(ROOT_URLCONF="grid_baseline", TEMPLATES=engines):
        grid_url, before_url = reverse("data_model", args=args), reverse("bench_records", args=args)

        def page(url: str) -> Callable[[], bytes]:
            def go() -> bytes:
                response = browser.get(url)
                assert response.status_code == 200, response.status_code
                return bytes(response.content)

            return go

        def raw_scan() -> int:
            return len(dynamodb.scan(TableName=table, Limit=26)["Items"])

        grid_html, before_html = page(grid_url)(), page(before_url)()
        assert grid_html.count(b'<tr data-key="') == 25, grid_html.count(b'<tr data-key="')
        assert b'class="parent-link"' in grid_html
        assert before_html.count(b'name="keys" value="') == 25
        assert b'id="grid"' not in before_html
        console_calls = CallCounter(aws_client("dynamodb", region=REGION), aws_client("cloudformation", region=REGION))
        raw_calls = CallCounter(dynamodb)
        work: dict[str, tuple[Callable[[], Any], CallCounter]] = {
            "raw": (raw_scan, raw_calls),
            "before": (page(before_url), console_calls),
            "grid": (page(grid_url), console_calls),
        }
        samples: dict[str, list[float]] = {label: [] for label in work}
        counted: dict[str, dict[str, int]] = {}
        for _ in range(ROUNDS):  # interleaved, so all see the same machine
            for label, (fn, counter) in work.items():
                counter.take()
                samples[label].append(timed(fn)[0])
                counted.setdefault(label, counter.take())
        peaks = {label: peak_growth(work[label][0])[0] for label in ("before", "grid")}
    medians = {label: statistics.median(values) for label, values in samples.items()}
    ratio = medians["grid"] / medians["before"]
    print(f"\nfirst page (25 records) of a {RECORDS}-record table of a 13-field model, {ROUNDS} rounds interleaved")
    print(f"reference: raw Scan of 26 items:                         median {ms(medians['raw'])}")
    print(f"baseline: the records page before the grid (operator):  median {ms(medians['before'])}")
    print(f"work: the grid page (operator):                          median {ms(medians['grid'])}")
    print(f"ratio grid / before: {ratio:.2f}x; goal at most {GOAL}: {'yes' if ratio <= GOAL else 'no'}")
    print(f"AWS calls per page: grid {calls_text(counted['grid'])}; before {calls_text(counted['before'])}")
    print(f"page sizes: grid {len(grid_html):,} bytes, before {len(before_html):,} bytes")
    grid_kib, before_kib = peaks["grid"] / 1024, peaks["before"] / 1024
    print(f"peak Python memory of one render (tracemalloc): grid {grid_kib:.0f} KiB, before {before_kib:.0f} KiB")


def main() -> None:
    with django_on_emulator("bench-data-grid-") as run_on:
        run(run_on.tmp, run_on.endpoint_url)


if __name__ == "__main__":
    main()
