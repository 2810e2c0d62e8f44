"""The one `Warehouse` interface and its two backends' shared parts.

Backends: `DuckDBWarehouse` (embedded default) and `BigQueryWarehouse` (production). The same contract test suite
(tests/warehouse/) runs against both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol

from warehouse.errors import WarehouseError
from warehouse.schema import RAW_TABLES, Table
from warehouse.sql import check_identifier

__all__ = ["Batch", "BatchKey", "BatchWriter", "TableInfo", "Warehouse", "WarehouseError", "check_table", "stamp"]


@dataclass(frozen=True)
class BatchKey:
    """The slice a batch covers. A later complete batch for the same slice supersedes this one."""

    workspace_id: str
    account_id: str
    report: str  # "entities", or an insights report such as "ad_daily"
    date_start: date | None = None
    date_end: date | None = None

    def __post_init__(self) -> None:
        if (self.date_start is None) != (self.date_end is None):
            raise ValueError("a batch has both date_start and date_end, or neither")
        if self.date_start and self.date_end and self.date_start > self.date_end:
            raise ValueError(f"batch window is reversed: {self.date_start} > {self.date_end}")


@dataclass
class Batch:
    key: BatchKey
    params: Mapping[str, Any]
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    row_counts: dict[str, int] = field(default_factory=dict)

    def manifest_row(self, completed_at: datetime) -> dict[str, Any]:
        return {
            "workspace_id": self.key.workspace_id,
            "batch_id": self.batch_id,
            "account_id": self.key.account_id,
            "report": self.key.report,
            "date_start": self.key.date_start,
            "date_end": self.key.date_end,
            "row_count": sum(self.row_counts.values()),
            "tables": json.dumps(self.row_counts, sort_keys=True),
            "params": json.dumps(self.params, sort_keys=True, default=str),
            "started_at": self.started_at,
            "completed_at": completed_at,
        }


class BatchWriter(Protocol):
    batch: Batch

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Add rows to the batch (streamed: call once per page). Invisible until commit()."""
        ...

    def commit(self) -> Batch:
        """Write the manifest row: from now on the batch is visible and supersedes older ones for its slice."""
        ...


@dataclass(frozen=True)
class TableInfo:
    """A table or view found in the catalog. `schema` is the layer (`raw`, `marts`, ...): the DuckDB schema, or
    the BigQuery dataset without its prefix, so callers never see backend naming."""

    schema: str
    name: str
    kind: Literal["table", "view"] = "table"

    def __post_init__(self) -> None:
        check_identifier(self.schema, "schema name")
        check_identifier(self.name, "table name")
        if self.kind not in ("table", "view"):
            raise WarehouseError(f"table kind must be 'table' or 'view', not {self.kind!r}")


class Warehouse(Protocol):
    """What the pipeline needs from a warehouse. SQL is written once with BigQuery-style `@name` parameters and
    `table_ref()` for table names; values always travel as parameters."""

    def ensure_raw(self) -> None:
        """Create the layers, the raw tables and the manifest if missing; add columns new to the code (idempotent)."""
        ...

    def ensure_table(self, table: Table) -> None:
        """Create `table` (and its schema/dataset) if missing; add columns the code has and the warehouse lacks."""
        ...

    def open_batch(self, key: BatchKey, params: Mapping[str, Any]) -> BatchWriter:
        """A writer for one batch. Its rows become visible only through its manifest row: written at commit()
        on DuckDB, loaded after the rows at the next flush() (or close()) on BigQuery."""
        ...

    def flush(self) -> None:
        """Make every committed batch durable and visible (BigQuery: the load jobs; DuckDB: nothing to do)."""
        ...

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts. `labels` tag the BigQuery job (cost attribution); DuckDB ignores them."""
        ...

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> int:
        """Run DML or DDL; the number of rows affected (0 for DDL)."""
        ...

    def table_ref(self, schema: str, table: str) -> str:
        """The SQL name of a table of layer `schema`: `raw.meta_insights` on DuckDB,
        `` `project.prefix_raw.meta_insights` `` on BigQuery. Both names are checked identifiers."""
        ...

    def tables_with_column(self, column: str) -> list[TableInfo]:
        """Every table and view of every layer that has `column`, from the catalog (not a hand-kept list)."""
        ...

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """(name, SQL type) of each column of a table or view of layer `schema`, in the table's order, from the
        warehouse's own catalog (what dbt built, not what a YAML file says); [] when there is no such table."""
        ...

    def count_rows(self, table: TableInfo, workspace_id: str) -> int:
        """Rows of `table` (table or view) that belong to `workspace_id`."""
        ...

    def delete_rows(self, table: TableInfo, workspace_id: str) -> int:
        """Delete the workspace's rows from a table; views hold no rows of their own and are skipped (0)."""
        ...

    def drop_access_schema(self, workspace_id: str) -> bool:
        """Drop the workspace's access-layer schema / dataset (warehouse/access.py) and its views; True if it was
        there. The retention sweep calls it: the views' SQL names the workspace."""
        ...

    def compact(self) -> bool:
        """Rewrite storage so that deleted rows are gone from it (DuckDB: the file is rebuilt); True if rewritten.
        BigQuery: nothing to do (time travel and fail-safe expire them)."""
        ...

    def append_rows(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert rows into a table the pipeline owns (an ops table), visible at once; the number inserted."""
        ...

    def replace_rows(self, table: Table, key_columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int:
        """Atomically delete every row whose key matches one of `rows`' keys, then insert `rows`."""
        ...

    def close(self) -> None:
        """Flush, then release the connection or client."""
        ...

    def __enter__(self) -> Warehouse: ...

    def __exit__(self, *exc: object) -> None: ...


def check_table(table: str) -> Table:
    spec = RAW_TABLES.get(table)
    if spec is None:
        raise WarehouseError(f"unknown raw table {table!r}; known: {sorted(RAW_TABLES)}")
    return spec


def stamp(rows: Iterable[Mapping[str, Any]], batch: Batch) -> list[dict[str, Any]]:
    """Rows with the batch's workspace, account and batch ids set (the extractor never sets them itself)."""
    k = batch.key
    return [{**r, "workspace_id": k.workspace_id, "account_id": k.account_id, "batch_id": batch.batch_id} for r in rows]


def check_key_columns(table: Table, key_columns: Sequence[str]) -> list[str]:
    keys = list(key_columns)
    if not keys:
        raise WarehouseError(f"replace_rows on {table.name} needs at least one key column")
    unknown = [k for k in keys if k not in table.column_names]
    if unknown:
        raise WarehouseError(f"key columns {unknown} are not columns of {table.name}: {table.column_names}")
    return keys


def check_rows(table: Table, rows: Sequence[Mapping[str, Any]], key_columns: Sequence[str] = ()) -> None:
    """Rows may only carry the table's columns (a misspelt column would otherwise vanish silently), and keys
    must be set (NULL never matches NULL, so a NULL key could never be replaced)."""
    allowed = set(table.column_names)
    for i, row in enumerate(rows):
        if not allowed.issuperset(row):  # no set per row: the check runs on every row written
            raise WarehouseError(f"row {i} for {table.name} has unknown columns {sorted(set(row) - allowed)}")
        missing_keys = [k for k in key_columns if row.get(k) is None]
        if missing_keys:
            raise WarehouseError(f"row {i} for {table.name} has no value for key column(s) {missing_keys}")
