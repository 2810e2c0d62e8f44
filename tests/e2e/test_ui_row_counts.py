"""The row counts the UI shows (`dagster/row_count`), read from the demo's Dagster instance and checked against the
warehouse itself: each raw table its own count per workspace partition, each mart table its count after the build."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.instance import dagster_instance
from orchestration.settings import Settings
from tests.e2e.conftest import Demo
from warehouse import ALL_TABLES

ROW_COUNT = "dagster/row_count"


@pytest.fixture(scope="module")
def seen(demo: Demo):
    """(asset path, partition) -> the row count of its latest materialization, from the demo's event log."""
    import dagster as dg

    instance = dagster_instance(Settings(home=demo.home))
    out: dict[tuple[tuple[str, ...], str | None], int] = {}
    for run in instance.get_runs():
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            mat = entry.dagster_event.step_materialization_data.materialization
            if ROW_COUNT in mat.metadata:
                out[(tuple(mat.asset_key.path), mat.partition)] = int(mat.metadata[ROW_COUNT].value)
    return out


def test_each_raw_table_has_its_own_row_count_per_workspace(demo: Demo, seen):
    with duckdb.connect(str(demo.duckdb_file), read_only=True) as con:
        for table in ALL_TABLES:
            actual = dict(con.sql(f"select workspace_id, count(*) from raw.{table} group by all").fetchall())
            for workspace in ("acme", "globex", "initech"):
                assert seen[(("raw", table), workspace)] == actual.get(workspace, 0), (table, workspace)
    # not one set of figures repeated on every table
    assert len({seen[(("raw", t), "acme")] for t in ALL_TABLES}) > 3


def test_mart_tables_carry_their_row_count(demo: Demo, seen):
    marts = {path[1]: n for (path, partition), n in seen.items() if path[0] == "marts" and partition is None}
    assert len(marts) >= 10
    with duckdb.connect(str(demo.duckdb_file), read_only=True) as con:
        for name, n in marts.items():
            assert con.execute(f"select count(*) from marts.{name}").fetchone()[0] == n, name
