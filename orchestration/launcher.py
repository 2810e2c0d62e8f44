"""The run launcher of the single-machine deployment (deploy/dagster.yaml): Dagster's DefaultRunLauncher (the code
server starts each run in a process of its own), plus the worker health check that run monitoring needs.

DefaultRunLauncher has none. A run process that dies while its code server lives is failed by the server itself,
but when the code server goes (its container restarts, the machine reboots) its runs die with it and stay STARTED
for ever: the night's marts never follow and nothing retries them. Here a run is alive while the code server at
its address still has it; a restarted server does not, so run monitoring fails the run and run retries launch it
again. This holds for `dagster api grpc` (the image's command), one server process for its whole life; behind
`dagster code-server start` a reload would move the question to a new server that never had the run.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._grpc.types import CanCancelExecutionRequest, CanCancelExecutionResult
from dagster._serdes import deserialize_value

# The health check is one small gRPC call; a server too busy to answer within this is reported as unknown.
HEALTH_CHECK_TIMEOUT_S = 30


class MonitoredRunLauncher(dg.DefaultRunLauncher):
    """DefaultRunLauncher whose runs run monitoring can check (`run_monitoring.enabled` in dagster.yaml)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        client = self._get_grpc_client_for_termination(run.run_id)
        if client is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run has no code server address")
        try:
            reply = deserialize_value(
                client.can_cancel_execution(
                    CanCancelExecutionRequest(run_id=run.run_id), timeout=HEALTH_CHECK_TIMEOUT_S
                ),
                CanCancelExecutionResult,
            )
        except DagsterUserCodeUnreachableError as exc:
            # Down or restarting: no verdict yet (the next poll asks again; max_runtime_seconds bounds the wait).
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, f"code server unreachable: {exc}")
        if reply.can_cancel:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            "the code server at the run's address is not running it: the server restarted since it started the "
            "run, so the run's process is gone",
        )
