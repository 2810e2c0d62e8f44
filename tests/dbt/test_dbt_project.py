"""dbt_project/ end to end on DuckDB: raw rows written through `warehouse`, one `dbt build`, exact marts.

The scenario (two workspaces, three accounts, one account connected to both workspaces):
- acme/act_101 insights: batch A covers D1..D3; batch B (newer) covers D2..D3 and restates: ad_1 changes on
  D2, ad_2 has no row on D2 (restated to nothing: A's row must not come back); an uncommitted batch C covers
  D3 with bogus numbers (never visible); a newer batch of another report (ad_daily_age_gender) covers D2 (must
  not supersede ad_daily).
- globex/act_101 covers D2 and is committed before acme's B: batches supersede only within their workspace.
- entities: acme/act_101 has an older and a newer snapshot (ad_3, missing from the newer one, keeps its last
  state; ad_2 turns ARCHIVED) and an uncommitted third one; acme/act_102 has a DELETED ad that still spent.
- actions: several attribution windows, overlapping rollup types (omni_purchase, purchase), the `conversions`
  list and non-conversion types: only the default types under window `value` count.

dbt runs as a subprocess (`dbt` beside sys.executable), with its own target and log paths, so test runs can go
in parallel. dbt costs ~5 s per invocation here: the module runs `dbt build` once and asserts on the result.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse import ALL_TABLES, BatchKey, DuckDBWarehouse

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PARAMS = {
    "api_version": "v26.0",
    "action_attribution_windows": ["1d_click", "7d_click", "28d_click", "1d_view"],
}


def dbt(args: list[str], tmp: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run dbt against dbt_project/ with target and log paths under `tmp`."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SENTRUM_", "GOOGLE_", "DBT_")) and k != "CLOUDSDK_CONFIG"
    }
    base.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"})
    base.update(env or {})
    cmd = [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    return subprocess.run(cmd, cwd=tmp, env=base, capture_output=True, text=True, timeout=300)


# ----------------------------------------------------------------------------------------------------
# raw data


def _insight(ad: str, day: date, spend: str, impressions: int, clicks: int, link_clicks: int, reach: int, **kw: Any):
    row = {
        "report": "ad_daily",
        "level": "ad",
        "date_day": day,
        "campaign_id": kw.pop("campaign_id", "c_1011"),
        "adset_id": kw.pop("adset_id", "s_1011"),
        "ad_id": ad,
        "spend": Decimal(spend),
        "impressions": impressions,
        "clicks": clicks,
        "inline_link_clicks": link_clicks,
        "reach": reach,
        "frequency": impressions / reach if reach else None,
    }
    row.update(kw)
    return row


def _actions(ad: str, day: date, metric: str, action_type: str, windows: dict[str, str], **kw: Any):
    base = {
        "report": "ad_daily",
        "level": "ad",
        "date_day": day,
        "campaign_id": kw.pop("campaign_id", "c_1011"),
        "adset_id": kw.pop("adset_id", "s_1011"),
        "ad_id": ad,
        "metric": metric,
        "action_type": action_type,
        **kw,
    }
    return [{**base, "attribution_window": w, "value": Decimal(v)} for w, v in windows.items()]


def _account(name: str, currency: str, tz: str, offset: float, status: int = 1, business: str | None = "biz_1"):
    return {
        "name": name,
        "currency": currency,
        "timezone_name": tz,
        "timezone_offset_hours_utc": offset,
        "account_status": status,
        "business_id": business,
        "extracted_at": T0,
    }


def _campaign(cid: str, name: str, status: str, effective: str, daily: str | None):
    return {
        "campaign_id": cid,
        "name": name,
        "status": status,
        "effective_status": effective,
        "objective": "OUTCOME_SALES",
        "buying_type": "AUCTION",
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
        "daily_budget": Decimal(daily) if daily else None,
        "lifetime_budget": None,
        "created_time": T0,
        "updated_time": T0,
        "start_time": T0,
        "stop_time": None,
        "extracted_at": T0,
    }


def _adset(sid: str, cid: str, status: str, effective: str, daily: str | None = None):
    return {
        "adset_id": sid,
        "campaign_id": cid,
        "name": f"adset {sid}",
        "status": status,
        "effective_status": effective,
        "optimization_goal": "OFFSITE_CONVERSIONS",
        "billing_event": "IMPRESSIONS",
        "bid_strategy": None,
        "daily_budget": Decimal(daily) if daily else None,
        "lifetime_budget": None,
        "created_time": T0,
        "updated_time": T0,
        "start_time": T0,
        "end_time": None,
        "extracted_at": T0,
    }


def _ad(aid: str, sid: str, cid: str, status: str, effective: str, name: str | None = None):
    return {
        "ad_id": aid,
        "adset_id": sid,
        "campaign_id": cid,
        "name": name or f"ad {aid}",
        "status": status,
        "effective_status": effective,
        "creative_id": f"cr_{aid}",
        "created_time": T0,
        "updated_time": T0,
        "extracted_at": T0,
    }


def _write(
    wh: DuckDBWarehouse,
    key: BatchKey,
    tables: dict[str, list[dict[str, Any]]],
    commit: bool = True,
    batch_id: str | None = None,
) -> str:
    batch = wh.open_batch(key, PARAMS)
    if batch_id:  # a known id, for the tie-break case
        batch.batch.batch_id = batch_id
    for table, rows in tables.items():
        batch.append(table, rows)
    if commit:
        batch.commit()
    return batch.batch.batch_id


def write_scenario(path: Path) -> None:
    with DuckDBWarehouse(path) as wh:
        wh.ensure_raw()

        # ---- entities
        _write(
            wh,
            BatchKey("acme", "act_101", "entities"),
            {
                "meta_ad_accounts": [_account("Acme US", "USD", "America/Los_Angeles", -8.0)],
                "meta_campaigns": [_campaign("c_1011", "Prospecting", "ACTIVE", "ACTIVE", "50.00")],
                "meta_adsets": [_adset("s_1011", "c_1011", "ACTIVE", "ACTIVE")],
                "meta_ads": [
                    _ad("ad_1", "s_1011", "c_1011", "ACTIVE", "ACTIVE"),
                    _ad("ad_2", "s_1011", "c_1011", "ACTIVE", "ACTIVE"),
                    _ad("ad_3", "s_1011", "c_1011", "ACTIVE", "ACTIVE", name="ad 3 first"),
                ],
            },
        )
        # globex connects the same account; its snapshot is older than acme's second one
        _write(
            wh,
            BatchKey("globex", "act_101", "entities"),
            {
                "meta_ad_accounts": [_account("Acme US", "USD", "America/Los_Angeles", -8.0)],
                "meta_campaigns": [_campaign("c_1011", "Prospecting", "ACTIVE", "ACTIVE", "50.00")],
                "meta_adsets": [_adset("s_1011", "c_1011", "ACTIVE", "ACTIVE")],
                "meta_ads": [_ad("ad_1", "s_1011", "c_1011", "ACTIVE", "ACTIVE")],
            },
        )
        _write(
            wh,
            BatchKey("acme", "act_101", "entities"),
            {
                "meta_ad_accounts": [_account("Acme US (renamed)", "USD", "America/Los_Angeles", -8.0)],
                "meta_campaigns": [_campaign("c_1011", "Prospecting", "PAUSED", "PAUSED", "75.50")],
                "meta_adsets": [_adset("s_1011", "c_1011", "ACTIVE", "CAMPAIGN_PAUSED")],
                "meta_ads": [
                    _ad("ad_1", "s_1011", "c_1011", "ACTIVE", "CAMPAIGN_PAUSED"),
                    _ad("ad_2", "s_1011", "c_1011", "ARCHIVED", "ARCHIVED"),
                ],
            },
        )
        # crashed: never visible
        _write(
            wh,
            BatchKey("acme", "act_101", "entities"),
            {
                "meta_campaigns": [_campaign("c_1011", "GHOST", "ACTIVE", "ACTIVE", "1.00")],
                "meta_ads": [
                    _ad("ad_1", "s_1011", "c_1011", "ACTIVE", "ACTIVE", name="GHOST"),
                    _ad("ad_ghost", "s_1011", "c_1011", "ACTIVE", "ACTIVE"),
                ],
            },
            commit=False,
        )
        _write(
            wh,
            BatchKey("acme", "act_102", "entities"),
            {
                "meta_ad_accounts": [_account("Acme DE", "EUR", "Europe/Berlin", 1.0)],
                "meta_campaigns": [_campaign("c_1021", "Retargeting", "ACTIVE", "ACTIVE", None)],
                "meta_adsets": [_adset("s_1021", "c_1021", "ACTIVE", "ACTIVE", daily="20.00")],
                "meta_ads": [_ad("ad_21", "s_1021", "c_1021", "DELETED", "DELETED")],
            },
        )
        _write(
            wh,
            BatchKey("globex", "act_201", "entities"),
            {
                "meta_ad_accounts": [_account("Globex JP", "JPY", "Asia/Tokyo", 9.0, status=9, business=None)],
                "meta_campaigns": [_campaign("c_2011", "Leads JP", "ACTIVE", "ACTIVE", "5000")],
                "meta_adsets": [_adset("s_2011", "c_2011", "ACTIVE", "ACTIVE")],
                "meta_ads": [_ad("ad_201", "s_2011", "c_2011", "ACTIVE", "ACTIVE")],
            },
        )

        # ---- insights
        _write(
            wh,
            BatchKey("acme", "act_101", "ad_daily", D1, D3),
            {
                "meta_insights": [
                    _insight("ad_1", D1, "10.00", 1000, 20, 15, 800),
                    _insight("ad_2", D1, "5.55", 500, 5, 4, 450),
                    _insight("ad_3", D1, "1.11", 100, 0, 0, 90),
                    _insight("ad_1", D2, "11.00", 1000, 20, 15, 800),
                    _insight("ad_2", D2, "6.00", 600, 6, 5, 500),
                    _insight("ad_3", D2, "2.22", 200, 2, 1, 180),
                    _insight("ad_1", D3, "12.00", 1200, 24, 18, 1000),
                    _insight("ad_2", D3, "7.00", 700, 7, 6, 600),
                    _insight("ad_3", D3, "3.33", 300, 3, 2, 250),
                ],
                "meta_insights_actions": [
                    *_actions(
                        "ad_1",
                        D1,
                        "actions",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": "2", "7d_click": "3"},
                    ),
                    *_actions(
                        "ad_1",
                        D1,
                        "action_values",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": "40.00"},
                    ),
                    *_actions("ad_1", D2, "actions", "offsite_conversion.fb_pixel_purchase", {"value": "1"}),
                    *_actions("ad_2", D2, "actions", "offsite_conversion.fb_pixel_purchase", {"value": "4"}),
                    *_actions("ad_2", D2, "action_values", "offsite_conversion.fb_pixel_purchase", {"value": "100"}),
                ],
            },
        )
        _write(
            wh,
            BatchKey("globex", "act_101", "ad_daily", D2, D2),
            {"meta_insights": [_insight("ad_1", D2, "11.00", 1000, 10, 8, 700)]},
        )
        _write(
            wh,
            BatchKey("acme", "act_101", "ad_daily", D2, D3),
            {
                "meta_insights": [
                    _insight("ad_1", D2, "11.50", 1100, 22, 16, 900),
                    # ad_2 restated to nothing on D2
                    _insight("ad_3", D2, "2.22", 200, 2, 1, 180),
                    _insight("ad_1", D3, "12.34", 1200, 24, 18, 1000),
                    _insight("ad_2", D3, "7.01", 700, 7, 6, 600),
                    _insight("ad_3", D3, "0.00", 0, 0, 0, 0),
                ],
                "meta_insights_actions": [
                    *_actions(
                        "ad_1",
                        D2,
                        "actions",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": "3", "7d_click": "5", "1d_view": "1", "28d_click": "6"},
                    ),
                    *_actions("ad_1", D2, "actions", "omni_purchase", {"value": "3", "7d_click": "5"}),
                    *_actions("ad_1", D2, "actions", "purchase", {"value": "3"}),
                    *_actions(
                        "ad_1",
                        D2,
                        "actions",
                        "onsite_conversion.lead_grouped",
                        {"value": "2", "1d_click": "2"},
                    ),
                    *_actions("ad_1", D2, "actions", "link_click", {"value": "22"}),
                    *_actions(
                        "ad_1",
                        D2,
                        "action_values",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": "120.50", "7d_click": "200.00"},
                    ),
                    *_actions("ad_1", D2, "action_values", "omni_purchase", {"value": "120.50"}),
                    *_actions("ad_1", D2, "conversions", "offsite_conversion.fb_pixel_purchase", {"value": "3"}),
                    *_actions(
                        "ad_1",
                        D2,
                        "conversion_values",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": "120.50"},
                    ),
                    *_actions("ad_2", D3, "actions", "offsite_conversion.fb_pixel_lead", {"value": "1"}),
                    *_actions("ad_2", D3, "actions", "onsite_conversion.purchase", {"value": "1"}),
                    *_actions("ad_2", D3, "action_values", "onsite_conversion.purchase", {"value": "30.00"}),
                ],
            },
        )
        # crashed batch, newest for D3: must neither appear nor supersede
        _write(
            wh,
            BatchKey("acme", "act_101", "ad_daily", D3, D3),
            {
                "meta_insights": [_insight("ad_1", D3, "999.99", 1, 1, 1, 1)],
                "meta_insights_actions": _actions(
                    "ad_1", D3, "actions", "offsite_conversion.fb_pixel_purchase", {"value": "99"}
                ),
            },
            commit=False,
        )
        # another report, newer, same account and date: supersedes nothing in ad_daily
        _write(
            wh,
            BatchKey("acme", "act_101", "ad_daily_age_gender", D2, D2),
            {
                "meta_insights": [
                    _insight(
                        "ad_1",
                        D2,
                        "5.00",
                        500,
                        10,
                        8,
                        400,
                        report="ad_daily_age_gender",
                        age="25-34",
                        gender="female",
                    )
                ]
            },
        )
        _write(
            wh,
            BatchKey("acme", "act_102", "ad_daily", D1, D1),
            {"meta_insights": [_insight("ad_21", D1, "4.20", 300, 3, 2, 250, campaign_id="c_1021", adset_id="s_1021")]},
        )
        _write(
            wh,
            BatchKey("globex", "act_201", "ad_daily", D1, D2),
            {
                "meta_insights": [
                    _insight("ad_201", D1, "1500", 20000, 100, 80, 15000, campaign_id="c_2011", adset_id="s_2011"),
                    _insight("ad_201", D2, "999", 15000, 90, 70, 12000, campaign_id="c_2011", adset_id="s_2011"),
                ],
                "meta_insights_actions": _actions(
                    "ad_201",
                    D1,
                    "actions",
                    "onsite_conversion.lead_grouped",
                    {"value": "4"},
                    campaign_id="c_2011",
                    adset_id="s_2011",
                ),
            },
        )

        # two re-pulls of globex/act_201 D2 committed at the same instant: the greater batch_id wins the tie
        # (written in the other order, so commit order alone would pick the wrong one)
        tie = BatchKey("globex", "act_201", "ad_daily", D2, D2)
        d2 = {"campaign_id": "c_2011", "adset_id": "s_2011"}
        _write(
            wh,
            tie,
            {"meta_insights": [_insight("ad_201", D2, "1234", 15000, 90, 70, 12000, **d2)]},
            batch_id="tie_b",
        )
        _write(
            wh,
            tie,
            {"meta_insights": [_insight("ad_201", D2, "1111", 15000, 90, 70, 12000, **d2)]},
            batch_id="tie_a",
        )
        wh.query(
            "update raw.meta_batches set completed_at = (select max(completed_at) from raw.meta_batches) "
            "where batch_id in ('tie_a', 'tie_b')"
        )


# ----------------------------------------------------------------------------------------------------
# one build for the module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("dbt_build")
    db = tmp / "warehouse.duckdb"
    write_scenario(db)
    proc = dbt(["build", "--target", "duckdb"], tmp, {"SENTRUM_DUCKDB_PATH": str(db)})
    results = tmp / "target" / "run_results.json"
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    yield db, json.loads(results.read_text())


def q(db: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def test_build_is_green_with_no_warnings(built):
    _, results = built
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    assert statuses, "dbt build ran nothing"
    bad = {k: v for k, v in statuses.items() if v not in ("success", "pass")}
    assert not bad
    kinds = {k.split(".")[0] for k in statuses}
    assert {"model", "test", "unit_test"} <= kinds
    # the singular tenancy test ran
    assert any("assert_marts_have_workspace_id" in k for k in statuses)


def test_schemas_are_named_as_is(built):
    db, _ = built
    tables = q(
        db,
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts')",
    )
    by_schema: dict[str, set[str]] = {}
    for t in tables:
        by_schema.setdefault(t["table_schema"], set()).add(t["table_name"])
    assert by_schema["marts"] == {
        "fct_ad_insights_daily",
        "dim_ad_accounts",
        "dim_campaigns",
        "dim_adsets",
        "dim_ads",
    }
    assert {
        "stg_meta__batches",
        "stg_meta__ad_accounts",
        "stg_meta__campaigns",
        "stg_meta__adsets",
        "stg_meta__ads",
        "stg_meta__insights",
        "stg_meta__insights_actions",
    } == by_schema["staging"]
    assert by_schema["intermediate"] == {"int_meta__ad_conversions_daily"}
    schemas = {r["schema_name"] for r in q(db, "select schema_name from information_schema.schemata")}
    assert not {s for s in schemas if s.endswith(("_marts", "_staging", "_intermediate"))}
    assert {r["table_type"] for r in tables if r["table_schema"] == "marts"} == {"BASE TABLE"}


FCT_COLUMNS = [
    "workspace_id",
    "date_day",
    "account_id",
    "campaign_id",
    "adset_id",
    "ad_id",
    "account_currency",
    "spend",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "reach",
    "conversions",
    "conversion_value",
    "ctr",
    "cpc",
    "cpm",
    "cpa",
    "roas",
]


def test_fct_columns_in_contract_order(built):
    db, _ = built
    cols = q(
        db,
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'fct_ad_insights_daily' order by ordinal_position",
    )
    assert [c["column_name"] for c in cols] == FCT_COLUMNS
    for mart in ("dim_ad_accounts", "dim_campaigns", "dim_adsets", "dim_ads"):
        first = q(
            db,
            f"select column_name from information_schema.columns where table_schema = 'marts' "
            f"and table_name = '{mart}' order by ordinal_position limit 1",
        )
        assert first[0]["column_name"] == "workspace_id", mart


def _fct(db: Path) -> dict[tuple[str, str, str, date], dict[str, Any]]:
    rows = q(db, "select * from marts.fct_ad_insights_daily")
    out = {(r["workspace_id"], r["account_id"], r["ad_id"], r["date_day"]): r for r in rows}
    assert len(out) == len(rows)
    return out


def test_fct_rows_are_latest_complete_batch_per_date(built):
    db, _ = built
    fct = _fct(db)
    expected_spend = {
        # D1 from batch A, D2..D3 from batch B; ad_2 restated to nothing on D2; crashed batch C invisible
        ("acme", "act_101", "ad_1", D1): "10.00",
        ("acme", "act_101", "ad_2", D1): "5.55",
        ("acme", "act_101", "ad_3", D1): "1.11",
        ("acme", "act_101", "ad_1", D2): "11.50",
        ("acme", "act_101", "ad_3", D2): "2.22",
        ("acme", "act_101", "ad_1", D3): "12.34",
        ("acme", "act_101", "ad_2", D3): "7.01",
        ("acme", "act_101", "ad_3", D3): "0.00",
        ("acme", "act_102", "ad_21", D1): "4.20",
        # globex's own batch for the shared account is not superseded by acme's newer one
        ("globex", "act_101", "ad_1", D2): "11.00",
        ("globex", "act_201", "ad_201", D1): "1500",
        # globex/act_201 D2: the tie between two batches with one completed_at goes to the greater batch_id
        ("globex", "act_201", "ad_201", D2): "1234",
    }
    assert {k: v["spend"] for k, v in fct.items()} == {k: Decimal(v) for k, v in expected_spend.items()}
    assert all(isinstance(v["spend"], Decimal) for v in fct.values())
    totals = {
        r["workspace_id"]: r
        for r in q(
            db,
            "select workspace_id, sum(spend) as spend, sum(impressions) as impressions "
            "from marts.fct_ad_insights_daily group by workspace_id",
        )
    }
    assert totals["acme"]["spend"] == Decimal("53.93")
    assert totals["acme"]["impressions"] == 1000 + 500 + 100 + 1100 + 200 + 1200 + 700 + 0 + 300
    assert totals["globex"]["spend"] == Decimal("2745.00")
    row = fct[("acme", "act_101", "ad_1", D2)]
    assert (row["impressions"], row["clicks"], row["inline_link_clicks"], row["reach"]) == (1100, 22, 16, 900)
    assert (row["campaign_id"], row["adset_id"]) == ("c_1011", "s_1011")


def test_fct_currency_conversions_and_ratios(built):
    db, _ = built
    fct = _fct(db)
    assert {k: v["account_currency"] for k, v in fct.items()} == {
        k: {"act_101": "USD", "act_102": "EUR", "act_201": "JPY"}[k[1]] for k in fct
    }
    conv = {
        k: (v["conversions"], v["conversion_value"])
        for k, v in fct.items()
        if v["conversions"] or v["conversion_value"]
    }
    assert conv == {
        # pixel purchases under `value` only (not 7d_click), no omni_purchase/purchase, nor `conversions`
        ("acme", "act_101", "ad_1", D1): (Decimal(2), Decimal("40.00")),
        # batch B replaces A's 1 purchase: 3 pixel purchases + 2 on-Meta leads
        ("acme", "act_101", "ad_1", D2): (Decimal(5), Decimal("120.50")),
        ("acme", "act_101", "ad_2", D3): (Decimal(2), Decimal("30.00")),
        ("globex", "act_201", "ad_201", D1): (Decimal(4), Decimal(0)),
    }
    # an ad without actions has zero conversions, not null
    assert fct[("acme", "act_102", "ad_21", D1)]["conversions"] == 0

    r = fct[("acme", "act_101", "ad_1", D2)]
    assert r["ctr"] == pytest.approx(22 / 1100)
    assert r["cpc"] == pytest.approx(11.50 / 22)
    assert r["cpm"] == pytest.approx(1000 * 11.50 / 1100)
    assert r["cpa"] == pytest.approx(11.50 / 5)
    assert r["roas"] == pytest.approx(120.50 / 11.50)
    # zero denominators give nulls, never errors or infinities
    r = fct[("acme", "act_101", "ad_3", D3)]
    assert (r["ctr"], r["cpc"], r["cpm"], r["cpa"], r["roas"]) == (None, None, None, None, None)
    r = fct[("acme", "act_101", "ad_3", D1)]
    assert r["cpc"] is None and r["ctr"] == pytest.approx(0.0)
    r = fct[("acme", "act_102", "ad_21", D1)]
    assert r["cpa"] is None and r["roas"] == pytest.approx(0.0)


def test_staging_hides_uncommitted_and_superseded_rows(built):
    db, _ = built
    ghost = q(
        db,
        "select count(*) as n from staging.stg_meta__insights where spend = 999.99 "
        "union all select count(*) from staging.stg_meta__insights_actions where metric_value = 99 "
        "union all select count(*) from staging.stg_meta__ads where ad_id = 'ad_ghost' or ad_name = 'GHOST'",
    )
    assert [g["n"] for g in ghost] == [0, 0, 0]
    # the age/gender report keeps its own row; ad_daily for the same date is untouched by it
    by_report = q(
        db,
        "select report, count(*) as n from staging.stg_meta__insights "
        "where workspace_id = 'acme' and account_id = 'act_101' and date_day = date '2026-11-02' "
        "group by report",
    )
    assert {r["report"]: r["n"] for r in by_report} == {"ad_daily": 2, "ad_daily_age_gender": 1}
    # A's actions for ad_2 on D2 are gone with its insights row
    old = q(
        db,
        "select count(*) as n from staging.stg_meta__insights_actions "
        "where ad_id = 'ad_2' and date_day = date '2026-11-02'",
    )
    assert old[0]["n"] == 0
    batches = q(db, "select count(*) as n from staging.stg_meta__batches")
    assert batches[0]["n"] == 13  # committed batches only


def test_dims_hold_latest_state_per_workspace(built):
    db, _ = built
    ads = {(r["workspace_id"], r["ad_id"]): r for r in q(db, "select * from marts.dim_ads")}
    assert set(ads) == {
        ("acme", "ad_1"),
        ("acme", "ad_2"),
        ("acme", "ad_3"),
        ("acme", "ad_21"),
        ("globex", "ad_1"),
        ("globex", "ad_201"),
    }
    assert (ads[("acme", "ad_1")]["status"], ads[("acme", "ad_1")]["effective_status"]) == (
        "ACTIVE",
        "CAMPAIGN_PAUSED",
    )
    assert ads[("acme", "ad_1")]["ad_name"] == "ad ad_1"  # not the crashed batch's GHOST
    assert ads[("acme", "ad_2")]["status"] == "ARCHIVED"
    # missing from the newer snapshot: keeps its last known state
    assert (ads[("acme", "ad_3")]["status"], ads[("acme", "ad_3")]["ad_name"]) == ("ACTIVE", "ad 3 first")
    assert ads[("acme", "ad_21")]["status"] == "DELETED"
    assert ads[("globex", "ad_1")]["effective_status"] == "ACTIVE"
    assert (ads[("acme", "ad_21")]["account_id"], ads[("acme", "ad_21")]["adset_id"]) == ("act_102", "s_1021")
    assert ads[("acme", "ad_1")]["created_at"] == T0

    camps = {(r["workspace_id"], r["campaign_id"]): r for r in q(db, "select * from marts.dim_campaigns")}
    assert len(camps) == 4
    c = camps[("acme", "c_1011")]
    assert (c["status"], c["daily_budget"], c["account_currency"], c["campaign_name"]) == (
        "PAUSED",
        Decimal("75.50"),
        "USD",
        "Prospecting",
    )
    assert (camps[("globex", "c_1011")]["status"], camps[("globex", "c_1011")]["daily_budget"]) == (
        "ACTIVE",
        Decimal("50.00"),
    )
    assert camps[("globex", "c_2011")]["account_currency"] == "JPY"
    assert camps[("acme", "c_1021")]["daily_budget"] is None

    adsets = {(r["workspace_id"], r["adset_id"]): r for r in q(db, "select * from marts.dim_adsets")}
    assert len(adsets) == 4
    assert adsets[("acme", "s_1011")]["effective_status"] == "CAMPAIGN_PAUSED"
    assert (adsets[("acme", "s_1021")]["daily_budget"], adsets[("acme", "s_1021")]["account_currency"]) == (
        Decimal("20.00"),
        "EUR",
    )

    accounts = {(r["workspace_id"], r["account_id"]): r for r in q(db, "select * from marts.dim_ad_accounts")}
    assert set(accounts) == {
        ("acme", "act_101"),
        ("acme", "act_102"),
        ("globex", "act_101"),
        ("globex", "act_201"),
    }
    assert accounts[("acme", "act_101")]["account_name"] == "Acme US (renamed)"
    assert accounts[("globex", "act_101")]["account_name"] == "Acme US"
    g = accounts[("globex", "act_201")]
    assert (g["account_currency"], g["timezone_name"], g["timezone_offset_hours_utc"]) == (
        "JPY",
        "Asia/Tokyo",
        9.0,
    )
    assert (g["account_status"], g["account_status_name"], g["business_id"]) == (9, "IN_GRACE_PERIOD", None)


def test_parse_for_bigquery_needs_no_credentials(tmp_path):
    proc = dbt(["parse", "--target", "bigquery"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    schemas = {n["name"]: n["schema"] for n in nodes.values() if n["resource_type"] == "model"}
    assert schemas["fct_ad_insights_daily"] == "sentrum_marts"
    assert schemas["stg_meta__insights"] == "sentrum_staging"
    assert schemas["int_meta__ad_conversions_daily"] == "sentrum_intermediate"
    assert {s["schema"] for s in manifest["sources"].values()} == {"sentrum_raw"}
    fct = next(n for n in nodes.values() if n["name"] == "fct_ad_insights_daily")
    assert fct["config"]["partition_by"]["field"] == "date_day"
    assert fct["config"]["cluster_by"] == ["workspace_id", "account_id"]


class _FakeBigQuery(BaseHTTPRequestHandler):
    """Answers `tables.get` for the raw tables (schemas from warehouse.schema, minus one column) and 404
    otherwise: enough for `dbt compile`, whose only warehouse calls are the staging models' introspection."""

    dropped = ("meta_insights", "frequency")  # a raw column missing on the warehouse side
    requests: list[str] = []

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.requests.append(self.path)
        m = re.match(r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/?]+)", self.path)
        if m and m.group(2) == "sentrum_raw" and m.group(3) in ALL_TABLES:
            project, dataset, table = m.groups()
            fields = [
                {"name": c, "type": t, "mode": "NULLABLE"}
                for c, t in ALL_TABLES[table].bigquery_types()
                if (table, c) != self.dropped
            ]
            ref = {"projectId": project, "datasetId": dataset, "tableId": table}
            return self._reply(200, {"kind": "bigquery#table", "tableReference": ref, "schema": {"fields": fields}})
        self._reply(404, {"error": {"code": 404, "message": "Not found", "errors": [{"reason": "notFound"}]}})

    do_POST = do_GET


def test_compiles_for_bigquery(tmp_path):
    """BigQuery rendering of every model and test: compiled against a fake endpoint (no emulator needed), then
    each statement parsed as BigQuery SQL. The real BigQuery run comes with the emulator tests."""
    import sqlglot

    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeBigQuery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc = dbt(
            ["compile", "--target", "bigquery", "--no-populate-cache"],
            tmp_path,
            {
                "SENTRUM_BQ_AUTH_METHOD": "oauth-secrets",
                "SENTRUM_BQ_TOKEN": "not-a-real-token",
                "SENTRUM_BQ_API_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
                "SENTRUM_BQ_PROJECT": "test-project",
                "SENTRUM_BQ_JOB_RETRIES": "0",
            },
        )
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    introspected = {re.search(r"/tables/([^/?]+)", p).group(1) for p in _FakeBigQuery.requests if "/tables/" in p}
    assert introspected == set(ALL_TABLES)

    compiled = {p.stem: p.read_text() for p in (tmp_path / "target" / "compiled").rglob("*.sql")}
    insights = compiled["stg_meta__insights"]
    assert "`test-project`.`sentrum_raw`.`meta_insights`" in insights
    assert "cast(spend as numeric) as spend" in insights
    assert "cast(null as float64) as frequency" in insights  # the missing column becomes a typed null
    assert "unnest(generate_date_array(batches.date_start, batches.date_end))" in insights
    assert "safe_divide(" in compiled["fct_ad_insights_daily"]
    for name, sql in compiled.items():
        try:
            sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{name} is not valid BigQuery SQL: {exc}")
