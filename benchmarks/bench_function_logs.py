"""A function's logs on a big group: the first page of a group with 100,000 events.

Work: GET of the function's logs page (`apps.functions.views.function_logs`, 100 events a
page) through Django's test Client as a signed-in viewer: middleware, session, the branch,
the check that the function is the branch's (ListStackResources of the root stack and its
nested stack), one FilterLogEvents call (limit 100), the Next link and the template. Also
with a filter pattern (`ERROR`, a third of the events).
Baseline, interleaved: a raw boto3 `filter_log_events` page of the same group with the same
limit (and pattern).

Setup, in a temporary directory removed at the end: a fresh SQLite database, a moto server
(console.emulator, with its CloudWatch filter patterns), an app (`app_create`, a local bare
repository) whose main branch's stack holds a nested stack with one function, and its log
group filled with 100,000 events by PutLogEvents (10,000 a call). Prints medians, the ratio,
the goal check (under 1.3x), the AWS calls of each and the peak Python memory (tracemalloc)
of one page render.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator_support import CallCounter, calls_text, django_on_emulator, make_repository, ms, peak_growth, timed

from apps.functions.tests.stacks import function_resources

REGION = "us-east-1"
EVENTS = 100_000
ROUNDS = 15
GOAL = 1.3
ASSETS = "bench-function-assets"
FUNCTION = "bench-sayHello"


def deploy(client: Callable[[str], Any], stack: str) -> None:
    """The branch stack -> a nested stack -> one function (and its role)."""
    s3 = client("s3")
    s3.create_bucket(Bucket=ASSETS)
    nested = {"Resources": function_resources("sayHellolambda", FUNCTION, None, {})}
    s3.put_object(Bucket=ASSETS, Key="function.json", Body=json.dumps(nested).encode())
    url = f"https://{ASSETS}.s3.amazonaws.com/function.json"
    root = {"Resources": {"function1351588B": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}}}
    client("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps(root))


def fill(logs: Any, group: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/01/01/[$LATEST]bench")
    start = int(time.time() * 1000) - EVENTS - 3_600_000
    for first in range(0, EVENTS, 10_000):
        batch = [
            {"timestamp": start + n, "message": f"{'ERROR' if n % 3 == 0 else 'INFO'}\trequest {n:06d}\tdone in {n % 900} ms"}
            for n in range(first, first + 10_000)
        ]
        logs.put_log_events(logGroupName=group, logStreamName="2026/01/01/[$LATEST]bench", logEvents=batch)


def run(tmp: Path, endpoint_url: str) -> None:
    import boto3
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from apps.branches.services import app_create
    from console.aws import aws_client
    from console.roles import Role, set_role

    call_command("migrate", verbosity=0)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)  # noqa: S106

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    app = app_create(actor=None, name="bench", repository=str(make_repository(tmp)), production_branch="main")
    branch = app.branches.get(name="main")
    deploy(client, branch.backend_stack_name)
    raw = client("logs")
    group = f"/aws/lambda/{FUNCTION}"
    seed_start = time.perf_counter()
    fill(raw, group)
    print(f"setup: {EVENTS:,} events in {group} on the emulator in {time.perf_counter() - seed_start:.1f} s")

    viewer = get_user_model().objects.create_user(username="bench-viewer", password="unused-bench-password")  # noqa: S106
    set_role(viewer, Role.VIEWER)
    host = "testserver" if "testserver" in settings.ALLOWED_HOSTS else "localhost"
    browser = Client(HTTP_HOST=host)
    browser.force_login(viewer)
    page_url = reverse("function_logs", args=[app.app_id, branch.display_name, FUNCTION])

    def render(pattern: str) -> Callable[[], bytes]:
        def go() -> bytes:
            response = browser.get(page_url, {"filter": pattern} if pattern else {})
            assert response.status_code == 200, response.status_code
            return bytes(response.content)

        return go

    def raw_page(pattern: str) -> Callable[[], int]:
        def go() -> int:
            request: dict[str, Any] = {"logGroupName": group, "limit": 100}
            if pattern:
                request["filterPattern"] = pattern
            return len(raw.filter_log_events(**request)["events"])

        return go

    html = render("")()
    assert html.count(b'<pre class="log-message">') == 100, html.count(b'<pre class="log-message">')
    assert b'rel="next">Next page' in html
    assert raw_page("")() == 100
    assert render("ERROR")().count(b'<pre class="log-message">ERROR') == 100
    console_calls = CallCounter(
        aws_client("logs", region=REGION), aws_client("cloudformation", region=REGION), aws_client("lambda", region=REGION)
    )
    raw_calls = CallCounter(raw)
    work: dict[str, tuple[Callable[[], Any], CallCounter]] = {
        "baseline": (raw_page(""), raw_calls),
        "page": (render(""), console_calls),
        "baseline_filter": (raw_page("ERROR"), raw_calls),
        "page_filter": (render("ERROR"), console_calls),
    }
    samples: dict[str, list[float]] = {label: [] for label in work}
    counted: dict[str, dict[str, int]] = {}
    for _ in range(ROUNDS):  # interleaved, so all see the same machine
        for label, (fn, counter) in work.items():
            counter.take()
            samples[label].append(timed(fn)[0])
            counted.setdefault(label, counter.take())
    peak, _ = peak_growth(render(""))
    medians = {label: statistics.median(values) for label, values in samples.items()}
    ratio = medians["page"] / medians["baseline"]
    ratio_filter = medians["page_filter"] / medians["baseline_filter"]
    print(f"\nfirst page of a {EVENTS:,}-event log group, {ROUNDS} rounds interleaved")
    print(f"baseline: raw filter_log_events page (limit 100):           median {ms(medians['baseline'])}")
    print(f"work: logs page GET (test Client, viewer, 100 events):      median {ms(medians['page'])}")
    print(f"ratio page / baseline: {ratio:.2f}x; goal under {GOAL}: {'yes' if ratio < GOAL else 'no'}")
    print(f"with filter ERROR: page {ms(medians['page_filter'])} vs raw {ms(medians['baseline_filter'])}: {ratio_filter:.2f}x")
    print(f"AWS calls per page: {calls_text(counted['page'])}; per baseline: {calls_text(counted['baseline'])}")
    print(f"peak Python memory of one page render (tracemalloc): {peak / 1024:.0f} KiB")


def main() -> None:
    with django_on_emulator("bench-function-logs-") as run_on:
        run(run_on.tmp, run_on.endpoint_url)


if __name__ == "__main__":
    main()
