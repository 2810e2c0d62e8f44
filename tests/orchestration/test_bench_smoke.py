"""The orchestration benchmark's harness on two workspaces, in-process (the real sizes run from bench/orchestration;
its deployed mode starts the same stack as tests/deployed, which that suite covers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prepared_dbt import prepared_dbt_target

RUN = Path(__file__).resolve().parents[2] / "bench" / "orchestration" / "run.py"


@pytest.mark.slow
def test_benchmark_harness_counts_runs_steps_and_event_writes(tmp_path: Path) -> None:
    # the session's prepared dbt target: the harness, not dbt's parse, is what this checks
    proc = subprocess.run(
        [sys.executable, str(RUN), "--workspaces", "2", "--batch-size", "1", "--restatement-days", "2",
         "--work", str(tmp_path / "work"), "--prepared-dbt", str(prepared_dbt_target())],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["mode"] == "in-process"
    # two extraction runs of one workspace each, then one marts run
    assert result["runs"] == 3 and result["workspaces_ok"] == 2 and result["workspaces_failed"] == 0
    assert 0 < result["inside_steps_s"] < result["nightly_wall_s"]
    kinds = result["event_log_entries_by_type"]
    # each workspace's raw assets are materialized per partition: at least one materialization per workspace
    assert kinds["ASSET_MATERIALIZATION"] >= 2 and kinds["STEP_START"] >= 3 and kinds["RUN_SUCCESS"] == 3
    assert result["event_log_entries"] == sum(kinds.values())
    assert result["event_log_entries_per_workspace"] == round(result["event_log_entries"] / 2, 1)
    assert result["api_calls"] > 0
    assert "run_launch" not in result


def test_bad_sizes_exit_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--workspaces", "0", "--work", str(tmp_path / "w")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--workspaces" in proc.stderr
