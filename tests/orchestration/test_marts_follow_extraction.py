"""The marts follow any successful extraction: a run launched by hand (from the UI, for one workspace, without a
night) is followed by one marts run for its workspaces; the schedule's, the CLI's and backfills' runs are not (their
own marts runs follow them)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from orchestration.partitions import WORKSPACES
from orchestration.planning import nightly_marts_window
from orchestration.sensors import ExtractionRun, build_marts_sensor, follow_up_marts_requests

KEYS = ["acme", "globex", "initech"]


def _config(request: dg.RunRequest) -> dict:
    return request.run_config["ops"]["sentrum_dbt"]["config"]


def test_a_hand_launched_run_is_followed_for_its_workspace_and_the_window_ending_that_day():
    run = ExtractionRun("r1", {"dagster/partition": "globex"}, "2026-11-27")
    [request] = follow_up_marts_requests([run], KEYS, restatement_days=29)
    assert request.job_name == "marts_job" and request.run_key == "marts-after:r1"
    window = nightly_marts_window(date(2026, 11, 27), 29)
    assert _config(request) == {
        "full_refresh": False,
        "window_start": window.start.isoformat(),
        "window_end": "2026-11-27",
    }
    # diagnostics for that workspace alone, judging the day the extraction finished
    assert request.tags["dagster/asset_partition_range_start"] == "globex"
    assert request.tags["dagster/asset_partition_range_end"] == "globex"
    assert request.tags["night"] == "2026-11-27"


def test_an_explicit_window_and_a_range_of_workspaces_are_kept():
    tags = {"dagster/asset_partition_range_start": "acme", "dagster/asset_partition_range_end": "globex"}
    run = ExtractionRun("r2", tags, "2026-11-27", start="2026-09-01", end="2026-09-30")
    [request] = follow_up_marts_requests([run], KEYS, restatement_days=29)
    assert (_config(request)["window_start"], _config(request)["window_end"]) == ("2026-09-01", "2026-09-30")
    assert request.tags["workspace"] == "acme..globex (2)"


@pytest.mark.parametrize(
    "tags",
    [
        {"dagster/partition": "acme", "sentrum/trigger": "schedule", "night": "2026-11-27"},
        {"dagster/partition": "acme", "sentrum/trigger": "cli-sync", "night": "2026-11-27"},
        {"dagster/partition": "acme", "sentrum/backfill": "b1", "sentrum/chunk": "1/2"},
        {"dagster/partition": "gone"},  # a workspace whose partition was removed (swept)
    ],
)
def test_runs_whose_marts_are_built_otherwise_are_not_followed(tags):
    assert follow_up_marts_requests([ExtractionRun("r3", tags, "2026-11-27")], KEYS, 29) == []


def test_the_sensor_follows_a_successful_hand_launched_run_and_no_other():
    sensor = build_marts_sensor(restatement_days=29)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(WORKSPACES, KEYS)
        failed = create_run_for_test(
            instance,
            job_name="meta_extract_job",
            tags={"dagster/partition": "acme"},
            status=dg.DagsterRunStatus.FAILURE,
        )
        night = {"night": "2026-11-27", "sentrum/trigger": "schedule", "sentrum/batches": "2"}
        create_run_for_test(instance, job_name="meta_extract_job", tags=night, status=dg.DagsterRunStatus.SUCCESS)
        assert isinstance(sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)  # nothing to follow yet

        ui = create_run_for_test(
            instance,
            job_name="meta_extract_job",
            tags={"dagster/partition": "globex"},
            status=dg.DagsterRunStatus.SUCCESS,
        )
        requests = sensor(dg.build_sensor_context(instance=instance))
        assert [r.run_key for r in requests] == [f"marts-after:{ui.run_id}"]
        assert f"marts-after:{failed.run_id}" not in [r.run_key for r in requests]
        today = datetime.now(UTC).date().isoformat()
        assert _config(requests[0])["window_end"] == today and requests[0].tags["workspace"] == "globex"
