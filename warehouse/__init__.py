"""One `Warehouse` interface, raw table definitions and the batch manifest."""

from warehouse.base import Batch, BatchKey, BatchWriter, Warehouse, WarehouseError
from warehouse.duckdb_backend import DuckDBWarehouse
from warehouse.schema import ALL_TABLES, BREAKDOWN_COLUMNS, MANIFEST, RAW_SCHEMA, RAW_TABLES

__all__ = [
    "ALL_TABLES",
    "BREAKDOWN_COLUMNS",
    "Batch",
    "BatchKey",
    "BatchWriter",
    "DuckDBWarehouse",
    "MANIFEST",
    "RAW_SCHEMA",
    "RAW_TABLES",
    "Warehouse",
    "WarehouseError",
]
