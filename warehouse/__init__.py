"""One `Warehouse` interface, two backends (DuckDB: embedded default; BigQuery: production), raw table definitions
and the batch manifest. See warehouse/README.md."""

from warehouse.base import Batch, BatchKey, BatchWriter, TableInfo, Warehouse, WarehouseError
from warehouse.duckdb_backend import DuckDBWarehouse
from warehouse.schema import ALL_TABLES, BREAKDOWN_COLUMNS, LAYERS, MANIFEST, OPS_SCHEMA, RAW_SCHEMA, RAW_TABLES, Table
from warehouse.sql import IDENTIFIER, check_identifier


def __getattr__(name: str):
    # BigQuery's client library is imported only by those who use it (it costs ~1 s of import time).
    if name == "BigQueryWarehouse":
        from warehouse.bigquery_backend import BigQueryWarehouse

        return BigQueryWarehouse
    raise AttributeError(name)


__all__ = [
    "ALL_TABLES",
    "BREAKDOWN_COLUMNS",
    "Batch",
    "BatchKey",
    "BatchWriter",
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "IDENTIFIER",
    "LAYERS",
    "MANIFEST",
    "OPS_SCHEMA",
    "RAW_SCHEMA",
    "RAW_TABLES",
    "Table",
    "TableInfo",
    "Warehouse",
    "WarehouseError",
    "check_identifier",
]
