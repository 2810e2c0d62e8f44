"""What the UI shows of every asset, check, schedule and sensor, over the loaded definitions (iterated, not named):
an owner, a group that is the key's first part, kinds naming the warehouse and the source, descriptions, column
names on the dbt models; and schedules that stay off unless the settings turn them on."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.catalog import OWNER
from orchestration.definitions import build_definitions
from orchestration.settings import Settings

LAYERS = {"raw", "staging", "intermediate", "marts", "diagnostics", "ops"}


def _defs(tmp_path, **settings) -> dg.Definitions:
    return build_definitions(Settings(home=tmp_path, **settings))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return _defs(tmp_path_factory.mktemp("home")).get_repository_def()


def _specs(repo) -> list[dg.AssetSpec]:
    return [a.specs_by_key[k] for k, a in repo.assets_defs_by_key.items() if k in a.specs_by_key]


def test_every_asset_has_the_owner_and_its_layer_as_group(repo):
    specs = _specs(repo)
    assert len(specs) >= 40
    for spec in specs:
        assert spec.owners == [OWNER], spec.key
        assert spec.group_name == spec.key.path[0] in LAYERS, spec.key


@pytest.mark.parametrize("warehouse", ["duckdb", "bigquery"])
def test_kinds_name_the_warehouse_of_the_settings_and_the_meta_source(tmp_path, warehouse):
    extra = {"bq_project": "p", "bq_location": "EU"} if warehouse == "bigquery" else {}
    repo = _defs(tmp_path, warehouse=warehouse, **extra).get_repository_def()
    other = ({"duckdb", "bigquery"} - {warehouse}).pop()
    for spec in _specs(repo):
        assert warehouse in spec.kinds and other not in spec.kinds, (spec.key, spec.kinds)
        extracted = spec.key.path[0] == "raw" or spec.key.to_user_string() == "ops/workspace_health"
        assert ("meta" in spec.kinds) == extracted, (spec.key, spec.kinds)
        assert len(spec.kinds) <= 3  # Dagster shows at most three


def test_dbt_models_carry_their_columns(repo):
    models = [s for s in _specs(repo) if s.key.path[0] in {"staging", "intermediate", "marts"}]
    assert models
    for spec in models:
        schema = spec.metadata.get("dagster/column_schema")
        assert isinstance(schema, dg.TableSchema) and schema.columns, spec.key
        assert all(c.name for c in schema.columns)


def test_every_check_schedule_and_sensor_is_described(repo):
    graph = repo.asset_graph
    checks = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    assert len(checks) > 50
    for spec in checks:
        assert spec.description and spec.description.strip(), spec.key
    for definition in [*repo.schedule_defs, *repo.sensor_defs]:
        assert definition.description and definition.description.strip(), definition.name


def test_schedules_are_off_unless_the_settings_turn_them_on(tmp_path, repo):
    assert repo.schedule_defs
    for schedule in repo.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED, schedule.name
    running = _defs(tmp_path, schedules_running=True).get_repository_def()
    assert {s.name for s in running.schedule_defs} == {s.name for s in repo.schedule_defs}
    for schedule in running.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, schedule.name
    # the sensors that react to runs (partitions, marts, backfills) run in both: they launch nothing on their own
    for sensor in repo.sensor_defs:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
