"""The one `Warehouse` interface. Backends: DuckDB (embedded default) now, BigQuery next."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from warehouse.schema import RAW_TABLES


class WarehouseError(RuntimeError):
    pass


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


class Warehouse(Protocol):
    def ensure_raw(self) -> None:
        """Create the raw schema, tables and manifest if missing (idempotent)."""
        ...

    def open_batch(self, key: BatchKey, params: Mapping[str, Any]) -> BatchWriter: ...

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def check_table(table: str) -> None:
    if table not in RAW_TABLES:
        raise WarehouseError(f"unknown raw table {table!r}; known: {sorted(RAW_TABLES)}")


def stamp(rows: Iterable[Mapping[str, Any]], batch: Batch) -> list[dict[str, Any]]:
    """Rows with the batch's workspace, account and batch ids set (the extractor never sets them itself)."""
    k = batch.key
    return [{**r, "workspace_id": k.workspace_id, "account_id": k.account_id, "batch_id": batch.batch_id} for r in rows]
