"""The load benchmark's two cases run and agree on what they write (tiny sizes; the figures are in
bench/load/README.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load" / "bench_load.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pipeline_and_ceiling_write_the_same_rows(bench, tmp_path):
    pipeline = bench.run_pipeline(2, tmp_path)
    ceiling = bench.run_ceiling(2, tmp_path)
    # 2 pages of 500 insights rows, each with 8 action types x 5 windows and 4 value types x 2 windows
    assert pipeline["rows"] == ceiling["rows"] == 2 * 500 * (1 + 8 * 5 + 4 * 2)
    assert pipeline["rows_per_s"] > 0 and ceiling["rows_per_s"] > 0
