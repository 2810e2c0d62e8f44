"""The `Warehouse` contract, run against both backends (DuckDB file; BigQuery on the emulator).

Visibility is checked the way staging reads raw: a row counts only if its batch has a manifest row. On BigQuery a
batch's manifest row is loaded at flush(), so the tests flush before they look (a no-op on DuckDB).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.warehouse.rows import insight, visible
from warehouse import LAYERS, MANIFEST, OPS_SCHEMA, RAW_TABLES, BatchKey, Table, TableInfo, WarehouseError
from warehouse.access import access_schema_name
from warehouse.legacy_actions import fold_legacy_actions, legacy_table_exists
from warehouse.schema import ACTION_RECORD, LEGACY_INSIGHTS_ACTIONS

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
T0 = datetime(2026, 11, 4, 5, 6, 7, 123456, tzinfo=UTC)
QUOTED = "o'brien"  # a workspace id with a quote: data, never SQL


def write(wh, ws: str, rows: list[dict], *, account="act_1", start=D1, end=D2, commit=True, table="meta_insights"):
    batch = wh.open_batch(BatchKey(ws, account, "ad_daily", start, end), {"api_version": "v26.0"})
    half = len(rows) // 2
    batch.append(table, rows[:half])  # two pages, as the extractor streams them
    batch.append(table, rows[half:])
    if commit:
        batch.commit()
    return batch.batch


def test_ensure_raw_creates_every_raw_table_and_is_idempotent(wh):
    wh.ensure_raw()  # a second time: nothing changes, nothing fails
    found = {(t.schema, t.name, t.kind) for t in wh.tables_with_column("batch_id")}
    assert found == {("raw", name, "table") for name in [*RAW_TABLES, MANIFEST.name]}
    for table in [*RAW_TABLES.values(), MANIFEST]:
        cols = wh.query(f"select * from {wh.table_ref(table.schema, table.name)} limit 0")
        assert cols == []


def test_a_committed_batch_reads_back_exactly_with_its_manifest_row(wh):
    rows = [insight("ad_1", D1, "1.23"), insight("ad_1", D2, "1000000.000000001"), insight("ad_2", D1, "0.10")]
    batch = write(wh, "acme", rows)
    wh.flush()
    got = visible(wh)
    assert len(got) == 3
    assert {r["batch_id"] for r in got} == {batch.batch_id}
    assert [(r["workspace_id"], r["account_id"], r["ad_id"], r["date_day"], r["spend"]) for r in got] == [
        ("acme", "act_1", "ad_1", D1, Decimal("1.23")),
        ("acme", "act_1", "ad_1", D2, Decimal("1000000.000000001")),  # NUMERIC keeps every digit
        ("acme", "act_1", "ad_2", D1, Decimal("0.10")),
    ]
    assert all(isinstance(r["spend"], Decimal) and r["frequency"] == 1.25 for r in got)
    assert got[0]["age"] is None  # an unbroken report leaves breakdowns null
    (m,) = wh.query(f"select * from {wh.table_ref('raw', 'meta_batches')}")
    assert (m["workspace_id"], m["account_id"], m["report"], m["date_start"], m["date_end"]) == (
        "acme",
        "act_1",
        "ad_daily",
        D1,
        D2,
    )
    assert m["row_count"] == 3 and json.loads(m["tables"]) == {"meta_insights": 3}
    assert json.loads(m["params"]) == {"api_version": "v26.0"}
    assert m["completed_at"] >= m["started_at"] and m["completed_at"].utcoffset() is not None


def test_a_batch_id_set_after_opening_stamps_the_rows(wh):
    writer = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
    writer.batch.batch_id = "known_id"  # replaying a recorded batch
    writer.append("meta_insights", [insight("ad_1", D1, "1.00")])
    writer.commit()
    wh.flush()
    assert [r["batch_id"] for r in visible(wh)] == ["known_id"]


def test_timestamps_and_entities_round_trip(wh):
    batch = wh.open_batch(BatchKey("acme", "act_1", "entities"), {})
    batch.append(
        "meta_ads",
        [{"ad_id": "ad_1", "name": "Ad – ünïcode ✓", "status": "ACTIVE", "created_time": T0, "extracted_at": T0}],
    )
    batch.commit()
    wh.flush()
    (row,) = visible(wh, "meta_ads", order="r.ad_id")
    assert row["created_time"] == T0 and row["name"] == "Ad – ünïcode ✓"
    (m,) = wh.query(f"select date_start, date_end from {wh.table_ref('raw', 'meta_batches')}")
    assert (m["date_start"], m["date_end"]) == (None, None)


def test_uncommitted_batches_are_never_visible(wh):
    write(wh, "acme", [insight("ad_1", D1, "1.00"), insight("ad_2", D1, "2.00")])
    write(wh, "acme", [insight("ad_1", D1, "999.99"), insight("ad_9", D1, "999.99")], commit=False)
    wh.flush()
    assert [(r["ad_id"], r["spend"]) for r in visible(wh)] == [("ad_1", Decimal("1.00")), ("ad_2", Decimal("2.00"))]
    assert len(wh.query(f"select batch_id from {wh.table_ref('raw', 'meta_batches')}")) == 1


def test_a_newer_batch_for_the_same_slice_is_recorded_after_the_older(wh):
    """Supersession data: both batches are complete and visible in raw; the manifest orders them so staging can
    keep the newest per (workspace, account, report, date), and another workspace's batch supersedes nothing."""
    old = write(wh, "acme", [insight("ad_1", D1, "1.00"), insight("ad_1", D2, "2.00")], start=D1, end=D2)
    new = write(wh, "acme", [insight("ad_1", D2, "2.50")], start=D2, end=D2)
    other = write(wh, "globex", [insight("ad_1", D2, "7.00")], start=D2, end=D2)
    wh.flush()
    manifest = {r["batch_id"]: r for r in wh.query(f"select * from {wh.table_ref('raw', 'meta_batches')}")}
    assert manifest.keys() == {old.batch_id, new.batch_id, other.batch_id}
    assert manifest[new.batch_id]["completed_at"] > manifest[old.batch_id]["completed_at"]
    # the staging rule, in portable SQL: the latest complete batch per (workspace, account, report) owning the date
    winners = wh.query(
        f"""
        select r.workspace_id, r.date_day, r.spend
        from {wh.table_ref("raw", "meta_insights")} as r
        join {wh.table_ref("raw", "meta_batches")} as m on m.batch_id = r.batch_id
        where m.completed_at = (
            select max(m2.completed_at) from {wh.table_ref("raw", "meta_batches")} as m2
            where m2.workspace_id = m.workspace_id and m2.account_id = m.account_id and m2.report = m.report
              and r.date_day between m2.date_start and m2.date_end
        )
        order by r.workspace_id, r.date_day
        """
    )
    assert [(w["workspace_id"], w["date_day"], w["spend"]) for w in winners] == [
        ("acme", D1, Decimal("1.00")),
        ("acme", D2, Decimal("2.50")),
        ("globex", D2, Decimal("7.00")),
    ]


def test_catalog_lists_tables_and_views_of_every_layer(wh):
    late = Table("late_arrival", (("workspace_id", "string"), ("n", "int64")), schema="intermediate")
    no_ws = Table("no_workspace", (("n", "int64"),), schema=OPS_SCHEMA)
    wh.ensure_table(late)
    wh.ensure_table(no_ws)
    wh.execute(
        f"create view {wh.table_ref('marts', 'v_spend')} as "
        f"select workspace_id, spend from {wh.table_ref('raw', 'meta_insights')}"
    )
    found = {(t.schema, t.name): t.kind for t in wh.tables_with_column("workspace_id")}
    assert found[("intermediate", "late_arrival")] == "table"
    assert found[("marts", "v_spend")] == "view"
    assert found[("raw", "meta_insights")] == "table" and found[("raw", "meta_batches")] == "table"
    assert ("ops", "no_workspace") not in found
    assert {s for s, _ in found} <= set(LAYERS)
    assert wh.tables_with_column("no_such_column_anywhere") == []


def test_delete_by_workspace_leaves_other_workspaces_untouched(wh):
    write(wh, QUOTED, [insight("ad_1", D1, "1.00"), insight("ad_2", D1, "2.00")])
    write(wh, "acme", [insight("ad_1", D1, "3.00"), insight("ad_2", D2, "4.00"), insight("ad_3", D2, "5.00")])
    write(wh, "acme'; delete from x; --", [insight("ad_1", D1, "6.00"), insight("ad_1", D2, "6.00")])
    wh.flush()
    wh.execute(
        f"create view {wh.table_ref('marts', 'v_ins')} as "
        f"select workspace_id, ad_id from {wh.table_ref('raw', 'meta_insights')}"
    )
    tables = wh.tables_with_column("workspace_id")
    before = {t: (wh.count_rows(t, QUOTED), wh.count_rows(t, "acme")) for t in tables}
    assert before[TableInfo("raw", "meta_insights")] == (2, 3)
    assert before[TableInfo("raw", "meta_batches")] == (1, 1)
    assert {t.name for t in tables} >= {"meta_insights", "meta_batches", "meta_ads", "v_ins"}
    assert before[TableInfo("marts", "v_ins", "view")] == (2, 3)

    deleted = {t: wh.delete_rows(t, QUOTED) for t in tables}
    assert deleted[TableInfo("raw", "meta_insights")] == 2
    assert deleted[TableInfo("raw", "meta_batches")] == 1
    assert deleted[TableInfo("marts", "v_ins", "view")] == 0  # views are skipped, and empty through their base
    for t in tables:
        assert wh.count_rows(t, QUOTED) == 0, t
        assert wh.count_rows(t, "acme") == before[t][1], t
    assert wh.count_rows(TableInfo("raw", "meta_insights"), "acme'; delete from x; --") == 2


def test_parameters_are_data_never_sql(wh):
    write(wh, "acme", [insight("ad_1", D1, "1.00"), insight("ad_2", D1, "2.00")])
    wh.flush()
    ref = wh.table_ref("raw", "meta_insights")
    injection = "x' or '1'='1"
    assert wh.query(f"select count(*) as n from {ref} where workspace_id = @ws", {"ws": injection}) == [{"n": 0}]
    rows = wh.query(
        f"select '@not_a_param' as lit, @ws as ws, @day as day, @amount as amount -- @nor_this\n"
        f"from {ref} where ad_id = @ad and date_day = @day /* @nor_that */",
        {"ws": injection, "day": D1, "amount": Decimal("1.50"), "ad": "ad_2"},
    )
    assert [(r["lit"], r["ws"], r["day"], r["amount"]) for r in rows] == [
        ("@not_a_param", injection, D1, Decimal("1.50"))
    ]
    n = wh.execute(f"update {ref} set campaign_id = @c where workspace_id = @ws", {"c": "c'2", "ws": "acme"})
    assert n == 2
    assert {r["campaign_id"] for r in wh.query(f"select campaign_id from {ref}")} == {"c'2"}


def test_parameter_mismatch_is_an_error(wh):
    ref = wh.table_ref("raw", "meta_insights")
    with pytest.raises(WarehouseError, match="no value for @ws"):
        wh.query(f"select * from {ref} where workspace_id = @ws")
    with pytest.raises(WarehouseError, match="not used by the SQL: wss"):
        wh.query(f"select * from {ref} where workspace_id = @ws", {"ws": "a", "wss": "b"})
    with pytest.raises(WarehouseError, match="unterminated"):
        wh.query("select 'oops as x")


@pytest.mark.parametrize("bad", ["meta insights", "x;drop table y", "a.b", "`x`", '"x"', "1abc", "", "é", "a" * 129])
def test_identifiers_are_checked(wh, bad):
    with pytest.raises(WarehouseError, match="invalid"):
        wh.table_ref("raw", bad)
    with pytest.raises(WarehouseError, match="invalid"):
        wh.table_ref(bad, "meta_insights")
    with pytest.raises(WarehouseError, match="invalid"):
        TableInfo("raw", bad)
    with pytest.raises(WarehouseError, match="invalid"):
        wh.tables_with_column(bad)


def test_bad_rows_are_clear_errors(wh):
    batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
    with pytest.raises(WarehouseError, match="unknown raw table"):
        batch.append("no_such_table", [insight("ad_1", D1, "1")])
    with pytest.raises(WarehouseError, match=r"meta_insights\.impressions"):
        batch.append("meta_insights", [insight("ad_1", D1, "1", impressions="many")])
    batch.commit()
    with pytest.raises(WarehouseError, match="already committed"):
        batch.append("meta_insights", [insight("ad_1", D1, "1")])


HEALTH = Table(
    "contract_health",
    (
        ("workspace_id", "string"),
        ("status", "string"),
        ("ok", "bool"),
        ("amount", "numeric"),
        ("seen_at", "timestamp"),
        ("day", "date"),
        ("n", "int64"),
    ),
    schema=OPS_SCHEMA,
)


def test_ops_tables_append_and_replace_by_key(wh):
    wh.ensure_table(HEALTH)
    wh.ensure_table(HEALTH)
    ref = wh.table_ref(OPS_SCHEMA, HEALTH.name)
    assert wh.append_rows(HEALTH, []) == 0
    first = [
        {
            "workspace_id": "acme",
            "status": "ok",
            "ok": True,
            "amount": Decimal("1.5"),
            "seen_at": T0,
            "day": D1,
            "n": 1,
        },
        {"workspace_id": QUOTED, "status": "failed", "ok": False, "n": 2},  # missing columns are NULL
    ]
    assert wh.append_rows(HEALTH, first) == 2
    second = [
        {"workspace_id": QUOTED, "status": "ok", "ok": True, "n": 3},
        {"workspace_id": "new", "status": "ok", "ok": None, "n": 4},
    ]
    assert wh.replace_rows(HEALTH, ["workspace_id"], second) == 2
    got = {r["workspace_id"]: r for r in wh.query(f"select * from {ref}")}
    assert set(got) == {"acme", QUOTED, "new"}
    assert (got["acme"]["amount"], got["acme"]["seen_at"], got["acme"]["day"]) == (Decimal("1.5"), T0, D1)
    assert (got[QUOTED]["status"], got[QUOTED]["n"], got[QUOTED]["amount"]) == ("ok", 3, None)
    assert got["new"]["ok"] is None
    # a key with several rows is replaced as a whole
    wh.append_rows(HEALTH, [{"workspace_id": "acme", "status": "dup", "n": 5}])
    wh.replace_rows(HEALTH, ["workspace_id", "status"], [{"workspace_id": "acme", "status": "dup", "n": 6}])
    acme = sorted(r["n"] for r in wh.query(f"select n from {ref} where workspace_id = @ws", {"ws": "acme"}))
    assert acme == [1, 6]
    wh.replace_rows(HEALTH, ["workspace_id"], [{"workspace_id": "acme", "status": "one", "n": 7}])
    assert wh.query(f"select n from {ref} where workspace_id = @ws", {"ws": "acme"}) == [{"n": 7}]

    with pytest.raises(WarehouseError, match="unknown columns"):
        wh.append_rows(HEALTH, [{"workspace_id": "x", "stauts": "typo"}])
    with pytest.raises(WarehouseError, match="no value for key"):
        wh.replace_rows(HEALTH, ["workspace_id"], [{"status": "no key"}])
    with pytest.raises(WarehouseError, match="not columns"):
        wh.replace_rows(HEALTH, ["nope"], [{"workspace_id": "x"}])


def test_ensure_table_adds_columns_new_to_the_code(wh):
    v1 = Table("evolving", (("workspace_id", "string"), ("n", "int64")), schema=OPS_SCHEMA)
    v2 = Table("evolving", (("workspace_id", "string"), ("n", "int64"), ("note", "string")), schema=OPS_SCHEMA)
    wh.ensure_table(v1)
    wh.append_rows(v1, [{"workspace_id": "acme", "n": 1}])
    # the same instance: a cache of what was ensured must not hide v2's new column
    wh.ensure_table(v2)
    wh.append_rows(v2, [{"workspace_id": "acme", "n": 2, "note": "new"}])
    rows = wh.query(f"select n, note from {wh.table_ref(OPS_SCHEMA, 'evolving')} order by n")
    assert rows == [{"n": 1, "note": None}, {"n": 2, "note": "new"}]


def test_close_makes_committed_batches_durable(make_wh):
    first = make_wh()
    first.ensure_raw()
    write(first, "acme", [insight("ad_1", D1, "1.00"), insight("ad_2", D1, "2.00")])
    first.close()  # no explicit flush
    again = make_wh()
    assert [r["ad_id"] for r in visible(again)] == ["ad_1", "ad_2"]


def test_concurrent_batches_from_many_threads_lose_nothing(wh):
    """The extractor writes accounts in parallel: one warehouse, many threads, each with its own batches."""
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> None:
        rows = [insight(f"ad_{i}_{n}", D1, "1.00") for n in range(30)]
        write(wh, f"ws{i % 4}", [*rows[:15]], account=f"act_{i}")
        write(wh, f"ws{i % 4}", [*rows[15:]], account=f"act_{i}", commit=False)  # abandoned, never visible

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(16)))
    wh.flush()
    assert len(visible(wh)) == 16 * 15
    assert len(wh.query(f"select batch_id from {wh.table_ref('raw', 'meta_batches')}")) == 16


@pytest.mark.parametrize("workspace_id", ["acme-eu", "-" * 64, "_" * 64, "a" + "-_" * 31 + "b"])
def test_access_layers_of_any_id_are_walked_and_dropped(wh, backend, workspace_id):
    """An id of 64 `-`/`_` escapes to 128 characters; its access layer's name still fits what the catalog walk
    addresses (the retention sweep walks it), and the sweep can drop it."""
    layer = access_schema_name(workspace_id)
    fact = Table("fct_x", (("workspace_id", "string"), ("n", "int64")), schema=layer)
    wh.ensure_table(fact)
    wh.append_rows(fact, [{"workspace_id": workspace_id, "n": 1}, {"workspace_id": "other", "n": 2}])
    found = {(t.schema, t.name) for t in wh.tables_with_column("workspace_id")}
    assert (layer, "fct_x") in found
    assert wh.count_rows(TableInfo(layer, "fct_x"), workspace_id) == 1
    assert wh.drop_access_schema(workspace_id) and not wh.drop_access_schema(workspace_id)
    assert layer not in {t.schema for t in wh.tables_with_column("workspace_id")}
    assert wh.count_rows(TableInfo("raw", "meta_insights"), workspace_id) == 0  # the rest is untouched
    # DuckDB rebuilds its file; BigQuery has nothing to rewrite (time travel and fail-safe expire deleted rows)
    assert wh.compact() is (backend == "duckdb")
    assert {t.name for t in wh.tables_with_column("workspace_id")} >= {"meta_insights", "meta_batches"}


def test_nested_action_records_round_trip(wh):
    """meta_insights.actions (a list of records: DuckDB STRUCT[], BigQuery REPEATED RECORD loaded from Parquet)
    reads back exactly: every field, a window Meta did not return as null (not 0), and rows without actions."""
    records = [
        {"action_type": "link_click", "actions_value": Decimal("4"), "actions_1d_click": Decimal("4")},
        {
            "action_type": "offsite_conversion.fb_pixel_purchase",
            "actions_value": Decimal("2"),
            "actions_1d_view": Decimal("0"),
            "action_values_value": Decimal("99.900000001"),
            "conversion_values_28d_click": Decimal("12.5"),
        },
    ]
    write(wh, "acme", [insight("ad_1", D1, "1.00", actions=records), insight("ad_2", D1, "2.00", actions=None)])
    wh.flush()
    got = {r["ad_id"]: r["actions"] or [] for r in visible(wh)}
    assert got["ad_2"] == []  # NULL on DuckDB, an empty array on BigQuery: no records either way
    fields = ACTION_RECORD.field_names()
    assert [sorted(r) for r in got["ad_1"]] == [sorted(fields)] * 2
    assert [{k: v for k, v in r.items() if v is not None} for r in got["ad_1"]] == records
    # staging's way in: one row per record, fields by name
    raw = wh.table_ref("raw", "meta_insights")
    flat = "cross join unnest(r.actions) as a" if "`" in raw else ", unnest(r.actions) as t(a)"
    rows = wh.query(
        f"select r.ad_id, a.action_type, a.actions_value, a.actions_1d_view from {raw} as r {flat} "
        "order by a.action_type"
    )
    assert [(r["ad_id"], r["action_type"], r["actions_value"], r["actions_1d_view"]) for r in rows] == [
        ("ad_1", "link_click", Decimal("4"), None),
        ("ad_1", "offsite_conversion.fb_pixel_purchase", Decimal("2"), Decimal("0")),
    ]


def _legacy(ad: str, batch_id: str, metric: str, action_type: str, window: str, value: str) -> dict:
    row = {k: v for k, v in insight(ad, D1, "0").items() if k in LEGACY_INSIGHTS_ACTIONS.column_names}
    return {
        **row,
        "workspace_id": "acme",
        "account_id": "act_1",
        "batch_id": batch_id,
        "metric": metric,
        "action_type": action_type,
        "attribution_window": window,
        "value": Decimal(value),
    }


def test_old_action_rows_fold_into_their_insights_rows(wh):
    """A warehouse written by the old code (a table of action rows) is folded into the nested column of each old
    batch's own insights rows, then the old table is gone; a second fold changes nothing."""
    old = write(wh, "acme", [insight("ad_1", D1, "1.00"), insight("ad_2", D1, "2.00"), insight("ad_3", D1, "3.00")])
    new = write(wh, "acme", [insight("ad_1", D2, "4.00", actions=[{"action_type": "x", "actions_value": 1}])])
    wh.flush()
    wh.ensure_table(LEGACY_INSIGHTS_ACTIONS)
    legacy = [
        _legacy("ad_1", old.batch_id, "actions", "purchase", "value", "2"),
        _legacy("ad_1", old.batch_id, "actions", "purchase", "7d_click", "3"),
        _legacy("ad_1", old.batch_id, "action_values", "purchase", "value", "40.50"),
        _legacy("ad_1", old.batch_id, "conversions", "purchase", "1d_ev", "1"),
        _legacy("ad_1", old.batch_id, "actions", "link_click", "value", "9"),
        _legacy("ad_2", old.batch_id, "actions", "link_click", "1d_click", "5"),
        # another batch's rows (an older, superseded pull) stay with their own batch only
        {**_legacy("ad_2", "gone", "actions", "link_click", "value", "77")},
    ]
    wh.append_rows(LEGACY_INSIGHTS_ACTIONS, legacy)
    with pytest.raises(WarehouseError, match="1 insights keys have action rows but no insights row"):
        fold_legacy_actions(wh)
    assert legacy_table_exists(wh)  # nothing lost: the old table stays
    ref = wh.table_ref("raw", LEGACY_INSIGHTS_ACTIONS.name)
    wh.execute(f"delete from {ref} where batch_id = @b", {"b": "gone"})

    assert fold_legacy_actions(wh) == 2
    assert not legacy_table_exists(wh)
    assert fold_legacy_actions(wh) == 0
    got = {
        (r["ad_id"], r["date_day"]): sorted(
            ({k: v for k, v in a.items() if v is not None} for a in r["actions"] or []), key=lambda a: a["action_type"]
        )
        for r in visible(wh)
    }
    assert got == {
        ("ad_1", D1): [
            {"action_type": "link_click", "actions_value": Decimal("9")},
            {
                "action_type": "purchase",
                "actions_value": Decimal("2"),
                "actions_7d_click": Decimal("3"),
                "action_values_value": Decimal("40.50"),
                "conversions_1d_ev": Decimal("1"),
            },
        ],
        ("ad_2", D1): [{"action_type": "link_click", "actions_1d_click": Decimal("5")}],
        ("ad_3", D1): [],
        ("ad_1", D2): [{"action_type": "x", "actions_value": Decimal("1")}],  # a new batch: untouched
    }
    assert {r["batch_id"] for r in visible(wh) if r["date_day"] == D2} == {new.batch_id}


def test_ensure_table_adds_a_record_list_column(wh):
    """An insights table created before the nested actions existed gets the column (ALTER TABLE ... ARRAY<STRUCT> /
    STRUCT[]), as the fold of old action rows needs."""
    from warehouse.schema import RecordList

    v1 = Table("evolving_nested", (("workspace_id", "string"), ("n", "int64")), schema=OPS_SCHEMA)
    record = RecordList((("action_type", "string"), ("actions_value", "numeric")))
    v2 = Table("evolving_nested", (*v1.columns, ("items", record)), schema=OPS_SCHEMA)
    wh.ensure_table(v1)
    wh.append_rows(v1, [{"workspace_id": "acme", "n": 1}])
    wh.ensure_table(v2)
    ref = wh.table_ref(OPS_SCHEMA, "evolving_nested")
    flat = "cross join unnest(t.items) as i" if "`" in ref else ", unnest(t.items) as u(i)"
    assert wh.query(f"select t.n, t.items from {ref} as t") in ([{"n": 1, "items": None}], [{"n": 1, "items": []}])
    assert wh.query(f"select count(i.action_type) as n from {ref} as t {flat}") == [{"n": 0}]


def test_columns_come_from_the_catalog_in_table_order_with_their_types(wh):
    table = RAW_TABLES["meta_insights"]
    cols = wh.columns("raw", table.name)
    assert [name for name, _ in cols] == table.column_names
    types = dict(cols)
    assert types["date_day"] == "DATE"
    assert types["spend"].startswith(("DECIMAL", "NUMERIC", "BIGNUMERIC"))
    # the nested action lists keep their shape and field names (DuckDB `STRUCT(...)[]`, BigQuery `ARRAY<STRUCT<...>>`)
    assert "STRUCT" in types["actions"] and "action_type" in types["actions"]
    assert wh.columns("raw", "no_such_table") == []
