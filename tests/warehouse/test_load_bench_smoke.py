"""The load benchmark's two cases run and write the same content (tiny sizes; the figures are in
bench/load/README.md): compared by a digest of every written column, which is shown to see a changed figure."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load" / "bench_load.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pipeline_and_ceiling_write_the_same_content(bench, tmp_path):
    files = bench.write_pages(2, tmp_path / "pages")
    pipeline = bench.run_pipeline(2, tmp_path, files)
    ceiling = bench.run_ceiling(2, tmp_path, files)
    assert pipeline["rows"] == ceiling["rows"] == 2 * bench.ROWS_PER_PAGE
    assert pipeline["digest"] == ceiling["digest"]

    # ...and the content is the pages': one figure of each list, read back from what the pipeline wrote
    first = next(bench.pages(1))[0]
    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        (actions,) = con.execute("select actions from raw.meta_insights where ad_id = ?", [first["ad_id"]]).fetchone()
    records = {r["action_type"]: r for r in actions}
    assert set(records) == set(bench.ACTION_TYPES)
    for metric in bench.LISTS:
        for entry in first[metric]:
            record = records[entry["action_type"]]
            assert record[f"{metric}_value"] == Decimal(entry["value"]), (metric, entry)
            assert record[f"{metric}_28d_click"] == Decimal(entry["28d_click"]), (metric, entry)
            assert record[f"{metric}_1d_ev"] is None  # a window the pages do not carry


def test_the_digest_sees_a_changed_figure_and_a_lost_record(bench, tmp_path):
    files = bench.write_pages(1, tmp_path / "pages")
    bench.run_ceiling(1, tmp_path, files)
    with duckdb.connect(str(tmp_path / "ceiling.duckdb")) as con:
        before = bench.content_digest(con)
        con.execute("update raw.meta_insights set spend = spend + 0.01 where ad_id = '238020'")
        money = bench.content_digest(con)
        con.execute("update raw.meta_insights set spend = spend - 0.01 where ad_id = '238020'")
        assert bench.content_digest(con) == before
        con.execute("update raw.meta_insights set actions = list_slice(actions, 2, 100) where ad_id = '238021'")
        nested = bench.content_digest(con)
    assert len({before["digest"], money["digest"], nested["digest"]}) == 3
    assert before["rows"] == money["rows"] == nested["rows"] == bench.ROWS_PER_PAGE


def test_parsed_pages_write_the_same_content(bench, tmp_path):
    """The comparison from parsed pages (the SDK's dicts; DuckDB's own table) writes what the JSON one does."""
    files = bench.write_pages(1, tmp_path / "pages")
    from_json = bench.run_ceiling(1, tmp_path, files)
    (tmp_path / "ceiling.duckdb").unlink()
    from_parsed = bench.run_ceiling(1, tmp_path, files, parsed=True)
    pipeline = bench.run_pipeline(1, tmp_path, files, parsed=True)
    assert from_json["digest"] == from_parsed["digest"] == pipeline["digest"]
