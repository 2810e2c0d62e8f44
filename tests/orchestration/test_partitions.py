from orchestration.partitions import partition_changes
from orchestration.planning import plan_batches
from workspaces import MetaConnection, Workspace, WorkspaceStatus


def _ws(wid, status=WorkspaceStatus.active):
    extra = {"deletion_requested_at": "2026-11-01T00:00:00Z"} if status is WorkspaceStatus.deletion_requested else {}
    return Workspace(
        id=wid, name=wid, status=status, meta=MetaConnection(ad_accounts=["act_1"], token_secret="t"), **extra
    )


def test_partitions_follow_the_registry():
    reg = [_ws("a"), _ws("b", WorkspaceStatus.disconnected), _ws("c", WorkspaceStatus.deletion_requested)]
    changes = partition_changes(reg, ["a", "gone"])
    assert changes.add == ["b", "c"]
    assert changes.remove == ["gone"]
    assert not partition_changes(reg, ["a", "b", "c"])


def test_batches_are_ranges_of_extractable_workspaces_only():
    keys = ["a", "b", "c", "d", "e", "f", "g"]
    batches = plan_batches(keys, extractable=["a", "b", "c", "e", "f", "g"], batch_size=2)
    assert [b.workspace_ids for b in batches] == [("a", "b"), ("c",), ("e", "f"), ("g",)]
    assert batches[0].run_tags() == {
        "dagster/asset_partition_range_start": "a",
        "dagster/asset_partition_range_end": "b",
    }
    assert plan_batches(keys, [], 10) == []
    assert [b.workspace_ids for b in plan_batches(keys, keys, 50)] == [tuple(keys)]
