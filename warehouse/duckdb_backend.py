"""DuckDB backend: the embedded default warehouse (one file under SENTRUM_HOME)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.base import Batch, BatchKey, WarehouseError, check_table, stamp
from warehouse.schema import ALL_TABLES, MANIFEST, RAW_TABLES


class DuckDBBatchWriter:
    def __init__(self, warehouse: DuckDBWarehouse, batch: Batch) -> None:
        self._wh = warehouse
        self.batch = batch
        self._committed = False

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if self._committed:
            raise WarehouseError(f"batch {self.batch.batch_id} is already committed")
        check_table(table)
        if not rows:
            return
        self._wh._insert(table, stamp(rows, self.batch))
        self.batch.row_counts[table] = self.batch.row_counts.get(table, 0) + len(rows)

    def commit(self) -> Batch:
        if self._committed:
            return self.batch
        self._wh._insert(MANIFEST.name, [self.batch.manifest_row(datetime.now(UTC))])
        self._committed = True
        return self.batch


class DuckDBWarehouse:
    """One DuckDB file. DuckDB admits a single writing process, so open it for a unit of work and close it
    before another process (dbt) needs the file."""

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseError(f"cannot open the DuckDB warehouse {self.path}: {exc}") from exc
        # One connection shared by extraction threads; DuckDB connections are not safe for concurrent use.
        self._lock = threading.Lock()

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def ensure_raw(self) -> None:
        with self._lock:
            for schema in sorted({t.schema for t in ALL_TABLES.values()}):
                self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            for table in ALL_TABLES.values():
                self._con.execute(table.duckdb_ddl())

    def open_batch(self, key: BatchKey, params: Mapping[str, Any]) -> DuckDBBatchWriter:
        return DuckDBBatchWriter(self, Batch(key=key, params=params))

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        spec = ALL_TABLES[table]
        names = spec.column_names
        arrow = pa.Table.from_pylist(rows, schema=spec.arrow_schema()).select(names)
        with self._lock:
            self._con.register("_sentrum_rows", arrow)
            try:
                cols = ", ".join(names)
                self._con.execute(f"INSERT INTO {spec.schema}.{table} ({cols}) SELECT {cols} FROM _sentrum_rows")
            finally:
                self._con.unregister("_sentrum_rows")

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._con.execute(sql, dict(params) if params else None)
            cols = [d[0] for d in cur.description] if cur.description else []
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


__all__ = ["DuckDBWarehouse", "DuckDBBatchWriter", "RAW_TABLES"]
