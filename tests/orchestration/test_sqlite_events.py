"""The embedded default's event log (orchestration/sqlite_events.py, named by the `dagster.yaml` that
orchestration/instance.py writes): Dagster's SQLite files in Dagster's place, each file's engine built once per
process, a bounded number of engines kept, and a home moved elsewhere writing to its new place."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage

import orchestration.sqlite_events as sqlite_events
from orchestration.history import _sql_storage
from orchestration.instance import dagster_instance
from orchestration.settings import Settings


@dg.asset
def numbers() -> dg.Output[int]:
    return dg.Output(3, metadata={"rows": 3})


@dg.asset_check(asset=numbers)
def numbers_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


JOB = dg.define_asset_job("numbers_job", selection=[numbers], executor_def=dg.in_process_executor)
DEFS = dg.Definitions(assets=[numbers], asset_checks=[numbers_positive], jobs=[JOB])


@pytest.fixture
def engines_built(monkeypatch) -> list[str]:
    """The connection strings of the engines the storage builds (the real `create_engine` still builds them)."""
    built: list[str] = []
    real = sqlite_events.create_engine

    def counting(url, **kwargs):
        built.append(str(url))
        return real(url, **kwargs)

    monkeypatch.setattr(sqlite_events, "create_engine", counting)
    return built


def _events(instance: dg.DagsterInstance) -> sqlite_events.EngineCachingSqliteEventLogStorage:
    storage = _sql_storage(instance.event_log_storage, SqlEventLogStorage)
    assert isinstance(storage, sqlite_events.EngineCachingSqliteEventLogStorage)
    return storage


def test_a_run_s_events_go_through_one_engine_per_file_in_dagster_s_place(tmp_path, engines_built):
    instance = dagster_instance(Settings(home=tmp_path))
    storage = _events(instance)
    # the sweep's history scrub needs both SQL storages
    assert isinstance(_sql_storage(instance.run_storage, SqlRunStorage), SqliteRunStorage)
    result = DEFS.resolve_job_def("numbers_job").execute_in_process(instance=instance)
    assert result.success
    run_id = result.run_id

    logs = instance.all_logs(run_id)
    assert len(logs) > 15  # run, step, planned, materialization, check events: each written at least once
    assert instance.get_latest_materialization_event(numbers.key).run_id == run_id  # mirrored in the index
    [check] = [e for e in logs if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert check.dagster_event.event_specific_data.passed
    # Dagster's own layout: the run's file and the index under dagster/history/runs
    runs_dir = tmp_path / "dagster" / "history" / "runs"
    assert {p.name for p in runs_dir.glob("*.db")} == {f"{run_id}.db", "index.db"}
    # one engine per file, not one per event (Dagster's storage builds one for every connection)
    assert sorted(engines_built) == sorted(set(engines_built)) and len(engines_built) <= 2
    assert {Path(u.removeprefix("sqlite:///")).name for u in engines_built} <= {f"{run_id}.db", "index.db"}
    # a second instance (another process: the UI, the daemon) reads the same history
    assert len(dagster_instance(Settings(home=tmp_path)).all_logs(run_id)) == len(logs)
    assert storage is _events(instance)


def test_engines_kept_are_bounded_and_the_oldest_is_built_again(tmp_path, engines_built):
    storage = _events(dagster_instance(Settings(home=tmp_path)))
    for i in range(sqlite_events.MAX_ENGINES + 5):
        with storage.run_connection(f"run-{i}") as conn:
            conn.exec_driver_sql("select 1")
    built = len(engines_built)
    assert built >= sqlite_events.MAX_ENGINES + 5
    with storage.run_connection(f"run-{sqlite_events.MAX_ENGINES + 4}"):  # the newest: kept
        pass
    assert len(engines_built) == built
    with storage.run_connection("run-0"):  # the oldest: let go, built again
        pass
    assert len(engines_built) == built + 1
    assert len(storage._engines) == sqlite_events.MAX_ENGINES


def test_a_home_moved_elsewhere_writes_its_events_there(tmp_path):
    first = tmp_path / "first"
    result = DEFS.resolve_job_def("numbers_job").execute_in_process(instance=dagster_instance(Settings(home=first)))
    moved = tmp_path / "moved"
    shutil.copytree(first, moved)
    shutil.rmtree(first)

    instance = dagster_instance(Settings(home=moved))
    assert str(first) not in (moved / "dagster" / "dagster.yaml").read_text()
    assert len(instance.all_logs(result.run_id)) > 15  # the history came along
    again = DEFS.resolve_job_def("numbers_job").execute_in_process(instance=instance)
    assert (moved / "dagster" / "history" / "runs" / f"{again.run_id}.db").exists()
    assert not first.exists()


def test_a_dagster_yaml_of_another_kind_is_left_as_it_is(tmp_path):
    config = tmp_path / "dagster" / "dagster.yaml"
    config.parent.mkdir(parents=True)
    text = "# a deployment's own file\ntelemetry:\n  enabled: false\n"
    config.write_text(text)
    instance = dagster_instance(Settings(home=tmp_path))
    assert config.read_text() == text
    assert not isinstance(
        _sql_storage(instance.event_log_storage, SqlEventLogStorage), sqlite_events.EngineCachingSqliteEventLogStorage
    )
