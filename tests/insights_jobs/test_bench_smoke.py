"""The extraction benchmark's harness, on a tiny case (the real cases run from bench/extract, not in the suite)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "extract" / "run.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_extract_run", RUN)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_harness_writes_the_warehouse_and_checks_the_truth(tmp_path: Path) -> None:
    bench = _bench()
    result = bench.run_case("smoke", concurrency=3, work=tmp_path)
    assert result["ok"] and result["rows_equal_truth"] and result["actions_equal_truth"]
    assert result["insights_rows"] > 0 and result["throttle_errors"] == 0
    assert result["calls_per_account_day"] > 0 and set(result["budget"]) == {"act_10001", "act_10002", "act_10003"}
    # the rows went through the pipeline's DuckDB writer into a real file, at the pipeline's DuckDB settings
    assert result["tables"]["meta_insights"] == result["insights_rows"] and result["warehouse_mb"] > 0
    assert result["duckdb"] == {"memory_limit": "2GB", "threads": 4, "write_buffer_mb": 16}


def test_the_read_back_sees_a_changed_figure(tmp_path: Path) -> None:
    """The truth check reads the warehouse: one changed figure there, and the digests differ."""
    import duckdb

    bench = _bench()
    db = tmp_path / "w.duckdb"
    from warehouse import BatchKey, DuckDBWarehouse

    row = {"date_day": bench.NOW.date(), "campaign_id": "1", "adset_id": "2", "ad_id": "3", "spend": Decimal("1.50"),
           "impressions": 10, "clicks": 1, "inline_link_clicks": 1, "reach": 9, "actions": None}  # fmt: skip
    with DuckDBWarehouse(db) as wh:
        wh.ensure_raw()
        batch = wh.open_batch(BatchKey("w", "act_1", "ad_daily", row["date_day"], row["date_day"]), {})
        batch.append("meta_insights", [{**row, "report": "ad_daily", "account_id": "1"}])
        batch.commit()
    before, _, tables = bench.visible(db)
    assert tables["meta_insights"] == 1 and len(before) == 1
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.meta_insights set spend = 1.51")
    after, _, _ = bench.visible(db)
    assert after.keys() == before.keys() and after != before
