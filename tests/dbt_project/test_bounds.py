"""dbt's DuckDB is bounded like the extractor's (memory limit, threads, spill directory from SENTRUM_DUCKDB_*), and
the nightly path reads only the window's raw rows (the date filter reaches the raw scan through the staging views)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from tests.dbt_project.helpers import failed

BOUNDS = {"SENTRUM_DUCKDB_MEMORY_LIMIT": "300MiB", "SENTRUM_DUCKDB_THREADS": "1"}
SETTINGS_SQL = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
    "current_setting('temp_directory') as temp_directory"
)


@pytest.fixture(scope="module")
def shown(after_build_runs):
    started = after_build_runs["test_bounds"]
    proc = started["show"].result()
    assert proc.returncode == 0, failed(proc)
    return started, proc


def test_the_profile_passes_the_bounds_to_duckdb(shown):
    started, proc = shown
    # the JSON object follows dbt's log lines
    shown_json, _ = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index('{\n  "show"') :])
    rows = shown_json["show"]
    assert rows == [{"memory_limit": "300.0 MiB", "threads": 1, "temp_directory": str(started["spill"])}]


def _raw_scans(db, sql: str) -> dict[str, list[str]]:
    """The filters DuckDB applies while scanning each raw table for `sql`."""
    with duckdb.connect(str(db), read_only=True) as con:
        plan = json.loads(con.execute(f"explain (format json) {sql}").fetchall()[0][1])
    scans: dict[str, list[str]] = {}
    stack = list(plan)
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", []))
        info = node.get("extra_info") or {}
        table = str(info.get("Table", ""))
        if ".raw." in table:
            scans.setdefault(table.rsplit(".", 1)[-1], []).extend(info.get("Filters") or [])
    return scans


@pytest.mark.parametrize(
    "model",
    ["intermediate.int_meta__insights_daily", "intermediate.int_meta__insights_actions_pivoted"],
)
def test_a_window_reads_only_its_raw_rows(built, model):
    """What every fact reads on a nightly run (its report, the window's dates): the date filter is applied by the scan
    of raw.meta_insights itself, through the staging views' visibility join and the unnesting of the actions, so a
    night does not re-read the history (DuckDB skips the row groups whose dates lie before the window)."""
    start = date(2026, 11, 2)
    sql = f"select * from {model} where report = 'ad_daily' and date_day between date '{start}' and date '2026-11-03'"
    filters = _raw_scans(built.db, sql)["meta_insights"]
    assert f"(date_day >= '{start}'::DATE)" in filters, filters
    assert "(report = 'ad_daily')" in filters, filters
