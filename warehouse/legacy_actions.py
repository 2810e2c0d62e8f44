"""From the old shape of the action lists to the new one, once: `fold_legacy_actions(wh)`.

Until this change, raw held the action lists in a table of their own, `meta_insights_actions`, one row per (insights
key, list, action type, attribution window). They now travel nested in the insights row (`meta_insights.actions`,
warehouse/schema.py). A warehouse written by the old code still has the old table, and its insights rows have no
`actions`: this folds each old batch's action rows into its own insights rows (same batch, same key), then drops the
old table. Staging reads only the new shape.

- Idempotent: the rows it sets are the old batches' rows (new batches never had action rows), to the same values; a
  run interrupted before the drop is simply run again.
- Atomic where the backend allows: one transaction on DuckDB; on BigQuery one UPDATE statement (atomic), then the
  drop. Old action rows without an insights row of their batch (the old extractor never wrote such rows) would be
  lost by the drop: the table is then kept and the call fails, naming how many.
- The same sums as the old staging pivot: figures of one (key, type, list, window) add up.
"""

from __future__ import annotations

from warehouse.base import Warehouse
from warehouse.errors import WarehouseError
from warehouse.schema import ACTION_METRICS, ACTION_WINDOWS, INSIGHTS, LEGACY_INSIGHTS_ACTIONS, RAW_SCHEMA

# The columns that identify an insights row within a batch (its key; ids and breakdown values may be null).
_KEY = (
    "workspace_id",
    "batch_id",
    "account_id",
    "report",
    "level",
    "date_day",
    "campaign_id",
    "adset_id",
    "ad_id",
    "age",
    "gender",
    "country",
    "publisher_platform",
    "platform_position",
    "device_platform",
)


def legacy_table_exists(wh: Warehouse) -> bool:
    return any(
        t.schema == RAW_SCHEMA and t.name == LEGACY_INSIGHTS_ACTIONS.name
        for t in wh.tables_with_column("attribution_window")
    )


def _folded_sql(wh: Warehouse, duckdb: bool) -> str:
    """One row per legacy insights key with its `actions` list in the new shape."""
    legacy = wh.table_ref(RAW_SCHEMA, LEGACY_INSIGHTS_ACTIONS.name)
    keys = ", ".join(_KEY)
    sums = ",\n".join(
        f"sum(case when metric = '{m}' and attribution_window = '{w}' then value end) as {m}_{w}"
        for m in ACTION_METRICS
        for w in ACTION_WINDOWS
    )
    fields = ["action_type", *(f"{m}_{w}" for m in ACTION_METRICS for w in ACTION_WINDOWS)]
    if duckdb:
        record = "struct_pack(" + ", ".join(f"{f} := {f}" for f in fields) + ")"
        aggregate = f"list({record})"
    else:
        record = "struct(" + ", ".join(f"{f} as {f}" for f in fields) + ")"
        aggregate = f"array_agg({record})"
    return (
        f"select {keys}, {aggregate} as actions from ("
        f" select {keys}, action_type, {sums} from {legacy}"
        f" where action_type is not null"
        f" group by {keys}, action_type"
        f") as per_type group by {keys}"
    )


def _matches(left: str, right: str) -> str:
    return " and ".join(f"{left}.{k} is not distinct from {right}.{k}" for k in _KEY)


def fold_legacy_actions(wh: Warehouse) -> int:
    """Fold `raw.meta_insights_actions` (old shape) into `raw.meta_insights.actions` and drop it. Returns the number
    of insights rows given their actions (0 when there is no old table)."""
    from warehouse.duckdb_backend import DuckDBWarehouse

    if not legacy_table_exists(wh):
        return 0
    duckdb = isinstance(wh, DuckDBWarehouse)
    wh.ensure_table(INSIGHTS)  # the `actions` column, on a table created by the old code
    insights = wh.table_ref(RAW_SCHEMA, INSIGHTS.name)
    legacy = wh.table_ref(RAW_SCHEMA, LEGACY_INSIGHTS_ACTIONS.name)
    folded = _folded_sql(wh, duckdb)
    keys = ", ".join(_KEY)
    orphans = (
        f"select count(*) as n from (select distinct {keys} from {legacy}) as f"
        f" where not exists (select 1 from {insights} as i where {_matches('i', 'f')})"
    )
    update = f"update {insights} as i set actions = f.actions from ({folded}) as f where {_matches('i', 'f')}"
    drop = f"drop table if exists {legacy}"
    if duckdb:
        wh.execute("begin transaction")
        try:
            lost = wh.query(orphans)[0]["n"]
            if lost:
                raise WarehouseError(
                    f"{legacy}: {lost} insights keys have action rows but no insights row in their batch; "
                    "the table is kept (folding it would lose them)"
                )
            updated = wh.execute(update)
            wh.execute(drop)
            wh.execute("commit")
        except BaseException:
            wh.execute("rollback")
            raise
        return updated
    lost = wh.query(orphans)[0]["n"]
    if lost:
        raise WarehouseError(
            f"{legacy}: {lost} insights keys have action rows but no insights row in their batch; "
            "the table is kept (folding it would lose them)"
        )
    updated = wh.execute(update)
    wh.execute(drop)
    return updated
