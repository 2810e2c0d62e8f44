"""The workspaces sensor and the nightly schedule, evaluated against a real (temporary) Dagster instance."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from dates import Window
from orchestration.partitions import WORKSPACES
from orchestration.resources import RegistryResource
from orchestration.schedules import build_nightly_schedule, nightly_run_requests
from orchestration.sensors import RunInfo, nights_ready_for_marts, workspaces_sensor
from workspaces import MetaConnection, Workspace, WorkspaceStatus, YamlRegistry


def _ws(wid, status=WorkspaceStatus.active, accounts=("act_1",)):
    extra = {"deletion_requested_at": datetime(2026, 11, 1, tzinfo=UTC)} if status == "deletion_requested" else {}
    return Workspace(
        id=wid,
        name=wid,
        status=status,
        meta=MetaConnection(ad_accounts=list(accounts), token_secret=f"t-{wid}"),
        **extra,
    )


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _evaluate_sensor(instance, registry_path, cursor=None):
    ctx = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"registry": RegistryResource(location=str(registry_path))}
    )
    result = workspaces_sensor(ctx)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def test_sensor_keeps_partitions_in_step_with_a_changing_registry(instance, tmp_path):
    path = tmp_path / "workspaces.yaml"
    reg = YamlRegistry(path)
    reg.upsert(_ws("acme"))
    reg.upsert(_ws("globex", WorkspaceStatus.disconnected))
    first = _evaluate_sensor(instance, path)
    assert instance.get_dynamic_partitions(WORKSPACES) == ["acme", "globex"]
    # unchanged registry: nothing requested
    again = _evaluate_sensor(instance, path, first.cursor)
    assert not again.dynamic_partitions_requests
    # a workspace added, another gone from the registry (swept)
    reg.upsert(_ws("initech"))
    path.write_text(path.read_text().replace("id: acme", "id: acme-renamed"))
    _evaluate_sensor(instance, path, first.cursor)
    assert sorted(instance.get_dynamic_partitions(WORKSPACES)) == ["acme-renamed", "globex", "initech"]


def test_nightly_requests_skip_disconnected_and_deleting_workspaces():
    workspaces = [
        _ws("a"),
        _ws("b"),
        _ws("c", WorkspaceStatus.disconnected),
        _ws("d"),
        _ws("e", WorkspaceStatus.deletion_requested),
        _ws("f", accounts=()),
        _ws("g"),
    ]
    keys = [w.id for w in workspaces]
    requests = nightly_run_requests("2026-11-27", keys, workspaces, batch_size=2)
    ranges = [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in requests
    ]
    assert ranges == [("a", "b"), ("d", "d"), ("g", "g")]
    assert [r.run_key for r in requests] == [
        "nightly:2026-11-27:0000",
        "nightly:2026-11-27:0001",
        "nightly:2026-11-27:0002",
    ]
    assert all(r.tags["night"] == "2026-11-27" and r.tags["sentrum/batches"] == "3" for r in requests)
    assert all(r.job_name == "meta_extract_job" for r in requests)
    # deterministic: the same night plans the same runs
    assert [r.run_key for r in nightly_run_requests("2026-11-27", keys, workspaces, 2)] == [r.run_key for r in requests]


def test_schedule_reads_registry_and_partitions(instance, tmp_path):
    path = tmp_path / "workspaces.yaml"
    reg = YamlRegistry(path)
    for w in (_ws("a"), _ws("b", WorkspaceStatus.disconnected), _ws("c")):
        reg.upsert(w)
    instance.add_dynamic_partitions(WORKSPACES, ["a", "b", "c"])
    schedule = build_nightly_schedule("0 2 * * *", batch_size=10)
    ctx = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
        resources={"registry": RegistryResource(location=str(path))},
    )
    result = schedule.evaluate_tick(ctx)
    assert [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in result.run_requests
    ] == [
        ("a", "a"),
        ("c", "c"),
    ]


def test_marts_wait_for_every_batch_of_the_night_whatever_its_outcome():
    S, F, R = dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.STARTED
    runs = [
        RunInfo("2026-11-26", S, 2),
        RunInfo("2026-11-26", F, 2),  # a failed batch does not hold the night back
        RunInfo("2026-11-27", S, 3),
        RunInfo("2026-11-27", R, 3),  # still running
        RunInfo("2026-11-28", S, 2),  # the second batch has not started yet
    ]
    assert nights_ready_for_marts(runs) == ["2026-11-26"]


def test_marts_wait_for_the_retry_of_a_crashed_batch():
    S, F, Q = dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.QUEUED
    night = "2026-11-26"
    crashed = RunInfo(night, F, 2, "1", awaiting_retry=True)
    # the crashed batch is about to be retried: the night is not done, though both batches have a finished run
    assert nights_ready_for_marts([crashed, RunInfo(night, S, 2, "2")]) == []
    relaunched = RunInfo(night, F, 2, "1")  # its retry exists now
    assert nights_ready_for_marts([relaunched, RunInfo(night, Q, 2, "1"), RunInfo(night, S, 2, "2")]) == []
    # two runs of batch 1 are not batch 2
    assert nights_ready_for_marts([relaunched, RunInfo(night, S, 2, "1")]) == []
    done = [relaunched, RunInfo(night, S, 2, "1"), RunInfo(night, S, 2, "2")]
    assert nights_ready_for_marts(done) == [night]


def test_marts_sensor_requests_one_marts_run_per_finished_night(instance):
    from dagster._core.test_utils import create_run_for_test

    from orchestration.sensors import build_marts_sensor

    instance.add_dynamic_partitions(WORKSPACES, ["acme", "globex", "initech"])
    tags = {"night": "2026-11-27", "sentrum/trigger": "schedule", "sentrum/batches": "2"}
    create_run_for_test(instance, job_name="meta_extract_job", tags=tags, status=dg.DagsterRunStatus.SUCCESS)
    sensor = build_marts_sensor(restatement_days=29)
    assert sensor(dg.build_sensor_context(instance=instance)).__class__ is not list  # waiting for batch 2
    create_run_for_test(instance, job_name="meta_extract_job", tags=tags, status=dg.DagsterRunStatus.FAILURE)
    requests = sensor(dg.build_sensor_context(instance=instance))
    assert [r.run_key for r in requests] == ["marts:2026-11-27"]
    config = requests[0].run_config["ops"]["sentrum_dbt"]["config"]
    assert config["window_end"] == "2026-11-27" and config["window_start"] == "2026-10-28"
    # diagnostics for every workspace partition, in the same run as the one dbt build
    assert requests[0].tags["dagster/asset_partition_range_start"] == "acme"
    assert requests[0].tags["dagster/asset_partition_range_end"] == "initech"


def test_backfill_sensor_chunks_a_request_then_builds_the_marts(instance, tmp_path):
    from dagster._core.test_utils import create_run_for_test

    from orchestration.backfills import build_backfill_sensor

    path = tmp_path / "workspaces.yaml"
    YamlRegistry(path).upsert(_ws("acme"))
    request = create_run_for_test(
        instance,
        job_name="backfill_request",
        run_config={
            "ops": {"request_backfill": {"config": {"workspace": "acme", "start": "2026-09-01", "end": "2026-09-25"}}}
        },
        status=dg.DagsterRunStatus.SUCCESS,
    )
    sensor = build_backfill_sensor(chunk_days=10)
    requests = sensor(dg.build_sensor_context(instance=instance))
    assert [r.run_key for r in requests] == [f"backfill:{request.run_id}:{i:04d}" for i in range(3)]
    windows = [r.run_config["ops"]["meta_extract"]["config"] for r in requests]
    assert windows == [
        {"start": "2026-09-01", "end": "2026-09-10"},
        {"start": "2026-09-11", "end": "2026-09-20"},
        {"start": "2026-09-21", "end": "2026-09-25"},
    ]
    assert all(r.partition_key == "acme" for r in requests)
    # every chunk finished (one failed): the marts run for the whole window follows
    statuses = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
    for r, status in zip(requests, statuses, strict=True):
        create_run_for_test(instance, job_name="meta_extract_job", tags=r.tags, status=status)
    requests = sensor(dg.build_sensor_context(instance=instance))
    marts = [r for r in requests if r.job_name == "marts_job"]
    assert [r.run_key for r in marts] == [f"backfill-marts:{request.run_id}"]
    assert marts[0].run_config["ops"]["sentrum_dbt"]["config"]["window_start"] == "2026-09-01"


def test_the_sensor_bodies_are_the_pure_request_functions(instance):
    """The marts and backfill sensors return exactly what the pure functions do (the CLI runs those functions)."""
    from dagster._core.test_utils import create_run_for_test

    from orchestration.backfills import backfill_run_requests, build_backfill_sensor
    from orchestration.sensors import build_marts_sensor, marts_run_requests, run_info

    instance.add_dynamic_partitions(WORKSPACES, ["acme", "globex"])
    tags = {"night": "2026-11-27", "sentrum/trigger": "schedule", "sentrum/batches": "1"}
    night = create_run_for_test(instance, job_name="meta_extract_job", tags=tags, status=dg.DagsterRunStatus.SUCCESS)
    from_sensor = build_marts_sensor(restatement_days=10)(dg.build_sensor_context(instance=instance))
    pure = marts_run_requests([run_info(night)], ["acme", "globex"], 10)
    assert [(r.run_key, r.tags, r.run_config) for r in from_sensor] == [(r.run_key, r.tags, r.run_config) for r in pure]
    # the marts window follows SENTRUM_RESTATEMENT_DAYS (10 days ending yesterday anywhere: 12 UTC dates)
    assert pure[0].run_config["ops"]["sentrum_dbt"]["config"] == {
        "full_refresh": False,
        "window_start": "2026-11-16",
        "window_end": "2026-11-27",
    }

    cfg = {"workspace": "acme", "start": "2026-09-01", "end": "2026-09-25"}
    request = create_run_for_test(
        instance,
        job_name="backfill_request",
        run_config={"ops": {"request_backfill": {"config": cfg}}},
        status=dg.DagsterRunStatus.SUCCESS,
    )
    from_sensor = build_backfill_sensor(chunk_days=10)(dg.build_sensor_context(instance=instance))
    window = Window(date(2026, 9, 1), date(2026, 9, 25))
    pure = backfill_run_requests(request.run_id, "acme", window, 10, finished_chunks=set())
    assert [(r.run_key, r.tags, r.run_config, r.partition_key) for r in from_sensor] == [
        (r.run_key, r.tags, r.run_config, r.partition_key) for r in pure
    ]


def test_the_cli_s_night_differs_from_the_schedule_s_by_its_trigger_only():
    workspaces = [_ws("a"), _ws("b"), _ws("c")]
    keys = [w.id for w in workspaces]
    schedule = nightly_run_requests("2026-11-27", keys, workspaces, 2)
    cli = nightly_run_requests("2026-11-27", keys, workspaces, 2, trigger="cli-nightly")
    assert [(r.run_key, r.run_config) for r in cli] == [(r.run_key, r.run_config) for r in schedule]
    for mine, theirs in zip(cli, schedule, strict=True):
        assert {**mine.tags, "sentrum/trigger": "schedule"} == theirs.tags
    # the marts sensor counts the schedule's nights only: a CLI night builds its own marts run
    assert {r.tags["sentrum/trigger"] for r in cli} == {"cli-nightly"}
