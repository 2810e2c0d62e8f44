"""The DuckDB batch writer's buffering: pages are inserted a few at a time and committed every ~N rows, and none of
that changes what is visible (the manifest decides) or what is written (every row, stamped with its batch)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.warehouse.test_contract import insight, visible
from warehouse import MANIFEST, BatchKey, DuckDBWarehouse

D1 = date(2026, 11, 1)


def action(ad: str, window: str, value: str) -> dict:
    return {
        "report": "ad_daily",
        "level": "ad",
        "date_day": D1,
        "campaign_id": "c1",
        "adset_id": "s1",
        "ad_id": ad,
        "metric": "actions",
        "action_type": "purchase",
        "attribution_window": window,
        "value": Decimal(value),
    }


def test_small_flushes_and_commits_write_everything_and_show_nothing_early(tmp_path):
    path = tmp_path / "w.duckdb"
    with DuckDBWarehouse(path, insert_rows=3, commit_rows=4) as wh:
        wh.ensure_raw()
        batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
        for page in range(5):  # pages of 2 insights rows and 4 action rows: flushes and commits mid-batch
            ads = [f"ad_{page}_{i}" for i in range(2)]
            batch.append("meta_insights", [insight(ad, D1, f"{page}.50") for ad in ads])
            batch.append("meta_insights_actions", [action(ad, w, "1") for ad in ads for w in ("value", "7d_click")])
        raw = wh.table_ref("raw", "meta_insights_actions")
        # rows of earlier commits are in the table, but the batch has no manifest row: staging sees none
        assert wh.query(f"select count(*) as n from {raw}")[0]["n"] >= 8
        assert visible(wh, "meta_insights_actions", order="r.ad_id") == []
        batch.commit()
        rows = visible(wh)
        assert len(rows) == 10 and len(visible(wh, "meta_insights_actions", order="r.ad_id")) == 20
        assert {(r["workspace_id"], r["account_id"], r["batch_id"]) for r in rows} == {
            ("acme", "act_1", batch.batch.batch_id)
        }
        assert batch.batch.row_counts == {"meta_insights": 10, "meta_insights_actions": 20}
        (m,) = wh.query(f"select row_count, tables from {wh.table_ref('raw', MANIFEST.name)}")
        assert m["row_count"] == 30 and '"meta_insights_actions": 20' in m["tables"]


def test_a_batch_left_uncommitted_leaves_nothing_visible(tmp_path):
    path = tmp_path / "w.duckdb"
    with DuckDBWarehouse(path, insert_rows=2, commit_rows=2) as wh:
        wh.ensure_raw()
        batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
        for page in range(4):
            batch.append("meta_insights", [insight(f"ad_{page}", D1, "1.00"), insight(f"bd_{page}", D1, "2.00")])
        # the process dies here: closing abandons the batch
    with DuckDBWarehouse(path, read_only=True) as wh:
        assert visible(wh) == []


def test_an_insert_failing_on_its_thread_fails_the_batch_commit(tmp_path):
    from warehouse import WarehouseError

    with DuckDBWarehouse(tmp_path / "w.duckdb", insert_rows=1) as wh:
        wh.ensure_raw()
        wh.execute(f"drop table {wh.table_ref('raw', 'meta_insights_actions')}")
        batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
        batch.append("meta_insights", [insight("ad_1", D1, "1.00")])
        batch.append("meta_insights_actions", [action("ad_1", "value", "1")])  # inserted on an insert thread
        with pytest.raises(WarehouseError, match="meta_insights_actions"):
            batch.commit()
        assert visible(wh) == []
