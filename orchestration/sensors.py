"""Keeps the `workspaces` dynamic partition in step with the registry."""

import hashlib

import dagster as dg

from orchestration.partitions import WORKSPACES, partition_changes
from orchestration.resources import RegistryResource


@dg.sensor(
    name="workspaces_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for each workspace in the registry; removes those that left it.",
)
def workspaces_sensor(context: dg.SensorEvaluationContext, registry: RegistryResource) -> dg.SensorResult:
    workspaces = registry.get().list()
    existing = context.instance.get_dynamic_partitions(WORKSPACES)
    changes = partition_changes(workspaces, existing)
    # The cursor is a digest of the partition set we converged on: an unchanged registry costs nothing more.
    digest = hashlib.sha256(",".join(sorted(w.id for w in workspaces)).encode()).hexdigest()[:16]
    if not changes:
        return dg.SensorResult(cursor=digest, skip_reason=dg.SkipReason("partitions match the registry"))
    requests = []
    if changes.add:
        requests.append(dg.AddDynamicPartitionsRequest(WORKSPACES, changes.add))
    if changes.remove:
        requests.append(dg.DeleteDynamicPartitionsRequest(WORKSPACES, changes.remove))
    context.log.info(f"partitions: +{changes.add} -{changes.remove}")
    return dg.SensorResult(dynamic_partitions_requests=requests, cursor=digest)


defs = dg.Definitions(sensors=[workspaces_sensor])
