"""The extraction benchmark's harness, on a tiny case (the real cases run from bench/extract, not in the suite)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "extract" / "run.py"


def test_benchmark_harness_runs_and_checks_the_truth() -> None:
    spec = importlib.util.spec_from_file_location("bench_extract_run", RUN)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run_case("smoke", concurrency=3)
    assert result["ok"] and result["rows_equal_truth"] and result["actions_equal_truth"]
    assert result["insights_rows"] > 0 and result["throttle_errors"] == 0
    assert result["calls_per_account_day"] > 0 and set(result["budget"]) == {"act_10001", "act_10002", "act_10003"}
