"""The workspaces sensor and the nightly schedule, evaluated against a real (temporary) Dagster instance."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration.partitions import WORKSPACES
from orchestration.resources import RegistryResource
from orchestration.schedules import build_nightly_schedule, nightly_run_requests
from orchestration.sensors import workspaces_sensor
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
    assert all(r.tags["night"] == "2026-11-27" for r in requests)
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
