"""The row counts and column types the UI shows (`dagster/row_count`, `dagster/column_schema`), read from the demo's
Dagster instance and checked against the warehouse itself: each raw table its own count per workspace partition, each
mart table its count after the build, each dbt model its columns with the types DuckDB built."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.instance import dagster_instance
from orchestration.settings import Settings
from tests.e2e.conftest import Demo
from warehouse import ALL_TABLES

ROW_COUNT = "dagster/row_count"
COLUMN_SCHEMA = "dagster/column_schema"


@pytest.fixture(scope="module")
def materializations(demo: Demo) -> dict:
    """(asset path, partition) -> the metadata of its latest materialization, from the demo's event log."""
    import dagster as dg

    instance = dagster_instance(Settings(home=demo.home))
    out: dict[tuple[tuple[str, ...], str | None], dict] = {}
    for run in reversed(instance.get_runs()):  # oldest first: a later materialization replaces an earlier one
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            mat = entry.dagster_event.step_materialization_data.materialization
            out[(tuple(mat.asset_key.path), mat.partition)] = dict(mat.metadata)
    return out


@pytest.fixture(scope="module")
def seen(materializations: dict) -> dict:
    """(asset path, partition) -> the row count of its latest materialization."""
    return {key: int(meta[ROW_COUNT].value) for key, meta in materializations.items() if ROW_COUNT in meta}


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


def test_dbt_models_carry_the_column_types_the_warehouse_built(demo: Demo, materializations: dict):
    models = {
        path: meta[COLUMN_SCHEMA].value
        for (path, partition), meta in materializations.items()
        if path[0] in {"staging", "intermediate", "marts"} and partition is None
    }
    assert {path[0] for path in models} == {"staging", "intermediate", "marts"}  # views (staging) as well as tables
    with duckdb.connect(str(demo.duckdb_file), read_only=True) as con:
        for (layer, name), schema in models.items():
            built = con.execute(
                "select column_name, lower(data_type) from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [layer, name],
            ).fetchall()
            assert [(c.name, c.type) for c in schema.columns] == built, name
    # the project's descriptions ride along with the types
    spend = {c.name: c for c in models[("marts", "fct_ad_insights_daily")].columns}["spend"]
    assert spend.type.startswith("decimal") and spend.description
