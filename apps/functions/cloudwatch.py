"""CloudWatch Logs, in one place: a log group's streams and its events, one page a call.

A page view makes one call whatever the group's size; a download walks the pages
with nextToken as it streams, so no group is ever read whole into memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from console.aws import aws_client
from console.aws_errors import AwsError, AwsNotFound, aws_errors

MAX_EVENTS_PAGE = 10_000  # FilterLogEvents' own limit
MAX_STREAMS_PAGE = 50


class BadFilterPattern(AwsError):
    """CloudWatch refused the filter pattern; the message is its own."""


@dataclass(frozen=True)
class LogEvent:
    event_id: str
    timestamp: int  # ms since the epoch
    stream: str
    message: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)


@dataclass(frozen=True)
class EventsPage:
    events: list[LogEvent]
    next_token: str | None


@dataclass(frozen=True)
class LogStream:
    name: str
    first_event: datetime | None
    last_event: datetime | None
    stored_bytes: int | None


@dataclass(frozen=True)
class StreamsPage:
    streams: list[LogStream]
    next_token: str | None
    group_exists: bool = True


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def log_streams(group: str, *, limit: int = 20, token: str | None = None, region: str | None = None) -> StreamsPage:
    """The group's streams, the latest event first; an empty page when the group does not
    exist yet (Lambda creates it at the function's first run)."""
    request = {"logGroupName": group, "orderBy": "LastEventTime", "descending": True, "limit": min(limit, MAX_STREAMS_PAGE)}
    if token:
        request["nextToken"] = token
    try:
        with aws_errors("logs:DescribeLogStreams"):
            answer = aws_client("logs", region=region).describe_log_streams(**request)
    except AwsNotFound:
        return StreamsPage([], None, group_exists=False)
    streams = [
        LogStream(
            name=raw.get("logStreamName", ""),
            first_event=_when(raw.get("firstEventTimestamp")),
            last_event=_when(raw.get("lastEventTimestamp")),
            stored_bytes=raw.get("storedBytes"),
        )
        for raw in answer.get("logStreams", [])
    ]
    return StreamsPage(streams, answer.get("nextToken"))


def filter_events(
    group: str,
    *,
    pattern: str = "",
    start: int | None = None,
    end: int | None = None,
    limit: int = 100,
    token: str | None = None,
    region: str | None = None,
) -> EventsPage:
    """One FilterLogEvents page (oldest first). A group that does not exist has no events;
    a pattern CloudWatch refuses raises BadFilterPattern with its words."""
    request: dict[str, object] = {"logGroupName": group, "limit": max(1, min(limit, MAX_EVENTS_PAGE))}
    if pattern:
        request["filterPattern"] = pattern
    if start is not None:
        request["startTime"] = start
    if end is not None:
        request["endTime"] = end
    if token:
        request["nextToken"] = token
    try:
        with aws_errors("logs:FilterLogEvents"):
            answer = aws_client("logs", region=region).filter_log_events(**request)
    except AwsNotFound:
        return EventsPage([], None)
    except AwsError as error:
        if pattern and error.code == "InvalidParameterException":
            raise BadFilterPattern(
                f"CloudWatch refused the filter pattern {pattern!r}: {_message(error)}", code=error.code
            ) from error
        raise
    events = [
        LogEvent(
            event_id=str(raw.get("eventId", "")),
            timestamp=int(raw.get("timestamp", 0)),
            stream=raw.get("logStreamName", ""),
            message=raw.get("message", ""),
        )
        for raw in answer.get("events", [])
    ]
    # CloudWatch may answer an empty page with a token while it searches on: the token
    # is kept (a "Next page" that continues the search), as its own console does.
    return EventsPage(events, answer.get("nextToken") or None)


def _message(error: AwsError) -> str:
    cause = error.__cause__
    response = getattr(cause, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(error)


def all_events(
    group: str, *, pattern: str = "", start: int | None = None, end: int | None = None, region: str | None = None
) -> Iterator[LogEvent]:
    """Every matching event, page after page with nextToken, as they are read."""
    token: str | None = None
    while True:
        page = filter_events(group, pattern=pattern, start=start, end=end, limit=MAX_EVENTS_PAGE, token=token, region=region)
        yield from page.events
        if not page.next_token or page.next_token == token:
            return
        token = page.next_token


def ensure_stream(group: str, stream: str, *, region: str | None = None) -> None:
    """The group and its stream, created when missing (as Lambda creates them)."""
    client = aws_client("logs", region=region)
    for action, call, kwargs in (
        ("logs:CreateLogGroup", client.create_log_group, {"logGroupName": group}),
        ("logs:CreateLogStream", client.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
    ):
        try:
            with aws_errors(action):
                call(**kwargs)
        except AwsError as error:
            if error.code != "ResourceAlreadyExistsException":
                raise


def put_events(group: str, stream: str, events: list[tuple[int, str]], *, region: str | None = None) -> None:
    """(timestamp ms, message) pairs in time order, 1,000 a PutLogEvents call."""
    client = aws_client("logs", region=region)
    for first in range(0, len(events), 1000):
        batch = [{"timestamp": ts, "message": message} for ts, message in events[first : first + 1000]]
        with aws_errors("logs:PutLogEvents"):
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
