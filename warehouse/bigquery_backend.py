"""BigQuery backend: the production warehouse, through `google-cloud-bigquery`.

Layout: one dataset per layer, `<prefix>raw`, `<prefix>staging`, `<prefix>intermediate`, `<prefix>marts`,
`<prefix>ops`, in one location, labelled `layer=<layer>`, with the time-travel window set (default 48 h, BigQuery's
minimum; the 7-day fail-safe after it is fixed by Google). Raw tables are partitioned by their date column and
clustered by `workspace_id`, `account_id`.

Raw writes go through LOAD JOBS only (free, unlike streaming inserts, and they leave no streaming buffer that would
block the retention sweep's DELETE). BigQuery allows about 1,500 load jobs per table per day while a night has
thousands of (workspace, account, report) batches, so rows are not loaded per batch: every batch's rows are spooled
to one local Parquet file per table, and a flush (`flush()`, `close()`, or a spool passing `flush_bytes`) loads one
job per table, then ONE job with the manifest rows of the batches committed before that flush. A batch is visible
only through its manifest row (staging's rule), so until that last job succeeds nothing of the flush is visible, and
a crash before it leaves only invisible rows, exactly as a crashed batch on DuckDB.

Job ids derive from the flush id, the table and an attempt number, and every load first asks whether its job already
ran: retrying a flush after an error never loads the same file twice.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth.exceptions import GoogleAuthError
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY

from warehouse.access import access_schema_name
from warehouse.base import Batch, BatchKey, TableInfo, WarehouseError, check_key_columns, check_rows, check_table
from warehouse.rows import arrow_rows
from warehouse.schema import ALL_TABLES, BIGQUERY_TYPES, LAYERS, MANIFEST, Table
from warehouse.sql import check_identifier, check_params

# BigQuery's own rules: project ids (incl. legacy domain-scoped `example.com:project`), dataset time travel
# (2 to 7 days, whole days), label values.
_PROJECT = re.compile(r"^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_PREFIX = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]{0,63})?$")
_LABEL_BAD = re.compile(r"[^a-z0-9_-]")
TIME_TRAVEL_HOURS = range(48, 169, 24)

# Spooled rows are written to Parquet in row groups of about this many rows: bounded memory, few row groups.
_ROW_GROUP_ROWS = 100_000
# One statement carries the rows of an ops write as an ARRAY<STRUCT> parameter; BigQuery caps a request at 10 MB.
_MAX_PARAM_ROWS = 5_000


def label_value(value: str) -> str:
    """A BigQuery label value: lower case letters, digits, `_` and `-`, at most 63 characters."""
    return _LABEL_BAD.sub("_", str(value).lower())[:63]


# ---- parameters ------------------------------------------------------------------------------------------------


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        # NUMERIC holds 29 integer and 9 fractional digits; anything beyond needs BIGNUMERIC
        sign, digits, exp = value.as_tuple()
        if isinstance(exp, int) and -exp <= 9 and len(digits) + exp <= 29:
            return "NUMERIC"
        return "BIGNUMERIC"
    if isinstance(value, datetime):
        # an aware datetime is an instant (TIMESTAMP); a naive one is a wall-clock time (DATETIME)
        return "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    if isinstance(value, date):
        return "DATE"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, str) or value is None:
        return "STRING"
    raise WarehouseError(f"cannot pass a {type(value).__name__} as a BigQuery query parameter")


def query_parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A typed BigQuery parameter for a Python value (lists become ARRAY parameters; None is a NULL STRING)."""
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        types = {_scalar_type(v) for v in items if v is not None}
        if len(types) > 1:
            raise WarehouseError(f"parameter @{name}: array items of mixed types {sorted(types)}")
        return bigquery.ArrayQueryParameter(name, types.pop() if types else "STRING", items)
    return bigquery.ScalarQueryParameter(name, _scalar_type(value), value)


def rows_parameter(name: str, table: Table, rows: Sequence[Mapping[str, Any]]) -> bigquery.ArrayQueryParameter:
    """`rows` as an ARRAY<STRUCT> parameter typed by `table`'s columns (so a NULL keeps its column's type)."""
    structs = [
        bigquery.StructQueryParameter(
            None,
            *(bigquery.ScalarQueryParameter(col, BIGQUERY_TYPES[kind], row.get(col)) for col, kind in table.columns),
        )
        for row in rows
    ]
    return bigquery.ArrayQueryParameter(name, "STRUCT", structs)


# ---- spooling --------------------------------------------------------------------------------------------------


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


# ---- the warehouse ---------------------------------------------------------------------------------------------


class BigQueryBatchWriter:
    def __init__(self, warehouse: BigQueryWarehouse, batch: Batch) -> None:
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


class BigQueryWarehouse:
    """The `Warehouse` interface on BigQuery. Thread-safe: extraction threads share one instance.

    `client`: a `google.cloud.bigquery.Client` (its project is the warehouse's project). `retry` and the timeouts
    apply to every API call and job wait; tests shorten them so a failure cannot hang for the client's default
    600 s.
    """

    def __init__(
        self,
        client: bigquery.Client,
        *,
        dataset_prefix: str = "sentrum_",
        location: str | None = None,
        time_travel_hours: int = 48,
        layers: Sequence[str] = LAYERS,
        labels: Mapping[str, str] | None = None,
        spool_dir: Path | str | None = None,
        flush_bytes: int = 512 * 1024 * 1024,
        retry: Retry | None = None,
        job_retry: Retry | None | object = ...,
        api_timeout_s: float = 60.0,
        job_timeout_s: float = 3600.0,
        close_client: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not _PROJECT.match(client.project or ""):
            raise WarehouseError(f"invalid BigQuery project id {client.project!r}")
        if not _PREFIX.match(dataset_prefix):
            raise WarehouseError(f"invalid dataset prefix {dataset_prefix!r}: letters, digits and '_' only")
        if time_travel_hours not in TIME_TRAVEL_HOURS:
            raise WarehouseError(
                f"time travel must be 48 to 168 hours in whole days (BigQuery's rule), not {time_travel_hours}"
            )
        self.client = client
        # when batches start and complete (the manifest's timestamps); tests pin it to replay batches exactly
        self._clock = clock or (lambda: datetime.now(UTC))
        self.project: str = client.project
        self.prefix = dataset_prefix
        self.location = location or client.location or "US"
        self.time_travel_hours = time_travel_hours
        self.layers = tuple(check_identifier(layer, "layer name") for layer in layers)
        self.labels = {check_identifier(k, "label key").lower(): label_value(v) for k, v in (labels or {}).items()}
        self.flush_bytes = flush_bytes
        self.retry = retry if retry is not None else bigquery.DEFAULT_RETRY
        # Re-runs of a failed query job (rate limits, backend errors). Any non-None value also makes the client
        # retry the job insert for ~10 minutes on its own terms; None disables both (the tests' setting).
        self.job_retry = DEFAULT_JOB_RETRY if job_retry is ... else job_retry
        self.api_timeout_s = api_timeout_s
        self.job_timeout_s = job_timeout_s
        self._close_client = close_client
        self._spool_root = Path(tempfile.mkdtemp(prefix="sentrum-bq-spool-", dir=spool_dir))
        self._state_lock = threading.Lock()  # guards the current spools and committed manifest rows
        self._flush_lock = threading.Lock()  # one flush at a time, in order
        self._spools: dict[str, _Spool] = {}
        self._committed: list[dict[str, Any]] = []
        self._pending: list[_Flush] = []
        self._ensured: set[tuple[Any, ...]] = set()
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> BigQueryWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush (committed batches are complete, so they are loaded even when the caller failed), then clean up."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            shutil.rmtree(self._spool_root, ignore_errors=True)
            if self._close_client:
                self.client.close()

    # -- names ----------------------------------------------------------------------------------------------
    def dataset_id(self, layer: str) -> str:
        return f"{self.prefix}{check_identifier(layer, 'layer name')}"

    def table_ref(self, schema: str, table: str) -> str:
        return f"`{self.project}.{self.dataset_id(schema)}.{check_identifier(table, 'table name')}`"

    def _table_id(self, table: Table) -> str:
        return f"{self.project}.{self.dataset_id(table.schema)}.{table.name}"

    def _job_labels(self, job: str, layer: str | None = None, workspace: str | None = None, **extra: str) -> dict:
        labels = {**self.labels, "job": label_value(job)}
        if layer:
            labels["layer"] = label_value(layer)
        if workspace:
            labels["workspace"] = label_value(workspace)
        labels.update({k: label_value(v) for k, v in extra.items()})
        return labels

    @contextmanager
    def _api(self, what: str) -> Iterator[None]:
        try:
            yield
        except gexc.GoogleAPICallError as exc:
            raise WarehouseError(f"BigQuery {what}: {exc.message}") from exc
        except (gexc.GoogleAPIError, GoogleAuthError, requests.RequestException) as exc:  # retries exhausted, auth
            raise WarehouseError(f"BigQuery {what}: {exc}") from exc
        except TimeoutError as exc:  # job.result(timeout=)
            raise WarehouseError(f"BigQuery {what}: timed out after {self.job_timeout_s:.0f} s") from exc

    # -- DDL ------------------------------------------------------------------------------------------------
    def ensure_datasets(self) -> None:
        """Every layer's dataset, in the configured location, labelled, with the time-travel window enforced
        (also on datasets that exist already, e.g. created by dbt)."""
        for layer in self.layers:
            self._ensure_dataset(layer)

    def _ensure_dataset(self, layer: str) -> None:
        ds_id = self.dataset_id(layer)
        if ("dataset", ds_id) in self._ensured:
            return
        wanted_labels = {**self.labels, "layer": label_value(layer)}
        with self._api(f"dataset {ds_id}"):
            try:
                ds = self.client.get_dataset(f"{self.project}.{ds_id}", retry=self.retry, timeout=self.api_timeout_s)
            except gexc.NotFound:
                ds = bigquery.Dataset(f"{self.project}.{ds_id}")
                ds.location = self.location
                ds.labels = wanted_labels
                ds.max_time_travel_hours = self.time_travel_hours
                ds.description = f"SENTRUM {layer} layer"
                self.client.create_dataset(ds, exists_ok=True, retry=self.retry, timeout=self.api_timeout_s)
            else:
                if ds.location and ds.location.lower() != self.location.lower():
                    raise WarehouseError(
                        f"dataset {ds_id} is in {ds.location}, not {self.location}: BigQuery cannot query across "
                        "locations; fix SENTRUM_BQ_LOCATION or the dataset prefix"
                    )
                changed = []
                if any(ds.labels.get(k) != v for k, v in wanted_labels.items()):
                    ds.labels = {**ds.labels, **wanted_labels}
                    changed.append("labels")
                if ds.max_time_travel_hours != self.time_travel_hours:
                    ds.max_time_travel_hours = self.time_travel_hours
                    changed.append("max_time_travel_hours")
                if changed:
                    self.client.update_dataset(ds, changed, retry=self.retry, timeout=self.api_timeout_s)
        self._ensured.add(("dataset", ds_id))

    def ensure_raw(self) -> None:
        self.ensure_datasets()
        for table in ALL_TABLES.values():
            self.ensure_table(table)

    def ensure_table(self, table: Table) -> None:
        table_id = self._table_id(table)
        # the definition is part of the key: a newer definition of the same table is checked again
        if ("table", table_id, table.columns) in self._ensured:
            return
        self._ensure_dataset(table.schema)
        wanted = [bigquery.SchemaField.from_api_repr(f) for f in table.bigquery_fields()]
        ddl_types = dict(table.bigquery_types())
        with self._api(f"table {table_id}"):
            try:
                existing = self.client.get_table(table_id, retry=self.retry, timeout=self.api_timeout_s)
            except gexc.NotFound:
                spec = bigquery.Table(table_id, schema=wanted)
                if table.partition_by:
                    spec.time_partitioning = bigquery.TimePartitioning(
                        type_=bigquery.TimePartitioningType.DAY, field=table.partition_by
                    )
                if table.cluster_by:
                    spec.clustering_fields = table.cluster_by
                spec.labels = {**self.labels, "layer": label_value(table.schema)}
                self.client.create_table(spec, exists_ok=True, retry=self.retry, timeout=self.api_timeout_s)
            else:
                # Columns added to the code since the table was created: added as NULLABLE (old rows read NULL).
                # DDL rather than a schema patch: the same statement on BigQuery and the stand-in, and IF NOT
                # EXISTS keeps it idempotent when two processes race.
                have = {f.name for f in existing.schema}
                for f in wanted:
                    if f.name not in have:
                        self._submit(
                            f"alter table `{table_id}` add column if not exists {f.name} {ddl_types[f.name]}",
                            None,
                            self._job_labels("ddl", layer=table.schema),
                        ).result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
        self._ensured.add(("table", table_id, table.columns))

    # -- batches --------------------------------------------------------------------------------------------
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
            labels=self._job_labels("load", layer=table.schema, workspace=workspace),
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

    # -- SQL ------------------------------------------------------------------------------------------------
    def _submit(self, sql: str, params: Mapping[str, Any] | None, labels: dict[str, str]) -> bigquery.QueryJob:
        values = check_params(sql, params, dialect="bigquery")
        config = bigquery.QueryJobConfig(
            query_parameters=[query_parameter(k, v) for k, v in values.items()],
            labels=labels,
            use_legacy_sql=False,
        )
        return self.client.query(
            sql,
            job_config=config,
            location=self.location,
            retry=self.retry,
            job_retry=self.job_retry,
            timeout=self.api_timeout_s,
        )

    def _labels(self, job: str, labels: Mapping[str, str] | None) -> dict[str, str]:
        out = self._job_labels(job)
        out.update({check_identifier(k, "label key").lower(): label_value(v) for k, v in (labels or {}).items()})
        return out

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        with self._api("query"):
            job = self._submit(sql, params, self._labels("query", labels))
            rows = job.result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
            return [dict(row.items()) for row in rows]

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> int:
        with self._api("statement"):
            job = self._submit(sql, params, self._labels("dml", labels))
            job.result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
            return int(job.num_dml_affected_rows or 0)

    # -- catalog and retention ------------------------------------------------------------------------------
    def tables_with_column(self, column: str) -> list[TableInfo]:
        """From each of the deployment's datasets' INFORMATION_SCHEMA (the per-dataset views work in every location and
        on the stand-in; region-wide ones need the region qualifier)."""
        check_identifier(column, "column name")
        with self._api("list datasets"):
            existing = {
                d.dataset_id
                for d in self.client.list_datasets(self.project, retry=self.retry, timeout=self.api_timeout_s)
            }
        # Every dataset of this deployment (its prefix), not only the known layers: a dataset added later (the
        # diagnostics, the per-workspace access views, an analyst's scratch dataset) is covered without a code change.
        prefix = self.prefix
        layer_of = {ds: ds[len(prefix) :] for ds in existing if ds.startswith(prefix) and len(ds) > len(prefix)}
        present = sorted(layer_of)
        if not present:
            return []
        parts = [
            f"select c.table_schema, c.table_name, t.table_type "
            f"from `{self.project}.{ds}.INFORMATION_SCHEMA.COLUMNS` as c "
            f"join `{self.project}.{ds}.INFORMATION_SCHEMA.TABLES` as t "
            f"on t.table_schema = c.table_schema and t.table_name = c.table_name "
            f"where c.column_name = @column"
            for ds in present
        ]
        rows = self.query(" union all ".join(parts), {"column": column}, labels={"job": "catalog"})
        out = []
        for r in sorted(rows, key=lambda r: (r["table_schema"], r["table_name"])):
            # Materialized views derive from their base tables (deletion reaches them); snapshots and clones are
            # tables here, so a sweep that cannot DELETE from them fails loudly instead of skipping them.
            kind = "view" if r["table_type"] in ("VIEW", "MATERIALIZED VIEW") else "table"
            try:
                out.append(TableInfo(layer_of[r["table_schema"]], r["table_name"], kind))
            except WarehouseError as exc:
                raise WarehouseError(f"the catalog holds a name this code cannot address safely: {exc}") from exc
        return out

    def count_rows(self, table: TableInfo, workspace_id: str) -> int:
        ref = self.table_ref(table.schema, table.name)
        rows = self.query(
            f"select count(*) as n from {ref} where workspace_id = @ws",
            {"ws": workspace_id},
            labels={"job": "count", "layer": table.schema, "workspace": workspace_id},
        )
        return int(rows[0]["n"])

    def delete_rows(self, table: TableInfo, workspace_id: str) -> int:
        if table.kind == "view":
            return 0
        ref = self.table_ref(table.schema, table.name)
        return self.execute(
            f"delete from {ref} where workspace_id = @ws",
            {"ws": workspace_id},
            labels={"job": "delete", "layer": table.schema, "workspace": workspace_id},
        )

    def drop_access_schema(self, workspace_id: str) -> bool:
        """Delete the workspace's access dataset (`<prefix>ws_<escaped id>`, warehouse/access.py) with its views."""
        ds_ref = f"{self.project}.{self.dataset_id(access_schema_name(workspace_id))}"
        with self._api(f"drop dataset {ds_ref}"):
            try:
                self.client.get_dataset(ds_ref, retry=self.retry, timeout=self.api_timeout_s)
            except gexc.NotFound:
                return False
            self.client.delete_dataset(
                ds_ref, delete_contents=True, not_found_ok=True, retry=self.retry, timeout=self.api_timeout_s
            )
        return True

    def compact(self) -> bool:
        """Nothing to rewrite: BigQuery keeps deleted rows for the datasets' time-travel window (48 hours, set on
        every dataset), then 7 days of fail-safe, then they are gone (README, "Privacy")."""
        return False

    # -- ops tables -----------------------------------------------------------------------------------------
    def append_rows(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        """DML INSERT from an ARRAY<STRUCT> parameter: visible at once, no load job (ops writes are small and
        frequent; load jobs are saved for raw)."""
        check_rows(table, rows)
        if not rows:
            return 0
        self.ensure_table(table)
        cols = ", ".join(table.column_names)
        source = ", ".join(f"s.{c}" for c in table.column_names)
        ref = self.table_ref(table.schema, table.name)
        done = 0
        for start in range(0, len(rows), _MAX_PARAM_ROWS):
            chunk = rows[start : start + _MAX_PARAM_ROWS]
            with self._api(f"insert into {ref}"):
                job = self._run_rows(
                    f"insert into {ref} ({cols}) select {source} from unnest(@rows) as s", table, chunk, "insert"
                )
            done += int(job.num_dml_affected_rows or 0)
        return done

    def replace_rows(self, table: Table, key_columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int:
        """One MERGE, so the delete and the insert are atomic: the source is the distinct keys (matched rows are
        deleted) plus the new rows with a NULL join key (never matched, inserted)."""
        keys = check_key_columns(table, key_columns)
        check_rows(table, rows, keys)
        if not rows:
            return 0
        if len(rows) > _MAX_PARAM_ROWS:
            raise WarehouseError(
                f"replace_rows on {table.name}: {len(rows)} rows in one atomic statement is more than "
                f"{_MAX_PARAM_ROWS}; ops tables are meant to be small"
            )
        self.ensure_table(table)
        types = dict(table.columns)
        ref = self.table_ref(table.schema, table.name)
        key_sel = ", ".join(f"k.{k} as _key_{k}" for k in keys)
        null_cols = ", ".join(f"cast(null as {BIGQUERY_TYPES[types[c]]}) as {c}" for c in table.column_names)
        null_keys = ", ".join(f"cast(null as {BIGQUERY_TYPES[types[k]]})" for k in keys)
        new_cols = ", ".join(f"s.{c}" for c in table.column_names)
        match = " and ".join(f"t.{k} = src._key_{k}" for k in keys)
        cols = ", ".join(table.column_names)
        values = ", ".join(f"src.{c}" for c in table.column_names)
        sql = (
            f"merge into {ref} as t using ("
            f" select {key_sel}, false as _sentrum_insert, {null_cols}"
            f" from (select distinct {', '.join(f's.{k}' for k in keys)} from unnest(@rows) as s) as k"
            f" union all"
            f" select {null_keys}, true, {new_cols} from unnest(@rows) as s"
            f") as src on {match}"
            f" when matched then delete"
            f" when not matched by target and src._sentrum_insert then insert ({cols}) values ({values})"
        )
        with self._api(f"replace rows of {ref}"):
            self._run_rows(sql, table, rows, "replace")
        return len(rows)

    def _run_rows(self, sql: str, table: Table, rows: Sequence[Mapping[str, Any]], job: str) -> bigquery.QueryJob:
        config = bigquery.QueryJobConfig(
            query_parameters=[rows_parameter("rows", table, rows)],
            labels=self._job_labels(job, layer=table.schema),
            use_legacy_sql=False,
        )
        result = self.client.query(
            sql,
            job_config=config,
            location=self.location,
            retry=self.retry,
            job_retry=self.job_retry,
            timeout=self.api_timeout_s,
        )
        result.result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
        return result


__all__ = ["BigQueryBatchWriter", "BigQueryWarehouse", "label_value", "query_parameter", "rows_parameter"]
