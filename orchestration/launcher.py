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

import threading
import time

import dagster as dg
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import CanCancelExecutionRequest, CanCancelExecutionResult
from dagster._serdes import deserialize_value

# The health check is two small gRPC calls; a server too busy to answer within this is asked again later.
HEALTH_CHECK_TIMEOUT_S = 30
# A server that has just come back: the daemon's own copy of the code location is refreshed a moment later, and a
# run failed before that cannot be retried (the retry is built from that copy, and Dagster does not try twice).
# So a server is judged only once it has answered, as the same server, for this long.
SETTLE_S = 20


class MonitoredRunLauncher(dg.DefaultRunLauncher):
    """DefaultRunLauncher whose runs run monitoring can check (`run_monitoring.enabled` in dagster.yaml)."""

    def __init__(self, inst_data=None) -> None:
        super().__init__(inst_data=inst_data)
        self._servers: dict[str, tuple[str, float]] = {}  # address -> (server id, first answer seen, monotonic)
        self._lock = threading.Lock()

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        client = self._get_grpc_client_for_termination(run.run_id)
        if client is None:
            # Not started by a code server (e.g. executed in-process by the CLI): not this launcher's to judge.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not launched through a code server, not checked")
        try:
            reply = deserialize_value(
                client.can_cancel_execution(
                    CanCancelExecutionRequest(run_id=run.run_id), timeout=HEALTH_CHECK_TIMEOUT_S
                ),
                CanCancelExecutionResult,
            )
            if reply.can_cancel:
                return CheckRunHealthResult(WorkerStatus.RUNNING)
            settled = self._settled(client)
        except DagsterUserCodeUnreachableError:
            # Down or restarting: no verdict until it answers (run monitoring fails a run on anything but RUNNING,
            # and a run failed now could not be retried: the retry needs the code server). max_runtime_seconds
            # bounds the wait if it never comes back.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "code server unreachable, asking again at the next poll")
        if not settled:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "code server answering since moments, judged later")
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            "the code server at the run's address is not running it: the server restarted since it started the "
            "run, so the run's process is gone",
        )

    def _settled(self, client: DagsterGrpcClient) -> bool:
        server_id = client.get_server_id(timeout=HEALTH_CHECK_TIMEOUT_S)
        address = f"{client.host}:{client.port or client.socket}"
        now = time.monotonic()
        with self._lock:
            seen = self._servers.get(address)
            if seen is None or seen[0] != server_id:
                self._servers[address] = (server_id, now)
                return False
            return now - seen[1] >= SETTLE_S
