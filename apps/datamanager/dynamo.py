"""A model's DynamoDB table: finding it, paging through it, and writing records the
way the AppSync resolvers do. The only module here that talks to DynamoDB.

Paging: a page of N records is read with Scan calls of a bounded Limit; when a call
returns more matches than the page needs, the page ends at its N-th record and the
next page starts right after that record's key (ExclusiveStartKey may be any item's
key). So pages never skip or repeat records, with or without a filter. Cursors leave
the server signed, since a forged ExclusiveStartKey could read from anywhere.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from django.core import signing

from apps.datamanager.schema import Model
from console.aws import aws_client
from console.aws_errors import AwsError, AwsNotFound, aws_errors

SCAN_BATCH = 200
BATCH_WRITE_SIZE = 25  # DynamoDB's limit per BatchWriteItem
BATCH_RETRIES = 8
_CURSOR_SALT = "datamanager.cursor"
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()
FILTER_OPERATORS = {"equals": "=", "contains": "contains", "begins_with": "begins_with"}


class TableMissing(Exception):
    pass


class RecordConflict(Exception):
    """The record changed (or appeared, or went) since it was loaded."""


class BadCursor(Exception):
    pass


def to_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def now_iso() -> str:
    """AppSync's `$util.time.nowISO8601()`: UTC with milliseconds and Z."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Table:
    name: str
    region: str
    hash_key: str
    range_key: str = ""  # "a#b" for a composite sort key of several fields
    item_count: int = 0  # DynamoDB's estimate, refreshed about every six hours
    # (index name, its hash key) of the global secondary indexes: a hasMany's children are
    # counted with a Query when one is keyed by the field that points at the parent.
    indexes: tuple[tuple[str, str], ...] = ()

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.key_names if name in item}


def describe_table(name: str, region: str) -> Table | None:
    try:
        with aws_errors("dynamodb:DescribeTable"):
            description = aws_client("dynamodb", region=region).describe_table(TableName=name)["Table"]
    except AwsNotFound:
        return None
    keys = {k["KeyType"]: k["AttributeName"] for k in description.get("KeySchema", [])}
    return Table(
        name=name,
        region=region,
        hash_key=keys.get("HASH", "id"),
        range_key=keys.get("RANGE", ""),
        item_count=int(description.get("ItemCount", 0)),
        indexes=tuple(
            (str(index["IndexName"]), next((k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"), ""))
            for index in description.get("GlobalSecondaryIndexes", [])
        ),
    )


def table_name(model: Model, api_id: str) -> str:
    return f"{model.name}-{api_id}-NONE"


def _tables_named_like(model: Model, region: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(model.name)}-[A-Za-z0-9]+-NONE$")
    with aws_errors("dynamodb:ListTables"):
        pages = aws_client("dynamodb", region=region).get_paginator("list_tables").paginate()
        return [name for page in pages for name in page.get("TableNames", []) if pattern.match(name)]


def find_table(model: Model, api_id: str, region: str, stack_tables: Callable[[], list[str]] | None = None) -> Table:
    """`<Model>-<apiId>-NONE`, else a table of the branch stack named after the model;
    without an API id (a bare outputs file), the one table named `<Model>-*-NONE`."""
    if model.sql_table:
        raise TableMissing(f"{model.name} is stored in the SQL table {model.sql_table}, not in DynamoDB.")
    if not api_id and stack_tables is None:
        candidates = _tables_named_like(model, region)
        if len(candidates) > 1:
            raise TableMissing(
                f"Several tables could hold {model.name} ({', '.join(sorted(candidates)[:5])}); "
                "name the app and branch instead of an outputs file."
            )
        found = describe_table(candidates[0], region) if candidates else None
        if found is None:
            raise TableMissing(f"No DynamoDB table named {model.name}-<apiId>-NONE in {region}.")
        return found
    expected = table_name(model, api_id)
    table = describe_table(expected, region)
    if table is not None:
        return table
    for candidate in stack_tables() if stack_tables else []:
        if candidate.startswith(f"{model.name}-"):
            table = describe_table(candidate, region)
            if table is not None:
                return table
    raise TableMissing(
        f"No DynamoDB table for {model.name}: {expected} does not exist in {region}"
        f"{' and the branch stack has no table for it' if stack_tables else ''}. "
        "Deploy the branch's backend (or check the region) and reload."
    )


def encode_cursor(table: Table, key: dict[str, Any]) -> str:
    return signing.dumps({"t": table.name, "k": {k: _serializer.serialize(v) for k, v in key.items()}}, salt=_CURSOR_SALT)


def decode_cursor(table: Table, cursor: str) -> dict[str, Any]:
    try:
        data = signing.loads(cursor, salt=_CURSOR_SALT)
    except signing.BadSignature:
        raise BadCursor("That page link is not valid any more; start from the first page.") from None
    if not isinstance(data, dict) or data.get("t") != table.name or set(data.get("k", {})) != set(table.key_names):
        raise BadCursor("That page link belongs to another table; start from the first page.")
    return dict(data["k"])


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str  # a key of FILTER_OPERATORS
    value: Any

    def expression(self) -> dict[str, Any]:
        names, values = {"#f": self.field}, {":v": _serializer.serialize(self.value)}
        operator = FILTER_OPERATORS[self.operator]
        expression = "#f = :v" if operator == "=" else f"{operator}(#f, :v)"
        return {"FilterExpression": expression, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    def as_json(self) -> dict[str, Any]:
        """For a task's arguments: the value in DynamoDB's typed form, which JSON keeps exact."""
        return {"field": self.field, "operator": self.operator, "value": _serializer.serialize(self.value)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Filter:
        return cls(field=data["field"], operator=data["operator"], value=_deserializer.deserialize(data["value"]))


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str = ""
    scanned: int = 0
    calls: int = 0


def scan_page(table: Table, *, size: int, cursor: str = "", where: Filter | None = None) -> Page:
    """One page of up to `size` records (see the module docstring for why it is exact)."""
    client = aws_client("dynamodb", region=table.region)
    request: dict[str, Any] = {"TableName": table.name, **(where.expression() if where else {})}
    start = decode_cursor(table, cursor) if cursor else None
    page = Page(items=[])
    with aws_errors("dynamodb:Scan"):
        while len(page.items) < size:
            # One record more than the page holds: DynamoDB answers a LastEvaluatedKey whenever
            # Limit items came back, so asking for exactly the rest would offer a Next link to an
            # empty page when the table ends with this page.
            limit = max(size - len(page.items), SCAN_BATCH) if where else size - len(page.items) + 1
            response = client.scan(**request, Limit=limit, **({"ExclusiveStartKey": start} if start else {}))
            page.calls += 1
            page.scanned += int(response.get("ScannedCount", 0))
            found = response.get("Items", [])
            room = size - len(page.items)
            if len(found) > room:
                page.items.extend(found[:room])
                page.next_cursor = encode_cursor(table, from_dynamo(table.key_of(found[room - 1])))
                break
            page.items.extend(found)
            start = response.get("LastEvaluatedKey")
            if not start:
                break
            if len(page.items) == size:
                page.next_cursor = encode_cursor(table, from_dynamo(start))
    page.items = [from_dynamo(item) for item in page.items]
    return page


def scan_all(table: Table, *, where: Filter | None = None, select: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every record, page by page (exports): memory holds one DynamoDB page at a time."""
    request: dict[str, Any] = {"TableName": table.name, **(where.expression() if where else {})}
    if select:
        names = {f"#p{i}": name for i, name in enumerate(select)}
        request["ProjectionExpression"] = ", ".join(names)
        request["ExpressionAttributeNames"] = {**request.get("ExpressionAttributeNames", {}), **names}
    with aws_errors("dynamodb:Scan"):
        for response in aws_client("dynamodb", region=table.region).get_paginator("scan").paginate(**request):
            for item in response.get("Items", []):
                yield from_dynamo(item)


def exact_count(table: Table, *, where: Filter | None = None) -> int:
    request: dict[str, Any] = {"TableName": table.name, "Select": "COUNT", **(where.expression() if where else {})}
    with aws_errors("dynamodb:Scan"):
        pages = aws_client("dynamodb", region=table.region).get_paginator("scan").paginate(**request)
        return sum(int(page.get("Count", 0)) for page in pages)


def get_item(table: Table, key: dict[str, Any]) -> dict[str, Any] | None:
    with aws_errors("dynamodb:GetItem"):
        response = aws_client("dynamodb", region=table.region).get_item(
            TableName=table.name, Key=to_dynamo(key), ConsistentRead=True
        )
    item = response.get("Item")
    return from_dynamo(item) if item else None


def stamp_new(model: Model, table: Table, item: dict[str, Any]) -> dict[str, Any]:
    """What the AppSync create resolver adds: an id when blank, timestamps, __typename,
    and the composite sort key attribute (`a#b` = "va#vb") when the table has one."""
    stamped = dict(item)
    if model.primary_key == "id" and not stamped.get("id"):
        stamped["id"] = str(uuid.uuid4())
    now = now_iso()
    stamped.setdefault("createdAt", now)
    stamped["updatedAt"] = stamped.get("updatedAt") or now
    stamped["__typename"] = model.name
    return with_composite_key(table, stamped)


def with_composite_key(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    if table.range_key and "#" in table.range_key:
        parts = table.range_key.split("#")
        if all(item.get(p) not in (None, "") for p in parts):
            item[table.range_key] = "#".join(str(item[p]) for p in parts)
    return item


def put_new(table: Table, item: dict[str, Any]) -> None:
    """Create; refuses to overwrite a record with the same key."""
    client = aws_client("dynamodb", region=table.region)
    try:
        with aws_errors("dynamodb:PutItem"):
            client.put_item(
                TableName=table.name,
                Item=to_dynamo(item),
                ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": table.hash_key},
            )
    except AwsError as error:
        if "ConditionalCheckFailed" in str(error) or "conditional request failed" in str(error).lower():
            raise RecordConflict("A record with this key already exists.") from None
        raise


def replace(table: Table, item: dict[str, Any], *, loaded_updated_at: str | None) -> None:
    """Save an edit only if the record is as it was loaded (its updatedAt unchanged)."""
    client = aws_client("dynamodb", region=table.region)
    if loaded_updated_at:
        condition = {"ConditionExpression": "#u = :loaded", "ExpressionAttributeValues": {":loaded": {"S": loaded_updated_at}}}
    else:
        condition = {"ConditionExpression": "attribute_exists(#k) AND attribute_not_exists(#u)"}
    names = {"#u": "updatedAt"} | ({"#k": table.hash_key} if not loaded_updated_at else {})
    try:
        with aws_errors("dynamodb:PutItem"):
            client.put_item(TableName=table.name, Item=to_dynamo(item), ExpressionAttributeNames=names, **condition)
    except AwsError as error:
        if "ConditionalCheckFailed" in str(error) or "conditional request failed" in str(error).lower():
            raise RecordConflict(
                "Someone changed or deleted this record since you opened it; reload it to see the current values."
            ) from None
        raise


def update_field(table: Table, key: dict[str, Any], name: str, value: Any, *, loaded_updated_at: str | None) -> dict[str, Any]:
    """Set (or, for None, remove) one attribute and updatedAt in one UpdateItem, only if the
    record is as it was loaded; the record as it now is (UpdateItem returns it)."""
    updated_at = now_iso()
    names = {"#f": name, "#u": "updatedAt", "#k": table.hash_key}
    values: dict[str, Any] = {":now": {"S": updated_at}}
    expression = "SET #u = :now" + (", #f = :v" if value is not None else " REMOVE #f")
    if value is not None:
        values[":v"] = _serializer.serialize(value)
    if loaded_updated_at:
        condition = "attribute_exists(#k) AND #u = :loaded"
        values[":loaded"] = {"S": loaded_updated_at}
    else:
        condition = "attribute_exists(#k) AND attribute_not_exists(#u)"
    try:
        with aws_errors("dynamodb:UpdateItem"):
            response = aws_client("dynamodb", region=table.region).update_item(
                TableName=table.name,
                Key=to_dynamo(key),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
    except AwsError as error:
        if "ConditionalCheckFailed" in str(error) or "conditional request failed" in str(error).lower():
            raise RecordConflict("Someone changed or deleted this record since the page was loaded.") from None
        raise
    return from_dynamo(response.get("Attributes", {}))


@dataclass(frozen=True)
class ChildCount:
    count: int
    complete: bool  # False: the scan stopped at its limit, there may be more
    method: str  # "query" (an index keyed by the field) or "scan"


def count_matching(table: Table, field: str, value: Any, *, scan_limit: int) -> ChildCount:
    """How many records have `field` = value: a Query on a global secondary index keyed by
    the field when the table has one, else a Scan that stops after `scan_limit` items read."""
    client = aws_client("dynamodb", region=table.region)
    index = next((name for name, hash_key in table.indexes if hash_key == field), "")
    names, values = {"#f": field}, {":v": _serializer.serialize(value)}
    if index:
        request = {"TableName": table.name, "IndexName": index, "KeyConditionExpression": "#f = :v"}
        with aws_errors("dynamodb:Query"):
            pages = client.get_paginator("query").paginate(
                **request, Select="COUNT", ExpressionAttributeNames=names, ExpressionAttributeValues=values
            )
            return ChildCount(count=sum(int(page.get("Count", 0)) for page in pages), complete=True, method="query")
    count, scanned, start = 0, 0, None
    with aws_errors("dynamodb:Scan"):
        while scanned < scan_limit:
            response = client.scan(
                TableName=table.name,
                Select="COUNT",
                FilterExpression="#f = :v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                Limit=min(SCAN_BATCH * 5, scan_limit - scanned),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            count += int(response.get("Count", 0))
            scanned += int(response.get("ScannedCount", 0))
            start = response.get("LastEvaluatedKey")
            if not start:
                return ChildCount(count=count, complete=True, method="scan")
    return ChildCount(count=count, complete=False, method="scan")


@dataclass
class BatchResult:
    written: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # items (puts) or keys (deletes) not written
    error: str = ""


def _batch(table: Table, requests: list[dict[str, Any]], sleep: Callable[[float], None]) -> BatchResult:
    """BatchWriteItem in 25s, retrying unprocessed items with backoff; what still fails
    after the retries is reported, never dropped silently."""
    client = aws_client("dynamodb", region=table.region)
    result = BatchResult()
    for start in range(0, len(requests), BATCH_WRITE_SIZE):
        pending = requests[start : start + BATCH_WRITE_SIZE]
        for attempt in range(BATCH_RETRIES):
            try:
                with aws_errors("dynamodb:BatchWriteItem"):
                    response = client.batch_write_item(RequestItems={table.name: pending})
            except AwsError as error:
                result.error = str(error)
                break
            unprocessed = response.get("UnprocessedItems", {}).get(table.name, [])
            result.written += len(pending) - len(unprocessed)
            pending = unprocessed
            if not pending:
                break
            sleep(min(0.05 * 2**attempt, 2.0))
        for request in pending:
            body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
            result.failed.append(from_dynamo(body))
    return result


def batch_put(table: Table, items: list[dict[str, Any]], *, sleep: Callable[[float], None] = time.sleep) -> BatchResult:
    return _batch(table, [{"PutRequest": {"Item": to_dynamo(i)}} for i in items], sleep)


def batch_delete(table: Table, keys: list[dict[str, Any]], *, sleep: Callable[[float], None] = time.sleep) -> BatchResult:
    return _batch(table, [{"DeleteRequest": {"Key": to_dynamo(k)}} for k in keys], sleep)
