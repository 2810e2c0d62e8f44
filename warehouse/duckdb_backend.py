"""DuckDB backend: the embedded default warehouse (one file under SENTRUM_HOME)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.access import access_schema_name
from warehouse.base import Batch, BatchKey, TableInfo, WarehouseError, check_key_columns, check_rows, check_table
from warehouse.rows import arrow_rows
from warehouse.schema import ALL_TABLES, LAYERS, MANIFEST, RAW_TABLES, Table
from warehouse.sql import check_identifier, check_params, to_duckdb

# A batch's rows are committed in transactions of about this many rows: one commit per page made loading twice as
# slow (a WAL sync each), one per batch kept the whole batch in memory (bench/load/README.md).
COMMIT_ROWS = 200_000
# Pages are inserted many at a time: one INSERT per 500-row page spent half its time in per-statement work, while a
# large INSERT is scanned in parallel; ~200k rows (one INSERT, then a COMMIT) measured fastest (bench/load/README.md).
# Bounded per table and batch, so memory stays flat however many pages a batch has.
INSERT_ROWS = 200_000
# ... and in bytes (Arrow's), whichever comes first: an insights row with its nested action records weighs ~1 KB
# in Arrow (every decimal field of a record takes 16 bytes, null or not), so 200k of them would hold ~200 MB per batch.
# 16 MB: the process's peak RSS follows this size (inserting 32 MB chunks peaked ~2x higher than 8 MB ones) while
# CPU per row changed by ~5% between 8 and 32 MB (bench/load/README.md).
INSERT_BYTES = 16 * 1024 * 1024
# Inserts run on these threads while the caller normalises the next pages (DuckDB releases the GIL). Each batch has
# at most one insert in flight, so its statements stay in order on its cursor and memory stays bounded.
_INSERTS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="duckdb-insert")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DuckDBBatchWriter:
    """One batch on a connection of its own (a cursor), written in transactions of ~COMMIT_ROWS rows; the last
    one carries the manifest row. Rows committed before the manifest are invisible (staging reads through the
    manifest), so a batch that never commits leaves only invisible rows, as on BigQuery."""

    def __init__(self, warehouse: DuckDBWarehouse, batch: Batch) -> None:
        self._wh = warehouse
        self.batch = batch
        self._committed = False
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._uncommitted_rows = 0
        self._uncommitted_bytes = 0
        # per table: Arrow pages not yet inserted, their row count and bytes
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows: dict[str, int] = {}
        self._pending_bytes: dict[str, int] = {}
        self._inflight: Future[None] | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self._wh._open_cursor(self)
            self._con.execute("BEGIN TRANSACTION")
        return self._con

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if self._committed:
            raise WarehouseError(f"batch {self.batch.batch_id} is already committed")
        spec = check_table(table)
        if not rows:
            return
        # Converted (and type-checked) now; the batch ids are set by the INSERT, as constants.
        arrow = arrow_rows(spec, rows)
        with self._lock:
            self._pending.setdefault(table, []).append(arrow)
            self._pending_rows[table] = self._pending_rows.get(table, 0) + len(arrow)
            self._pending_bytes[table] = self._pending_bytes.get(table, 0) + arrow.nbytes
            if self._pending_rows[table] >= self._wh.insert_rows or self._pending_bytes[table] >= self._wh.insert_bytes:
                self._flush(table)
        self.batch.row_counts[table] = self.batch.row_counts.get(table, 0) + len(rows)

    def _flush(self, table: str) -> None:
        """Hand the table's pending pages to an insert thread, as one statement, after the batch's previous insert
        has finished (under self._lock). An error of the previous insert is raised here."""
        pages = self._pending.pop(table, [])
        self._pending_rows.pop(table, None)
        self._pending_bytes.pop(table, None)
        if not pages:
            return
        # read at flush, not cached: a caller may set batch.batch_id after open_batch (tests replaying known
        # batches do)
        k = self.batch.key
        stamp = {"workspace_id": k.workspace_id, "account_id": k.account_id, "batch_id": self.batch.batch_id}
        rows = pages[0] if len(pages) == 1 else pa.concat_tables(pages)
        con = self._connection()
        self._wait()
        self._inflight = _INSERTS.submit(self._insert, con, check_table(table), rows, stamp)

    def _insert(self, con: duckdb.DuckDBPyConnection, spec: Table, rows: pa.Table, stamp: dict[str, str]) -> None:
        """On an insert thread: the INSERT, then a COMMIT when enough rows are uncommitted."""
        self._wh._insert(spec, rows, con, stamp)
        self._uncommitted_rows += len(rows)
        self._uncommitted_bytes += rows.nbytes
        # DuckDB holds uncommitted rows in the transaction's own storage: committed by rows and by bytes alike
        if self._uncommitted_rows >= self._wh.commit_rows or self._uncommitted_bytes >= self._wh.insert_bytes:
            try:
                con.execute("COMMIT")
                con.execute("BEGIN TRANSACTION")
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB could not commit rows of batch {self.batch.batch_id}: {exc}") from exc
            self._uncommitted_rows = 0
            self._uncommitted_bytes = 0

    def _wait(self) -> None:
        """Wait for the batch's insert in flight; its error (a WarehouseError) is raised here."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def commit(self) -> Batch:
        if self._committed:
            return self.batch
        manifest = arrow_rows(MANIFEST, [self.batch.manifest_row(self._wh._clock())])
        with self._lock:
            for table in list(self._pending):
                self._flush(table)
            self._wait()
            con = self._connection()
            self._wh._insert(MANIFEST, manifest, con)
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB could not commit batch {self.batch.batch_id}: {exc}") from exc
            finally:
                self._wh._close_cursor(self)
                self._con = None
        self._committed = True
        return self.batch

    def _abandon(self) -> None:
        """The warehouse is closing under an uncommitted batch: roll it back (nothing of it was ever visible)."""
        with self._lock:
            # the batch is being thrown away: its insert's error no longer matters
            with contextlib.suppress(Exception):
                self._wait()
            if self._con is not None:
                try:
                    self._con.close()
                finally:
                    self._con = None


class DuckDBWarehouse:
    """One DuckDB file. DuckDB admits a single writing process, so open it for a unit of work and close it
    before another process (dbt) needs the file.

    `memory_limit` (DuckDB's syntax, e.g. '2GB'), `threads` and `temp_directory` (where DuckDB spills what does not
    fit) bound the process; None leaves DuckDB's default (80% of RAM, every core, `<file>.tmp`). A batch writer
    holds at most `insert_rows` rows or `insert_bytes` bytes per table before inserting them, and commits (invisibly:
    the manifest row comes last) every `commit_rows` rows or `insert_bytes` bytes."""

    def __init__(
        self,
        path: Path | str,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
        commit_rows: int = COMMIT_ROWS,
        insert_rows: int = INSERT_ROWS,
        insert_bytes: int = INSERT_BYTES,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: Path | str | None = None,
    ) -> None:
        self.path = Path(path)
        self.commit_rows = commit_rows
        self.insert_rows = insert_rows
        self.insert_bytes = insert_bytes
        # when batches start and complete (the manifest's timestamps); tests pin it to replay batches exactly
        self._clock = clock or (lambda: datetime.now(UTC))
        self.read_only = read_only
        created = not self.path.exists()
        if not read_only and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, mode=0o700)
            os.chmod(self.path.parent, 0o700)
        # Bounded memory (settings): a limit, threads, and a folder to spill to; compaction reopens with the same.
        self._config: dict[str, Any] = {}
        if memory_limit is not None:
            self._config["memory_limit"] = memory_limit
        if threads is not None:
            self._config["threads"] = threads
        if temp_directory is not None:
            Path(temp_directory).mkdir(parents=True, mode=0o700, exist_ok=True)
            self._config["temp_directory"] = str(temp_directory)
        self._con = self._connect()
        if created and not read_only and self.path.exists():
            os.chmod(self.path, 0o600)  # the warehouse holds customers' ad data: owner only
        # One connection shared by extraction threads for everything but batches (which get a cursor each);
        # a DuckDB connection is not safe for concurrent use.
        self._lock = threading.RLock()
        self._writers: set[DuckDBBatchWriter] = set()
        # Reserved words must be quoted to be used as names; everything else reads better bare.
        self._reserved = {
            r[0]
            for r in self._con.execute(
                "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
            ).fetchall()
        }

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path), read_only=self.read_only, config=self._config)
        except duckdb.Error as exc:  # a locked or unreadable file, or a setting DuckDB refuses
            raise WarehouseError(f"cannot open the DuckDB warehouse {self.path}: {exc}") from exc
        # no progress bar on stdout for long statements (a one-off fold, a large delete): this runs inside
        # extraction processes and Dagster steps
        con.execute("SET enable_progress_bar = false")
        return con

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            writer._abandon()
        self._con.close()

    def _open_cursor(self, writer: DuckDBBatchWriter) -> duckdb.DuckDBPyConnection:
        with self._lock:
            self._writers.add(writer)
            return self._con.cursor()

    def _close_cursor(self, writer: DuckDBBatchWriter) -> None:
        with self._lock:
            self._writers.discard(writer)
        if writer._con is not None:
            writer._con.close()

    def flush(self) -> None:
        """Nothing to do: every statement is durable when it returns."""

    # -- names ----------------------------------------------------------------------------------------------
    def _name(self, identifier: str) -> str:
        return f'"{identifier}"' if identifier.lower() in self._reserved else identifier

    def table_ref(self, schema: str, table: str) -> str:
        check_identifier(schema, "schema name")
        check_identifier(table, "table name")
        return f"{self._name(schema)}.{self._name(table)}"

    # -- DDL ------------------------------------------------------------------------------------------------
    def ensure_raw(self) -> None:
        with self._lock:
            # every layer exists from the start, as on BigQuery (dbt and the ops tables fill them)
            for layer in LAYERS:
                self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {self._name(layer)}")
        for table in ALL_TABLES.values():
            self.ensure_table(table)

    def ensure_table(self, table: Table) -> None:
        with self._lock:
            self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {self._name(table.schema)}")
            self._con.execute(table.duckdb_ddl(self._name))
            # Columns added to the code after the table was created (raw is append-only, so old rows get nulls).
            have = {
                r[0]
                for r in self._con.execute(
                    # duckdb_columns() rather than the information_schema view over it: half the cost, same rows
                    "select column_name from duckdb_columns() "
                    "where database_name = current_database() and schema_name = $schema and table_name = $table",
                    {"schema": table.schema, "table": table.name},
                ).fetchall()
            }
            for column, ddl_type in table.duckdb_columns(self._name):
                if column not in have:
                    self._con.execute(
                        f"ALTER TABLE {self.table_ref(table.schema, table.name)} "
                        f"ADD COLUMN {self._name(column)} {ddl_type}"
                    )

    # -- batches --------------------------------------------------------------------------------------------
    def open_batch(self, key: BatchKey, params: Mapping[str, Any]) -> DuckDBBatchWriter:
        return DuckDBBatchWriter(self, Batch(key=key, params=params, started_at=self._clock()))

    def _insert(
        self,
        table: Table,
        rows: pa.Table,
        con: duckdb.DuckDBPyConnection | None = None,
        stamp: Mapping[str, str] | None = None,
    ) -> None:
        """Insert Arrow rows; on `con` (a batch's own cursor) or, by default, on the shared connection. `stamp`:
        constant string columns set by the INSERT (bound parameters) instead of the rows' own."""
        stamp = stamp or {}
        cols = ", ".join(self._name(c) for c in table.column_names)
        values = ", ".join("?" if c in stamp else self._name(c) for c in table.column_names)
        params = [stamp[c] for c in table.column_names if c in stamp]
        sql = f"INSERT INTO {self.table_ref(table.schema, table.name)} ({cols}) SELECT {values} FROM _sentrum_rows"
        if con is not None:
            self._insert_on(con, sql, rows, params)
        else:
            with self._lock:
                self._insert_on(self._con, sql, rows, params)

    @staticmethod
    def _insert_on(con: duckdb.DuckDBPyConnection, sql: str, rows: pa.Table, params: list[Any] | None = None) -> None:
        con.register("_sentrum_rows", rows)
        try:
            con.execute(sql, params or None)
        except duckdb.Error as exc:
            raise WarehouseError(f"DuckDB insert failed: {exc}") from exc
        finally:
            # after a failed statement the transaction is aborted and unregistering fails too: keep the first error
            with contextlib.suppress(duckdb.Error):
                con.unregister("_sentrum_rows")

    # -- SQL ------------------------------------------------------------------------------------------------
    def _run(self, sql: str, params: Mapping[str, Any] | None) -> duckdb.DuckDBPyConnection:
        values = check_params(sql, params, dialect="duckdb")
        try:
            return self._con.execute(to_duckdb(sql), values or None)
        except duckdb.Error as exc:
            raise WarehouseError(f"DuckDB: {exc}") from exc

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._run(sql, params)
            cols = [d[0] for d in cur.description] if cur.description else []
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> int:
        with self._lock:
            cur = self._run(sql, params)
            # DML returns one row with the affected count; DDL returns nothing.
            row = cur.fetchone() if cur.description else None
            return int(row[0]) if row and isinstance(row[0], int) else 0

    # -- catalog and retention ------------------------------------------------------------------------------
    def tables_with_column(self, column: str) -> list[TableInfo]:
        check_identifier(column, "column name")
        rows = self.query(
            "select c.table_schema, c.table_name, t.table_type "
            "from information_schema.columns as c "
            "join information_schema.tables as t "
            "  on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema "
            "  and t.table_name = c.table_name "
            "where c.table_catalog = current_database() and c.column_name = @column "
            "  and t.table_type in ('BASE TABLE', 'VIEW') "
            "  and c.table_schema not in ('information_schema', 'pg_catalog') "
            "order by 1, 2",
            {"column": column},
        )
        out = []
        for r in rows:
            try:
                out.append(
                    TableInfo(r["table_schema"], r["table_name"], "view" if r["table_type"] == "VIEW" else "table")
                )
            except WarehouseError as exc:
                # A name the allow-pattern refuses cannot be swept by SQL built here: say so, never skip silently.
                raise WarehouseError(f"the catalog holds a name this code cannot address safely: {exc}") from exc
        return out

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        rows = self.query(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = @schema and table_name = @table "
            "order by ordinal_position",
            {"schema": check_identifier(schema, "schema name"), "table": check_identifier(table, "table name")},
        )
        return [(r["column_name"], r["data_type"]) for r in rows]

    def count_rows(self, table: TableInfo, workspace_id: str) -> int:
        ref = self.table_ref(table.schema, table.name)
        rows = self.query(f"select count(*) as n from {ref} where workspace_id = @ws", {"ws": workspace_id})
        return int(rows[0]["n"])

    def delete_rows(self, table: TableInfo, workspace_id: str) -> int:
        if table.kind == "view":
            return 0
        ref = self.table_ref(table.schema, table.name)
        return self.execute(f"delete from {ref} where workspace_id = @ws", {"ws": workspace_id})

    def drop_access_schema(self, workspace_id: str) -> bool:
        name = check_identifier(access_schema_name(workspace_id), "schema name")
        with self._lock:
            found = self._con.execute(
                "select count(*) from information_schema.schemata "
                "where catalog_name = current_database() and schema_name = $name",
                {"name": name},
            ).fetchone()
            if not found or not found[0]:
                return False
            self._con.execute(f'DROP SCHEMA "{name}" CASCADE')
        return True

    def compact(self) -> bool:
        """Rebuild the file so that deleted rows are gone from its bytes (DELETE, VACUUM and CHECKPOINT leave them
        in free blocks): copy the whole database into a new file next to it (COPY FROM DATABASE), check that every
        table and view arrived, then rename it over the old file while this connection still holds DuckDB's
        writer lock on it, and reopen. A crash leaves the old file or the new one, never half of one."""
        if self.read_only:
            raise WarehouseError("cannot compact a warehouse opened read-only")
        tmp = self.path.with_name(f".{self.path.name}.compact")
        with self._lock:
            if self._writers:
                raise WarehouseError("cannot compact while batches are being written")
            for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
                stale.unlink(missing_ok=True)
            literal = str(tmp).replace("'", "''")
            try:
                self._con.execute("CHECKPOINT")
                catalog = self._con.execute("select current_database()").fetchone()[0]
                self._con.execute(f"ATTACH '{literal}' AS sentrum_compact")
                try:
                    self._con.execute(f'COPY FROM DATABASE "{catalog}" TO sentrum_compact')
                    counts = self._con.execute(
                        "select database_name, count(*) from duckdb_tables() "
                        "where database_name in ($a, 'sentrum_compact') group by all",
                        {"a": catalog},
                    ).fetchall()
                    views = self._con.execute(
                        "select database_name, count(*) from duckdb_views() where not internal "
                        "and database_name in ($a, 'sentrum_compact') group by all",
                        {"a": catalog},
                    ).fetchall()
                finally:
                    self._con.execute("DETACH sentrum_compact")
            except duckdb.Error as exc:
                tmp.unlink(missing_ok=True)
                raise WarehouseError(f"DuckDB could not compact {self.path}: {exc}") from exc
            tables, view_counts = dict(counts), dict(views)
            if tables.get(catalog, 0) != tables.get("sentrum_compact", 0) or view_counts.get(
                catalog, 0
            ) != view_counts.get("sentrum_compact", 0):
                tmp.unlink(missing_ok=True)
                raise WarehouseError(f"compacting {self.path} lost tables or views ({tables}, {view_counts}); kept")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            self._con.close()
            self._con = self._connect()
        return True

    # -- ops tables -----------------------------------------------------------------------------------------
    def append_rows(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        check_rows(table, rows)
        if not rows:
            return 0
        self._insert(table, arrow_rows(table, rows))
        return len(rows)

    def replace_rows(self, table: Table, key_columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int:
        keys = check_key_columns(table, key_columns)
        check_rows(table, rows, keys)
        if not rows:
            return 0
        ref = self.table_ref(table.schema, table.name)
        match = " and ".join(f"t.{self._name(k)} = r.{self._name(k)}" for k in keys)
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                self._con.register("_sentrum_keys", arrow_rows(table, rows))
                try:
                    self._con.execute(
                        f"DELETE FROM {ref} AS t WHERE EXISTS (SELECT 1 FROM _sentrum_keys AS r WHERE {match})"
                    )
                finally:
                    self._con.unregister("_sentrum_keys")
                self._insert(table, arrow_rows(table, rows))
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        return len(rows)


__all__ = ["DuckDBWarehouse", "DuckDBBatchWriter", "RAW_TABLES"]
