"""orchestration/history.py on a real Dagster instance (SQLite storage in tmp): a run made for the deleted workspace is
deleted, a batch run that served others keeps their history and loses the workspace's, an unfinished run is left
alone and reported, and afterwards no file of the instance holds the workspace's id or exclusive account."""

import re
from pathlib import Path

import dagster as dg
import pytest

from orchestration.history import scrub_workspace_history, workspace_markers
from orchestration.tags import RANGE_END_TAG, RANGE_START_TAG
from workspaces import MetaConnection, Workspace

GONE, KEPT = "zq-gone", "zq-kept"
ACCOUNTS = {GONE: ["act_9001", "act_5555"], KEPT: ["act_7001", "act_5555"]}  # act_5555 is shared

parts = dg.DynamicPartitionsDefinition(name="workspaces")


@dg.asset(partitions_def=parts, backfill_policy=dg.BackfillPolicy.single_run())
def raw_x(context: dg.AssetExecutionContext) -> dg.Output[None]:
    for key in context.partition_keys:
        for account in ACCOUNTS[key]:
            context.log.info(f"{key}/{account}: 12 rows")  # a log line about one workspace
    context.log.info(f"extracted {', '.join(context.partition_keys)}")  # a line about several
    return dg.Output(None, metadata={"accounts": [a for k in context.partition_keys for a in ACCOUNTS[k]]})


job = dg.define_asset_job("x_job", selection=[raw_x], executor_def=dg.in_process_executor)
defs = dg.Definitions(assets=[raw_x], jobs=[job])


def _files_naming(root: Path, needle: str) -> list[str]:
    pattern = re.compile(rb"(?<![A-Za-z0-9_-])" + re.escape(needle.encode()) + rb"(?![A-Za-z0-9_-])")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and pattern.search(p.read_bytes()))


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        inst.add_dynamic_partitions("workspaces", [GONE, KEPT])
        yield inst


def _run(instance, tags):
    result = defs.resolve_job_def("x_job").execute_in_process(instance=instance, tags=tags)
    assert result.success
    return result.run_id


def test_runs_for_the_workspace_go_and_batch_runs_keep_the_others(instance, tmp_path):
    gone_only = _run(instance, {"dagster/partition": GONE})
    kept_only = _run(instance, {"dagster/partition": KEPT})
    batch = _run(instance, {RANGE_START_TAG: GONE, RANGE_END_TAG: KEPT, "workspace": f"{GONE}..{KEPT} (2)"})
    root = Path(instance.root_directory)
    assert _files_naming(root, GONE) and _files_naming(root, "act_9001")  # positive controls

    markers = workspace_markers(
        GONE,
        Workspace(id=GONE, name="g", meta=MetaConnection(ad_accounts=ACCOUNTS[GONE], token_secret="meta-token-g")),
        [Workspace(id=KEPT, name="k", meta=MetaConnection(ad_accounts=ACCOUNTS[KEPT], token_secret="meta-token-k"))],
    )
    counts = scrub_workspace_history(instance, markers)
    assert counts["runs_deleted"] == 1 and counts["runs_scrubbed"] == 1 and counts["partitions_deleted"] == 1

    assert instance.get_run_by_id(gone_only) is None and instance.all_logs(gone_only) == []
    assert instance.get_run_by_id(kept_only).tags["dagster/partition"] == KEPT
    batch_run = instance.get_run_by_id(batch)
    assert batch_run.tags[RANGE_START_TAG] == "[deleted]" and batch_run.tags[RANGE_END_TAG] == KEPT
    messages = [e.user_message for e in instance.all_logs(batch)]
    assert f"{KEPT}/act_7001: 12 rows" in messages and f"{KEPT}/act_5555: 12 rows" in messages
    # every log line naming it is gone, a line about several workspaces included (the rule: privacy first)
    assert not [m for m in messages if GONE in m or "act_9001" in m]
    assert not [m for m in messages if m.startswith("extracted")]
    # the run's structure is intact: its step still succeeded, its kept partition is still materialized
    kinds = {e.dagster_event.event_type for e in instance.all_logs(batch) if e.dagster_event}
    assert {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.RUN_SUCCESS} <= kinds
    assert instance.get_materialized_partitions(dg.AssetKey("raw_x")) == {KEPT}
    assert GONE not in instance.get_dynamic_partitions("workspaces")
    # no file of the instance names it or its own account; the shared account stays in the kept history
    assert _files_naming(root, GONE) == [] and _files_naming(root, "act_9001") == []
    assert _files_naming(root, "act_5555") and _files_naming(root, KEPT)


def test_an_unfinished_run_is_left_alone_and_reported(instance):
    running = instance.create_run_for_job(job_def=defs.resolve_job_def("x_job"), tags={"dagster/partition": GONE})
    instance.handle_run_event(
        running.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value,
            job_name="x_job",
            message=f"started for {GONE}",
        ),
    )
    markers = workspace_markers(GONE, None, [])
    with pytest.raises(RuntimeError, match="still running"):
        scrub_workspace_history(instance, markers)
    assert instance.get_run_by_id(running.run_id) is not None
