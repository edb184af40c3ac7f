"""Log events for the demo branch's functions: a few hundred lines each, in two streams,
shaped like Lambda's (START, the function's INFO/WARN/ERROR lines, END, REPORT), over the
last hour. Idempotent: a function whose log group has events already is left alone."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from apps.branches.models import Branch
from apps.functions import cloudwatch, selectors
from apps.functions.lambdas import log_group_of
from console.aws_errors import AwsError

DEMO_LOGS_SEED = 21
INVOCATIONS = 60  # per function; 5 lines each
_MESSAGES = {
    "sayHello": [
        ("INFO", "Saying hello to {who}"),
        ("INFO", "Greeting sent to {who} in {ms} ms"),
        ("WARN", "Slow greeting for {who}: {ms} ms"),
        ("ERROR", "Could not greet {who}: API_KEY was rejected (401)"),
    ],
    "todoCleanup": [
        ("INFO", "Scanning todos older than 30 days"),
        ("INFO", "Removed {n} finished todos of {who}"),
        ("WARN", "Todo list of {who} is large ({n} items); cleanup split in pages"),
        ("ERROR", "Cleanup of {who} failed: ConditionalCheckFailedException"),
    ],
}
_PEOPLE = ["ana", "ben", "chloe", "dev", "emma", "farid"]


def demo_events(friendly_name: str, *, start_ms: int, rng: random.Random) -> list[tuple[int, str]]:
    messages = _MESSAGES.get(friendly_name, _MESSAGES["sayHello"])
    events: list[tuple[int, str]] = []
    at = start_ms
    for _ in range(INVOCATIONS):
        at += rng.randint(20_000, 55_000)
        request = str(uuid.UUID(int=rng.getrandbits(128)))
        level, text = messages[0] if rng.random() < 0.5 else rng.choice(messages)
        ms = rng.randint(3, 900)
        line = text.format(who=rng.choice(_PEOPLE), ms=ms, n=rng.randint(1, 400))
        events += [
            (at, f"START RequestId: {request} Version: $LATEST"),
            (at + 1, f"{_iso(at + 1)}\t{request}\t{level}\t{line}"),
            (at + 2, f"{_iso(at + 2)}\t{request}\tINFO\tdone"),
            (at + ms, f"END RequestId: {request}"),
            (at + ms, f"REPORT RequestId: {request}\tDuration: {ms}.00 ms\tBilled Duration: {ms + 1} ms\tMax Memory Used: 71 MB"),
        ]
    return events


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def seed_demo_logs(branch: Branch, say: Callable[[str], None]) -> None:
    """Events for each function of the branch's stack whose log group has none yet."""
    try:
        functions = selectors.stack_functions(branch)
    except (selectors.NoStack, AwsError) as error:
        say(f"no demo logs for {branch.name}: {error}")
        return
    rng = random.Random(DEMO_LOGS_SEED)  # noqa: S311 (demo lines, fixed on purpose)
    start_ms = int(time.time() * 1000) - 3_600_000
    for function in functions:
        group = log_group_of(function.name)
        try:
            if cloudwatch.filter_events(group, limit=1).events:
                continue
            friendly = next((name for name in _MESSAGES if function.logical_id.startswith(name)), function.logical_id)
            events = demo_events(friendly, start_ms=start_ms, rng=rng)
            half = len(events) // 2
            day = time.strftime("%Y/%m/%d", time.gmtime(start_ms / 1000))
            for part in (events[:half], events[half:]):
                stream = f"{day}/[$LATEST]{uuid.UUID(int=rng.getrandbits(128)).hex}"
                cloudwatch.ensure_stream(group, stream)
                cloudwatch.put_events(group, stream, part)
            say(f"demo logs: {len(events)} events written to {group} (2 streams)")
        except AwsError as error:
            say(f"no demo logs for {function.name}: {error}")
