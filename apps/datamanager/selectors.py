"""What other apps may read of a branch's data: its schema and tables, and whether a
table holds records yet."""

from __future__ import annotations

from apps.datamanager import dynamo
from apps.datamanager.dynamo import Table
from apps.datamanager.dynamo import TableMissing as TableMissing
from apps.datamanager.schema import SchemaInvalid as SchemaInvalid
from apps.datamanager.sources import NoSchema as NoSchema
from apps.datamanager.sources import branch_data as branch_data


def table_has_records(table: Table) -> bool:
    """True once the table holds a record (one scan page of one item; TableMissing when it is absent)."""
    return bool(dynamo.scan_page(table, size=1).items)
