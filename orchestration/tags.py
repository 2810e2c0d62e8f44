"""Run tags: every name the schedule, the sensors, the CLI, the assets and the history scrubber read or write, spelled
once. Values that say what started a run (`TRIGGER_TAG`) are here too."""

from __future__ import annotations

# Ours.
NIGHT_TAG = "night"  # the night (UTC date, ISO) a run belongs to; diagnostics judge that night
WORKSPACE_TAG = "workspace"  # the run's workspace, or its batch's label ("a..c (3)"), for the UI's run list
TRIGGER_TAG = "sentrum/trigger"  # what started the run (below)
BATCHES_TAG = "sentrum/batches"  # how many extraction runs the night has
BATCH_TAG = "sentrum/batch"  # which of them this one is (1-based)
BACKFILL_TAG = "sentrum/backfill"  # the backfill's id (planning.backfill_id)
CHUNK_TAG = "sentrum/chunk"  # "2/13": which chunk of the backfill

# Dagster's own, set by us where a run covers a range of workspace partitions (or read back).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
RUN_KEY_TAG = "dagster/run_key"

# TRIGGER_TAG values. The marts sensor counts only the schedule's extraction runs as a night: a night started from
# the command line builds its own marts run.
SCHEDULE_TRIGGER = "schedule"
CLI_NIGHTLY = "cli-nightly"
CLI_SYNC = "cli-sync"
CLI_DIAGNOSE = "cli-diagnose"
CLI_SWEEP = "cli-sweep"
CLI_EXPORT = "cli-export"
