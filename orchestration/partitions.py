"""The `workspaces` dynamic partition and the pure planning around it.

Partition keys are workspace ids only (never workspace x date): Dagster advises at most ~100k keys per asset, and
dates live in the runs' window config instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg

from workspaces import Workspace

WORKSPACES = "workspaces"
workspaces_partitions = dg.DynamicPartitionsDefinition(name=WORKSPACES)


@dataclass(frozen=True)
class PartitionChanges:
    add: list[str]
    remove: list[str]

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


def partition_changes(registry: Iterable[Workspace], existing: Iterable[str]) -> PartitionChanges:
    """Every workspace in the registry has a partition (its data is there until the deletion sweep);
    a partition whose workspace left the registry is removed."""
    wanted = [w.id for w in registry]
    have = set(existing)
    return PartitionChanges(
        add=[w for w in wanted if w not in have],
        remove=sorted(have - set(wanted)),
    )


def apply_partition_changes(instance: dg.DagsterInstance, registry: Iterable[Workspace]) -> PartitionChanges:
    changes = partition_changes(registry, instance.get_dynamic_partitions(WORKSPACES))
    if changes.add:
        instance.add_dynamic_partitions(WORKSPACES, changes.add)
    for key in changes.remove:
        instance.delete_dynamic_partition(WORKSPACES, key)
    return changes


@dataclass(frozen=True)
class WorkspaceBatch:
    """A contiguous range of partition keys, all extractable when planned: one run."""

    workspace_ids: tuple[str, ...]

    @property
    def start(self) -> str:
        return self.workspace_ids[0]

    @property
    def end(self) -> str:
        return self.workspace_ids[-1]

    def run_tags(self) -> dict[str, str]:
        return {
            "dagster/asset_partition_range_start": self.start,
            "dagster/asset_partition_range_end": self.end,
        }


def plan_batches(partition_keys: Sequence[str], extractable: Iterable[str], batch_size: int) -> list[WorkspaceBatch]:
    """Cut the ordered partition keys into runs of at most `batch_size` extractable workspaces.

    A run targets a partition *range*, so a range must not span a workspace that is not to be extracted
    (disconnected, deletion requested): such a key ends the current batch. Batching matters because a Dagster
    run has fixed overhead; one run per workspace would not scale to thousands of workspaces a night.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ok = set(extractable)
    batches: list[WorkspaceBatch] = []
    current: list[str] = []
    for key in partition_keys:
        if key in ok:
            current.append(key)
            if len(current) == batch_size:
                batches.append(WorkspaceBatch(tuple(current)))
                current = []
        elif current:
            batches.append(WorkspaceBatch(tuple(current)))
            current = []
    if current:
        batches.append(WorkspaceBatch(tuple(current)))
    return batches
