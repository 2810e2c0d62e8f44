"""The CLI's failure summary names the cause, not Dagster's wrapper: a step retried until its policy gave up on a
locked DuckDB file says that the file is locked (a real lock, held by another process; a real retry policy)."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from orchestration.outcomes import failure_summary
from warehouse import DuckDBWarehouse

HOLD_LOCK = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); sys.stdin.read()"


def test_a_retried_failure_shows_the_underlying_reason(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    DuckDBWarehouse(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"

        @dg.op(retry_policy=dg.RetryPolicy(max_retries=2, delay=0))
        def open_the_warehouse() -> None:
            DuckDBWarehouse(path).close()

        @dg.job(executor_def=dg.in_process_executor)
        def job() -> None:
            open_the_warehouse()

        instance = dg.DagsterInstance.ephemeral()
        result = job.execute_in_process(raise_on_error=False, instance=instance)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    summary = failure_summary(instance, result.run_id)
    assert summary is not None and "\n" not in summary
    assert "cannot open the DuckDB warehouse" in summary and "lock" in summary.lower()
    assert "max_retries of 2" in summary  # and that it was retried before giving up
