"""The volume benchmark's harness (bench/volume/run.py) on a tiny workspace: the real `sentrum sync` as a
subprocess, its process tree's memory, the stages from the event log, and the marts against the truth."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.support.prepared_dbt import prepared_dbt_target

RUN = Path(__file__).resolve().parents[2] / "bench" / "volume" / "run.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_volume_run", RUN)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.slow
def test_volume_harness_measures_a_real_sync_and_checks_the_marts(tmp_path: Path) -> None:
    work = tmp_path / "work"
    # the session's prepared dbt target: the harness, not dbt's parse of a fresh home, is what this checks
    proc = subprocess.run(
        [sys.executable, str(RUN), "--case", "smoke", "--work", str(work), "--keep",
         "--prepared-dbt", str(prepared_dbt_target())],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["sync_exit"] == 0 and result["marts_equal_truth"]
    assert result["ad_days_truth"] == result["ad_days_mart"] > 10 and result["action_figures_truth"] > 0
    # every stage was found in the event log, and the run's processes were seen: the CLI and dbt under it
    assert {"extraction", "dbt", "checks", "diagnostics"} <= set(result["stages_s"])
    assert [r["job"] for r in result["runs"]] == ["meta_extract_job", "marts_job"]
    assert {"sentrum sync", "dbt"} <= set(result["peak_rss_mb_by_kind"])
    assert result["peak_rss_mb_sum"] >= result["peak_rss_mb_by_kind"]["sentrum sync"] > 50
    assert result["raw_rows"]["meta_insights"] == sum(result["insights_rows_by_report"].values())
    assert set(result["insights_rows_by_report"]) == {
        "account_daily", "adset_daily", "campaign_daily", "ad_daily", "ad_daily_age_gender", "ad_daily_country",
        "ad_daily_device", "ad_daily_placement",
    }  # fmt: skip
    assert result["api_calls"] > 0 and result["warehouse_mb"] > 0
    assert result["cpu_s_sync_tree"] >= result["cpu_s_by_kind_sampled"]["dbt"] > 0

    # The mart check sees one changed figure and one lost row.
    bench = _bench()
    db = work / ".sentrum" / "warehouse.duckdb"
    sc = bench.scenario("smoke")
    start, end = (date.fromisoformat(d) for d in result["window"])
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_ad_insights_daily set spend = spend + 0.01 where rowid = 0")
    changed = bench.check_marts(db, sc, start, end)
    assert not changed["marts_equal_truth"] and changed["ad_days_differing"] == 1
    with duckdb.connect(str(db)) as con:
        con.execute(
            "delete from marts.fct_ad_actions_daily where rowid = "
            "(select min(rowid) from marts.fct_ad_actions_daily where actions <> 0)"
        )
    lost = bench.check_marts(db, sc, start, end)
    assert lost["action_figures_differing"] == 1 and lost["action_figures_mart"] == lost["action_figures_truth"] - 1
