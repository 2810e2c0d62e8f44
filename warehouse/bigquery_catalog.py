"""The catalog and the retention sweep's primitives on BigQuery: every table with a column, row counts, deletes,
a workspace's access dataset."""

from __future__ import annotations

from collections.abc import Sequence

from google.api_core import exceptions as gexc
from google.cloud import bigquery

from warehouse.access import access_schema_name
from warehouse.base import TableInfo, WarehouseError
from warehouse.bigquery_core import BigQueryCore
from warehouse.sql import check_identifier

# BigQuery: a query references at most 1,000 tables (views count). The walk references two views per dataset.
MAX_TABLES_PER_QUERY = 1_000
_VIEWS_PER_DATASET = 2
MAX_CATALOG_CHUNK = MAX_TABLES_PER_QUERY // _VIEWS_PER_DATASET
# Datasets per catalog query by default: 400 references, well under the limit, and few queries (six layers and
# 2,500 access datasets take 13).
CATALOG_CHUNK = 200


def check_catalog_chunk(chunk: int) -> int:
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= MAX_CATALOG_CHUNK:
        raise WarehouseError(
            f"catalog chunk must be 1 to {MAX_CATALOG_CHUNK} datasets (a query references at most "
            f"{MAX_TABLES_PER_QUERY} tables, {_VIEWS_PER_DATASET} per dataset), not {chunk!r}"
        )
    return chunk


def catalog_queries(project: str, datasets: Sequence[str], chunk: int) -> list[str]:
    """The catalog walk over `datasets`, `chunk` datasets per query: each query unions their INFORMATION_SCHEMA's
    COLUMNS joined to TABLES, filtered on `@column`."""
    check_catalog_chunk(chunk)
    # dataset ids come from the API (BigQuery allows only letters, digits and `_` in them)
    parts = [
        f"select c.table_schema, c.table_name, t.table_type "
        f"from `{project}.{ds}.INFORMATION_SCHEMA.COLUMNS` as c "
        f"join `{project}.{ds}.INFORMATION_SCHEMA.TABLES` as t "
        f"on t.table_schema = c.table_schema and t.table_name = c.table_name "
        f"where c.column_name = @column"
        for ds in datasets
    ]
    return [" union all ".join(parts[start : start + chunk]) for start in range(0, len(parts), chunk)]


class BigQueryCatalog(BigQueryCore):
    catalog_chunk: int  # datasets per catalog query (check_catalog_chunk)

    def tables_with_column(self, column: str) -> list[TableInfo]:
        """From each of the deployment's datasets' INFORMATION_SCHEMA (the per-dataset views work in every location and
        on the stand-in; region-wide ones need the region qualifier), `catalog_chunk` datasets per query."""
        check_identifier(column, "column name")
        with self._api("list datasets"):
            existing = {
                d.dataset_id
                for d in self.client.list_datasets(self.project, retry=self.retry, timeout=self.api_timeout_s)
            }
        # The walk serves the sweep, exports and diagnostics: its component is the warehouse's (or the caller's).
        # Every dataset of this deployment (its prefix), not only the known layers: a dataset added later (the
        # diagnostics, the per-workspace access views, an analyst's scratch dataset) is covered without a code change.
        prefix = self.prefix
        layer_of = {ds: ds[len(prefix) :] for ds in existing if ds.startswith(prefix) and len(ds) > len(prefix)}
        present = sorted(layer_of)
        if not present:
            return []
        rows = [
            row
            for sql in catalog_queries(self.project, present, self.catalog_chunk)
            for row in self.query(sql, {"column": column}, labels={"job": "catalog"})
        ]
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

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """From the table's resource (tables.get), which carries nested fields; INFORMATION_SCHEMA would cost a
        query job per table."""
        table_id = f"{self.project}.{self.dataset_id(schema)}.{check_identifier(table, 'table name')}"
        with self._api(f"table {table_id}"):
            try:
                found = self.client.get_table(table_id, retry=self.retry, timeout=self.api_timeout_s)
            except gexc.NotFound:
                return []
        return [(f.name, sql_type(f)) for f in found.schema]

    def count_rows(self, table: TableInfo, workspace_id: str) -> int:
        ref = self.table_ref(table.schema, table.name)
        rows = self.query(
            f"select count(*) as n from {ref} where workspace_id = @ws",
            {"ws": workspace_id},
            labels={"job": "count", "layer": table.schema, "workspace": workspace_id, "sentrum_component": "retention"},
        )
        return int(rows[0]["n"])

    def delete_rows(self, table: TableInfo, workspace_id: str) -> int:
        if table.kind == "view":
            return 0
        ref = self.table_ref(table.schema, table.name)
        return self.execute(
            f"delete from {ref} where workspace_id = @ws",
            {"ws": workspace_id},
            labels={
                "job": "delete",
                "layer": table.schema,
                "workspace": workspace_id,
                "sentrum_component": "retention",
            },
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


# The legacy type names the API returns, as standard SQL names them (what an analyst types in a query).
_STANDARD_SQL = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def sql_type(field: bigquery.SchemaField) -> str:
    """A field's standard SQL type: `ARRAY<STRUCT<action_type STRING, value NUMERIC>>` for a repeated record."""
    base = _STANDARD_SQL.get(field.field_type, field.field_type)
    if base == "STRUCT":
        base = "STRUCT<" + ", ".join(f"{f.name} {sql_type(f)}" for f in field.fields) + ">"
    return f"ARRAY<{base}>" if field.mode == "REPEATED" else base
