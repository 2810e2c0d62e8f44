"""The DuckDB batch writer's buffering: pages are inserted a few at a time (bounded in rows and in bytes) and
committed every ~N rows, and none of that changes what is visible (the manifest decides) or what is written (every
row, stamped with its batch)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.warehouse.rows import insight, visible
from warehouse import MANIFEST, BatchKey, DuckDBWarehouse, WarehouseError

D1 = date(2026, 11, 1)


ACTIONS = [{"action_type": "purchase", "actions_value": Decimal("1"), "actions_7d_click": Decimal("2")}]


@pytest.mark.parametrize("bound", ["rows", "bytes"])
def test_small_flushes_and_commits_write_everything_and_show_nothing_early(tmp_path, bound):
    path = tmp_path / "w.duckdb"
    # pages of 2 rows: inserted every 2nd page by the row bound, or every page by the byte bound alone
    limits = {"insert_rows": 3} if bound == "rows" else {"insert_rows": 10**9, "insert_bytes": 1}
    with DuckDBWarehouse(path, commit_rows=4, **limits) as wh:
        wh.ensure_raw()
        batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
        for page in range(5):  # flushes and commits mid-batch
            ads = [f"ad_{page}_{i}" for i in range(2)]
            batch.append("meta_insights", [insight(ad, D1, f"{page}.50", actions=ACTIONS) for ad in ads])
        raw = wh.table_ref("raw", "meta_insights")
        # rows of earlier commits are in the table, but the batch has no manifest row: staging sees none
        assert wh.query(f"select count(*) as n from {raw}")[0]["n"] >= 4
        assert visible(wh) == []
        batch.commit()
        rows = visible(wh)
        assert len(rows) == 10 and all(r["actions"][0]["actions_7d_click"] == 2 for r in rows)
        assert {(r["workspace_id"], r["account_id"], r["batch_id"]) for r in rows} == {
            ("acme", "act_1", batch.batch.batch_id)
        }
        assert batch.batch.row_counts == {"meta_insights": 10}
        (m,) = wh.query(f"select row_count, tables from {wh.table_ref('raw', MANIFEST.name)}")
        assert m["row_count"] == 10 and '"meta_insights": 10' in m["tables"]


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
    with DuckDBWarehouse(tmp_path / "w.duckdb", insert_rows=1) as wh:
        wh.ensure_raw()
        wh.execute(f"drop table {wh.table_ref('raw', 'meta_extraction_errors')}")
        batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D1), {})
        batch.append("meta_insights", [insight("ad_1", D1, "1.00")])
        batch.append("meta_extraction_errors", [{"report": "ad_daily"}])  # inserted on an insert thread
        with pytest.raises(WarehouseError, match="meta_extraction_errors"):
            batch.commit()
        assert visible(wh) == []


def test_memory_threads_and_spill_directory_are_set(tmp_path):
    spill = tmp_path / "spill"
    with DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit="256MB", threads=1, temp_directory=spill) as wh:
        (got,) = wh.query(
            "select current_setting('memory_limit') as m, current_setting('threads') as t, "
            "current_setting('temp_directory') as d"
        )
    assert got["t"] == 1 and got["d"] == str(spill) and spill.is_dir()
    assert got["m"] in ("244.1 MiB", "256.0 MB")  # DuckDB prints the limit in binary units
    with pytest.raises(WarehouseError, match="cannot open the DuckDB warehouse"):
        DuckDBWarehouse(tmp_path / "x.duckdb", memory_limit="plenty")
