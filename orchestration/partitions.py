"""The `workspaces` dynamic partition and the pure planning around it.

Partition keys are workspace ids only (never workspace x date): Dagster advises at most ~100k keys per asset, and
dates live in the runs' window config instead.
"""

from __future__ import annotations

from collections.abc import Iterable
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
