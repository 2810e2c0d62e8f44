"""Raw table definitions, one logical schema rendered for each backend.

Raw is append-only. Every raw row carries `workspace_id` and the `batch_id` that wrote it; `meta_batches` is the
manifest: a batch's rows become visible (to dbt staging) only once its manifest row exists, and the latest complete
batch per (workspace, account, report, date) wins, so a re-pull replaces the older numbers instead of adding to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa

from warehouse.sql import check_identifier

RAW_SCHEMA = "raw"
# Operational tables the pipeline keeps about itself (workspace health, retention audit log). On BigQuery these are
# datasets `<prefix>raw` and `<prefix>ops`; on DuckDB, schemas `raw` and `ops`.
OPS_SCHEMA = "ops"
MANIFEST_TABLE = "meta_batches"

# Logical column types and their renderings. NUMERIC carries money: Meta sends decimal strings, and a float would
# lose cents when summed over thousands of rows.
_ARROW = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "numeric": pa.decimal128(38, 9),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
}
_DUCKDB = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "numeric": "DECIMAL(38, 9)",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "bool": "BOOLEAN",
}
BIGQUERY_TYPES = {
    "string": "STRING",
    "int64": "INT64",
    "float64": "FLOAT64",
    "numeric": "NUMERIC",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOL",
}


@dataclass(frozen=True)
class RecordList:
    """A column holding a list of records (a nested column): DuckDB `STRUCT(...)[]`, BigQuery `ARRAY<STRUCT<...>>`
    (a REPEATED RECORD), Arrow `list<struct>`. Its fields are scalar logical types."""

    fields: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("a record list has no fields")
        for name, kind in self.fields:
            check_identifier(name, "record field name")
            if kind not in _ARROW:
                raise ValueError(f"record field {name}: unknown type {kind!r}; known: {sorted(_ARROW)}")
        if len({n for n, _ in self.fields}) != len(self.fields):
            raise ValueError("a record list has duplicate fields")

    def field_names(self) -> list[str]:
        return [n for n, _ in self.fields]


# A column's logical type: a scalar type name (`_ARROW`'s keys) or a record list.
Kind = str | RecordList


def _arrow_type(kind: Kind) -> pa.DataType:
    if isinstance(kind, RecordList):
        return pa.list_(pa.struct([(n, _ARROW[t]) for n, t in kind.fields]))
    return _ARROW[kind]


def _duckdb_type(kind: Kind, quote: Callable[[str], str] = str) -> str:
    if isinstance(kind, RecordList):
        return "STRUCT(" + ", ".join(f"{quote(n)} {_DUCKDB[t]}" for n, t in kind.fields) + ")[]"
    return _DUCKDB[kind]


def _bigquery_type(kind: Kind) -> str:
    if isinstance(kind, RecordList):
        return "ARRAY<STRUCT<" + ", ".join(f"{n} {BIGQUERY_TYPES[t]}" for n, t in kind.fields) + ">>"
    return BIGQUERY_TYPES[kind]


def _bigquery_field(name: str, kind: Kind) -> dict[str, Any]:
    if isinstance(kind, RecordList):
        return {
            "name": name,
            "type": "RECORD",
            "mode": "REPEATED",
            "fields": [_bigquery_field(n, t) for n, t in kind.fields],
        }
    return {"name": name, "type": BIGQUERY_TYPES[kind], "mode": "NULLABLE"}


@lru_cache(maxsize=256)
def _arrow_schema(columns: tuple[tuple[str, Kind], ...]) -> pa.Schema:
    # cached: the write path asks for it once per page
    return pa.schema([(c, _arrow_type(t)) for c, t in columns])


# The layers of the warehouse: DuckDB schemas, BigQuery datasets `<prefix><layer>`. Every place that has to cover
# "all the data" (the retention sweep's catalog, dataset settings) walks this list.
LAYERS = (RAW_SCHEMA, "staging", "intermediate", "marts", OPS_SCHEMA, "diagnostics")


@dataclass(frozen=True)
class Table:
    """A table the pipeline writes itself (raw and ops layers); dbt owns the others."""

    name: str
    columns: tuple[tuple[str, Kind], ...]
    # the date column raw tables are partitioned by on BigQuery (None: not partitioned)
    partition_by: str | None = None
    schema: str = RAW_SCHEMA

    def __post_init__(self) -> None:
        # Names reach DDL and DML text: only plain identifiers and known types, checked once here.
        check_identifier(self.schema, "schema name")
        check_identifier(self.name, "table name")
        if not self.columns:
            raise ValueError(f"table {self.name} has no columns")
        for column, kind in self.columns:
            check_identifier(column, f"column name of {self.name}")
            if not isinstance(kind, RecordList) and kind not in _ARROW:
                raise ValueError(f"{self.name}.{column}: unknown type {kind!r}; known: {sorted(_ARROW)}")
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name} has duplicate columns")
        if self.partition_by is not None and dict(self.columns).get(self.partition_by) not in ("date", "timestamp"):
            raise ValueError(f"{self.name}: partition column {self.partition_by!r} must be a date or timestamp column")

    @property
    def cluster_by(self) -> list[str]:
        """BigQuery clustering: by tenant first (every per-workspace read and delete prunes on it), then account."""
        return [c for c in ("workspace_id", "account_id") if c in self.column_names]

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return _arrow_schema(self.columns)

    def duckdb_columns(self, quote: Callable[[str], str] = str) -> list[tuple[str, str]]:
        return [(c, _duckdb_type(t, quote)) for c, t in self.columns]

    def duckdb_ddl(self, quote: Callable[[str], str] = str) -> str:
        cols = ",\n  ".join(f"{quote(c)} {t}" for c, t in self.duckdb_columns(quote))
        return f"CREATE TABLE IF NOT EXISTS {quote(self.schema)}.{quote(self.name)} (\n  {cols}\n)"

    def bigquery_types(self) -> list[tuple[str, str]]:
        """(column, BigQuery DDL type), e.g. `ARRAY<STRUCT<action_type STRING, ...>>` for a record list."""
        return [(c, _bigquery_type(t)) for c, t in self.columns]

    def bigquery_fields(self) -> list[dict[str, Any]]:
        """The columns as BigQuery's REST API spells a table schema (`SchemaField.from_api_repr` reads them)."""
        return [_bigquery_field(c, t) for c, t in self.columns]


_KEY = (("workspace_id", "string"), ("batch_id", "string"), ("account_id", "string"))
_EXTRACTED = (("extracted_at", "timestamp"),)
# Breakdown values are part of the insights key; unbroken reports leave them null.
BREAKDOWN_COLUMNS = ("age", "gender", "country", "publisher_platform", "platform_position", "device_platform")
_INSIGHT_KEY = (
    ("report", "string"),
    ("level", "string"),
    ("date_day", "date"),
    ("campaign_id", "string"),
    ("adset_id", "string"),
    ("ad_id", "string"),
    *((b, "string") for b in BREAKDOWN_COLUMNS),
)

MANIFEST = Table(
    MANIFEST_TABLE,
    (
        ("workspace_id", "string"),
        ("batch_id", "string"),
        ("account_id", "string"),
        ("report", "string"),
        ("date_start", "date"),
        ("date_end", "date"),
        ("row_count", "int64"),
        ("tables", "string"),  # JSON object: table -> rows
        ("params", "string"),  # JSON: API version, fields, windows, report time (lineage)
        ("started_at", "timestamp"),
        ("completed_at", "timestamp"),
    ),
)

AD_ACCOUNTS = Table(
    "meta_ad_accounts",
    (
        *_KEY,
        ("name", "string"),
        ("currency", "string"),
        ("timezone_name", "string"),
        ("timezone_offset_hours_utc", "float64"),
        ("account_status", "int64"),
        ("business_id", "string"),
        *_EXTRACTED,
        # added after the table existed (ensure_raw adds them; older rows read null)
        ("disable_reason", "int64"),
        ("spend_cap", "numeric"),  # major units of the account currency; 0: no cap
        ("amount_spent", "numeric"),  # spend counted against the cap (lifetime spend without one)
    ),
)

CAMPAIGNS = Table(
    "meta_campaigns",
    (
        *_KEY,
        ("campaign_id", "string"),
        ("name", "string"),
        ("status", "string"),
        ("effective_status", "string"),
        ("objective", "string"),
        ("buying_type", "string"),
        ("bid_strategy", "string"),
        ("daily_budget", "numeric"),  # major units of the account currency
        ("lifetime_budget", "numeric"),
        ("created_time", "timestamp"),
        ("updated_time", "timestamp"),
        ("start_time", "timestamp"),
        ("stop_time", "timestamp"),
        *_EXTRACTED,
    ),
)

ADSETS = Table(
    "meta_adsets",
    (
        *_KEY,
        ("adset_id", "string"),
        ("campaign_id", "string"),
        ("name", "string"),
        ("status", "string"),
        ("effective_status", "string"),
        ("optimization_goal", "string"),
        ("billing_event", "string"),
        ("bid_strategy", "string"),
        ("daily_budget", "numeric"),
        ("lifetime_budget", "numeric"),
        ("created_time", "timestamp"),
        ("updated_time", "timestamp"),
        ("start_time", "timestamp"),
        ("end_time", "timestamp"),
        *_EXTRACTED,
        # learning_stage_info (added after the table existed; null while Meta does not send it)
        ("learning_stage_status", "string"),  # LEARNING | SUCCESS | FAIL ("Learning limited")
        ("learning_stage_conversions", "int64"),
        ("learning_stage_last_sig_edit_at", "timestamp"),
    ),
)

ADS = Table(
    "meta_ads",
    (
        *_KEY,
        ("ad_id", "string"),
        ("adset_id", "string"),
        ("campaign_id", "string"),
        ("name", "string"),
        ("status", "string"),
        ("effective_status", "string"),
        ("creative_id", "string"),
        ("created_time", "timestamp"),
        ("updated_time", "timestamp"),
        *_EXTRACTED,
    ),
)

AD_CREATIVES = Table(
    "meta_ad_creatives",
    (
        *_KEY,
        ("creative_id", "string"),
        ("name", "string"),
        ("title", "string"),
        ("body", "string"),
        ("object_type", "string"),
        ("call_to_action_type", "string"),
        ("url_tags", "string"),
        ("thumbnail_url", "string"),  # a link only: creative assets themselves are never copied
        ("status", "string"),
        *_EXTRACTED,
    ),
)

# The action lists of an insights row (Meta's `actions`, `action_values`, `conversions`, `conversion_values`), kept
# nested in the row: one record per action type, one field per (list, attribution window), e.g. `actions_7d_click`,
# `action_values_value` (`value`: the account's own attribution setting). Windows and lists as columns rather than
# rows: the old one-row-per-(list, type, window) table held ~12-20 rows per insights row, each repeating the whole
# insights key (bench/load/README.md, "Raw shape of the actions").
ACTION_METRICS = ("actions", "action_values", "conversions", "conversion_values")
ACTION_WINDOWS = ("value", "1d_click", "7d_click", "28d_click", "1d_view", "1d_ev")
ACTION_RECORD = RecordList(
    (("action_type", "string"), *((f"{m}_{w}", "numeric") for m in ACTION_METRICS for w in ACTION_WINDOWS))
)

INSIGHTS = Table(
    "meta_insights",
    (
        *_KEY,
        *_INSIGHT_KEY,
        ("spend", "numeric"),
        ("impressions", "int64"),
        ("clicks", "int64"),
        ("inline_link_clicks", "int64"),
        # reach and frequency are only meaningful at the grain they were fetched for (never summed downstream)
        ("reach", "int64"),
        ("frequency", "float64"),
        ("actions", ACTION_RECORD),
    ),
    partition_by="date_day",
)

# The previous shape of the action lists: one row per (insights key, list, action type, window). No longer written;
# `warehouse.legacy_actions` folds rows of this shape into `meta_insights.actions`, then drops the table.
LEGACY_INSIGHTS_ACTIONS = Table(
    "meta_insights_actions",
    (
        *_KEY,
        *_INSIGHT_KEY,
        ("metric", "string"),  # actions | action_values | conversions | conversion_values
        ("action_type", "string"),
        ("attribution_window", "string"),  # value (account default) | 1d_click | 7d_click | 28d_click | 1d_view
        ("value", "numeric"),
    ),
    partition_by="date_day",
)

# A slice Meta would not serve even after splitting down to one ad, one day and one field set: recorded here, so a
# gap in the marts is explained instead of silently missing.
EXTRACTION_ERRORS = Table(
    "meta_extraction_errors",
    (
        *_KEY,
        ("report", "string"),
        ("date_start", "date"),
        ("date_end", "date"),
        ("object_level", "string"),  # account | campaign | adset | ad: what `object_ids` are
        ("object_ids", "string"),  # JSON list
        ("fields", "string"),  # JSON list
        ("error_code", "int64"),
        ("error_subcode", "int64"),
        ("error_action", "string"),  # the error policy's verdict (insights_jobs/errors.py)
        ("message", "string"),
        ("fbtrace_id", "string"),
        ("recorded_at", "timestamp"),
    ),
)

RAW_TABLES: dict[str, Table] = {
    t.name: t for t in (AD_ACCOUNTS, CAMPAIGNS, ADSETS, ADS, AD_CREATIVES, INSIGHTS, EXTRACTION_ERRORS)
}
ALL_TABLES: dict[str, Table] = {MANIFEST.name: MANIFEST, **RAW_TABLES}
