"""Raw writes on BigQuery: batches spooled to local Parquet files, loaded by LOAD JOBS at a flush.

Load jobs are free, unlike streaming inserts, and leave no streaming buffer that would block the retention sweep's
DELETE. BigQuery allows about 1,500 load jobs per table per day while a night has thousands of (workspace, account,
report) batches, so rows are not loaded per batch: every batch's rows are spooled to one local Parquet file per
table, and a flush (`flush()`, `close()`, or a spool passing `flush_bytes`) loads one job per table, then ONE job
with the manifest rows of the batches committed before that flush. A batch is visible only through its manifest row
(staging's rule), so until that last job succeeds nothing of the flush is visible, and a crash before it leaves only
invisible rows, exactly as a crashed batch on DuckDB.

Job ids derive from the flush id, the table and an attempt number, and every load first asks whether its job already
ran: retrying a flush after an error never loads the same file twice.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from warehouse.base import Batch, BatchKey, WarehouseError, check_table
from warehouse.bigquery_core import BigQueryCore
from warehouse.rows import arrow_rows
from warehouse.schema import MANIFEST, Table

# Spooled rows are written to Parquet in row groups of about this many rows: bounded memory, few row groups.
_ROW_GROUP_ROWS = 100_000


class _Spool:
    """One table's rows for one flush, streamed to a Parquet file: memory holds at most one row group."""

    def __init__(self, path: Path, table: Table) -> None:
        self.path = path
        self.table = table
        self.rows = 0
        self.workspaces: set[str] = set()
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, rows: pa.Table) -> None:
        self._pending.append(rows)
        self._pending_rows += rows.num_rows
        self.rows += rows.num_rows
        if "workspace_id" in rows.column_names and len(self.workspaces) < 2:
            self.workspaces.update(v for v in rows.column("workspace_id").unique().to_pylist() if v)
        if self._pending_rows >= _ROW_GROUP_ROWS:
            self._write()

    def _write(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.table.arrow_schema(), compression="snappy")
        self._writer.write_table(pa.concat_tables(self._pending))
        self._pending, self._pending_rows = [], 0

    @property
    def nbytes(self) -> int:
        on_disk = self.path.stat().st_size if self._writer is not None and self.path.exists() else 0
        return on_disk + sum(t.nbytes for t in self._pending)

    def seal(self) -> Path:
        self._write()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self.path


@dataclass
class _Flush:
    """A sealed set of spools and the manifest rows of the batches committed before the seal."""

    flush_id: str
    spools: dict[str, _Spool]
    manifest: list[dict[str, Any]]
    loaded: set[str] = field(default_factory=set)


class BigQueryBatchWriter:
    def __init__(self, warehouse: BigQueryLoads, batch: Batch) -> None:
        self._wh = warehouse
        self.batch = batch
        self._committed = False

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if self._committed:
            raise WarehouseError(f"batch {self.batch.batch_id} is already committed")
        spec = check_table(table)
        if not rows:
            return
        # read at every append, not cached: a caller may set batch.batch_id after open_batch (tests replaying
        # known batches do)
        k = self.batch.key
        stamp = {"workspace_id": k.workspace_id, "account_id": k.account_id, "batch_id": self.batch.batch_id}
        self._wh._spool(spec, arrow_rows(spec, rows, stamp))
        self.batch.row_counts[table] = self.batch.row_counts.get(table, 0) + len(rows)

    def commit(self) -> Batch:
        """The batch is complete: its manifest row goes out with the next flush, after every row of the batch."""
        if self._committed:
            return self.batch
        self._wh._commit(self.batch.manifest_row(self._wh._clock()))
        self._committed = True
        return self.batch


class BigQueryLoads(BigQueryCore):
    """The batch path: `open_batch`, spools, `flush()` and its load jobs."""

    def _init_loads(self, spool_dir: Path | str | None, flush_bytes: int) -> None:
        self.flush_bytes = flush_bytes
        self._spool_root = Path(tempfile.mkdtemp(prefix="sentrum-bq-spool-", dir=spool_dir))
        self._state_lock = threading.Lock()  # guards the current spools and committed manifest rows
        self._flush_lock = threading.Lock()  # one flush at a time, in order
        self._spools: dict[str, _Spool] = {}
        self._committed: list[dict[str, Any]] = []
        self._pending: list[_Flush] = []
        self._closed = False

    def open_batch(self, key: BatchKey, params: Mapping[str, Any]) -> BigQueryBatchWriter:
        if self._closed:
            raise WarehouseError("the warehouse is closed")
        return BigQueryBatchWriter(self, Batch(key=key, params=params, started_at=self._clock()))

    def _spool(self, table: Table, rows: pa.Table) -> None:
        with self._state_lock:
            spool = self._spools.get(table.name)
            if spool is None:
                path = self._spool_root / f"{uuid.uuid4().hex}_{table.name}.parquet"
                spool = self._spools[table.name] = _Spool(path, table)
            spool.add(rows)
            full = spool.nbytes >= self.flush_bytes
        if full:
            self.flush()

    def _commit(self, manifest_row: dict[str, Any]) -> None:
        with self._state_lock:
            self._committed.append(manifest_row)

    def flush(self) -> None:
        """Load everything spooled so far, then the manifest rows of the batches committed so far.

        On an error the flush stays pending with its job ids: the next flush()/close() resumes it, skipping the
        loads that completed. Rows are spooled meanwhile as usual."""
        with self._flush_lock:
            with self._state_lock:
                if self._spools or self._committed:
                    flush_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:12]}"
                    self._pending.append(_Flush(flush_id, self._spools, self._committed))
                    self._spools, self._committed = {}, []
            while self._pending:
                current = self._pending[0]
                self._load_flush(current)
                self._pending.pop(0)
                for spool in current.spools.values():
                    spool.path.unlink(missing_ok=True)

    def _load_flush(self, flush: _Flush) -> None:
        for name, spool in sorted(flush.spools.items()):
            if name in flush.loaded:
                continue
            path = spool.seal()
            if spool.rows:
                ws = next(iter(spool.workspaces)) if len(spool.workspaces) == 1 else "multiple"
                self._load_file(path, spool.table, f"sentrum_{flush.flush_id}_{name}", workspace=ws)
            flush.loaded.add(name)
        # The manifest last, in one job: the moment the flush's batches become visible.
        if flush.manifest and MANIFEST.name not in flush.loaded:
            path = self._spool_root / f"{flush.flush_id}_{MANIFEST.name}.parquet"
            if not path.exists():
                pq.write_table(arrow_rows(MANIFEST, flush.manifest), path, compression="snappy")
            workspaces = {r["workspace_id"] for r in flush.manifest}
            ws = next(iter(workspaces)) if len(workspaces) == 1 else "multiple"
            self._load_file(path, MANIFEST, f"sentrum_{flush.flush_id}_{MANIFEST.name}", workspace=ws)
            flush.loaded.add(MANIFEST.name)
            path.unlink(missing_ok=True)

    def _existing_job(self, job_id: str) -> bigquery.LoadJob | None:
        try:
            return self.client.get_job(job_id, location=self.location, retry=self.retry, timeout=self.api_timeout_s)
        except gexc.NotFound:
            return None

    def _load_file(self, path: Path, table: Table, job_base: str, workspace: str) -> None:
        """One load job, idempotent: a job id that already succeeded is not run again; one that failed is
        superseded by the next attempt number (a failed load job wrote nothing)."""
        destination = self._table_id(table)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
            labels=self._job_labels(
                "load", layer=table.schema, workspace=workspace, extra={"sentrum_component": "extract"}
            ),
        )
        # Parquet's LIST wrapper (list -> element) read as a REPEATED field, so a record-list column loads into the
        # table's ARRAY<STRUCT> column as it is (meta_insights.actions)
        config.parquet_options = bigquery.ParquetOptions()
        config.parquet_options.enable_list_inference = True
        with self._api(f"load into {destination}"):
            for attempt in range(100):
                job_id = f"{job_base}_{attempt}"
                job = self._existing_job(job_id)
                if job is not None and job.state == "DONE" and job.error_result:
                    continue  # a failed earlier attempt: the next attempt id
                if job is None:
                    try:
                        with path.open("rb") as fh:
                            # No `size`: the client then always uses a resumable upload, one code path for any
                            # size (multipart uploads are only for < 5 MB and the stand-in lacks them).
                            job = self.client.load_table_from_file(
                                fh,
                                destination,
                                job_id=job_id,
                                location=self.location,
                                job_config=config,
                                timeout=self.api_timeout_s,
                            )
                    except gexc.Conflict:
                        # The job was created by an earlier call whose reply was lost: follow that job.
                        job = self.client.get_job(
                            job_id, location=self.location, retry=self.retry, timeout=self.api_timeout_s
                        )
                job.result(retry=self.retry, timeout=self.job_timeout_s)
                return
            raise WarehouseError(f"load into {destination}: 100 failed attempts of {job_base}")
