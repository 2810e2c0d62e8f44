"""BigQuery backend: the production warehouse, through `google-cloud-bigquery`.

Layout: one dataset per layer, `<prefix>raw`, `<prefix>staging`, `<prefix>intermediate`, `<prefix>marts`,
`<prefix>ops`, in one location, labelled `layer=<layer>`, with the time-travel window set (default 48 h, BigQuery's
clustered by `workspace_id`, `account_id`.

The parts: `bigquery_core.py` (client, names, labels, query jobs), `bigquery_params.py` (typed parameters),
`bigquery_loads.py` (spooled batches and load jobs), `bigquery_catalog.py` (catalog walk and retention
primitives); this module adds the lifecycle, the DDL and the ops-table writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery

from warehouse.base import WarehouseError, check_key_columns, check_rows
from warehouse.bigquery_catalog import CATALOG_CHUNK, BigQueryCatalog, check_catalog_chunk
from warehouse.bigquery_core import TIME_TRAVEL_HOURS, BigQueryCore
from warehouse.bigquery_loads import BigQueryBatchWriter, BigQueryLoads
from warehouse.bigquery_params import query_parameter, rows_parameter
from warehouse.labels import label_value
from warehouse.schema import ALL_TABLES, BIGQUERY_TYPES, LAYERS, Table

# One statement carries the rows of an ops write as an ARRAY<STRUCT> parameter; BigQuery caps a request at 10 MB.
_MAX_PARAM_ROWS = 5_000


class BigQueryWarehouse(BigQueryLoads, BigQueryCatalog):
    """The `Warehouse` interface on BigQuery. Thread-safe: extraction threads share one instance.

    `client`: a `google.cloud.bigquery.Client` (its project is the warehouse's project). `retry` and the timeouts
    apply to every API call and job wait; tests shorten them so a failure cannot hang for the client's default
    600 s. `catalog_chunk`: datasets per catalog query (a query references at most 1,000 tables, two per
    dataset). `component`: the `sentrum_component` label of jobs whose caller names none. `maximum_bytes_billed`:
    every query job's cap in bytes (None: no cap); load jobs are free and take no cap.
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
        catalog_chunk: int = CATALOG_CHUNK,
        component: str = "pipeline",
        maximum_bytes_billed: int | None = None,
    ) -> None:
        BigQueryCore.__init__(
            self,
            client,
            dataset_prefix=dataset_prefix,
            location=location,
            time_travel_hours=time_travel_hours,
            layers=layers,
            labels=labels,
            retry=retry,
            job_retry=job_retry,
            api_timeout_s=api_timeout_s,
            job_timeout_s=job_timeout_s,
            close_client=close_client,
            clock=clock,
            component=component,
            maximum_bytes_billed=maximum_bytes_billed,
        )
        self._init_loads(spool_dir, flush_bytes)
        self.catalog_chunk = check_catalog_chunk(catalog_chunk)
        self._ensured: set[tuple[Any, ...]] = set()

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


__all__ = [
    "TIME_TRAVEL_HOURS",
    "BigQueryBatchWriter",
    "BigQueryWarehouse",
    "label_value",
    "query_parameter",
    "rows_parameter",
]
