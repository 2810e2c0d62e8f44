"""Runs started from the command line, made the way the daemon makes a schedule's or a sensor's runs.

The CLI plans with the very functions the schedule and the sensors use (they return `RunRequest`s: run key, tags,
config, partition) and hands each request to `CliRuns`, which creates the run as the daemon would: the request's
partition resolved into tags, its run key as the `dagster/run_key` tag, and the code location's origin (the remote
job origin, from which Dagster derives the `.dagster/repository` tag, and the job's Python origin). So the UI lists
the run under its job and on the timeline, and can re-execute it.

Then, one of two ways:
- a Dagster daemon is running against the instance (`make ui`, a deployment): the run is submitted to the instance's
  run queue, and the daemon launches it in its own process like any scheduled run, within the queue's limits (one
  run at a time on DuckDB). It runs with the code location's settings: the daemon's environment.
- no daemon: the run is executed here, in this process, with this invocation's settings. Launching it instead
  (`instance.launch_run`) would start a code server and a process per run, each loading the definitions again
  (about 10 s apiece on two cores: `sentrum sync` runs two runs), and would run with the code server's environment
  rather than this command's (the demo's sandbox is known to this process only). A crash of this process leaves
  the run STARTED, as it would leave any run whose process dies without run monitoring.
Either way the command waits for every run to finish and reads its outcome from the instance's event log, showing
its progress meanwhile (progress.py). Quiet by default: a run executed here logs to this terminal at WARNING and
above, and dbt's node log (which dagster-dbt echoes on standard output) stays in the run's dbt log file
(`$SENTRUM_HOME/dbt/runs/<run id>-<n>/dbt.log`) and the event log; `verbose` shows both as they come.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import create_execution_plan, execute_run
from dagster._core.origin import JobPythonOrigin
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load import location_origin_from_module_name
from dagster._daemon.controller import DEFAULT_HEARTBEAT_INTERVAL_SECONDS, get_daemon_statuses
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster._record import copy as record_copy

from orchestration.progress import follow
from orchestration.tags import RUN_KEY_TAG

# The code location as `workspace.yaml` names it (and a deployment's gRPC `workspace.yaml` must too): the UI groups
# runs by `<repository>@<location>`, and the daemon finds a queued run's code location by this name.
LOCATION_NAME = "sentrum"
DEFINITIONS_MODULE = "orchestration.definitions"
DEFINITIONS_ATTRIBUTE = "defs"
REPOSITORY_NAME = "__repository__"  # Dagster's name for the repository of a `Definitions` object
ROOT = Path(__file__).resolve().parents[1]
# A daemon counts as running while its run-queue heartbeat is younger than this.
DAEMON_FRESH_S = 2 * DEFAULT_HEARTBEAT_INTERVAL_SECONDS
POLL_S = 1.0
# A quiet run's console: what needs a person (a token about to expire, unreadable slices, errors), not the events.
QUIET_CONSOLE = {"console": {"config": {"log_level": "WARNING"}}}


def job_origins(job_name: str) -> tuple[RemoteJobOrigin, JobPythonOrigin]:
    """The job's origins in the `sentrum` code location: what the UI and the daemon know a run's job by."""
    location = location_origin_from_module_name(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=str(ROOT), location_name=LOCATION_NAME
    )
    remote = RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), job_name)
    repository = ReconstructableRepository.for_module(DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, str(ROOT))
    return remote, repository.get_reconstructable_job(job_name).get_python_origin()


def repository_label() -> str:
    """The `.dagster/repository` tag value of the location's runs (what the UI's job page filters on)."""
    return f"{REPOSITORY_NAME}@{LOCATION_NAME}"


def daemon_is_running(instance: dg.DagsterInstance) -> bool:
    """A daemon dequeues this instance's runs: a queued run coordinator, and a fresh heartbeat of its daemon."""
    if not isinstance(instance.run_coordinator, QueuedRunCoordinator):
        return False
    daemon = QueuedRunCoordinatorDaemon.daemon_type()
    status = get_daemon_statuses(
        instance, [daemon], ignore_errors=True, heartbeat_tolerance_seconds=DAEMON_FRESH_S
    ).get(daemon)
    return bool(status and status.healthy)


class CliRuns:
    """Creates runs from run requests and waits for them: submitted to the daemon's queue, or executed here."""

    def __init__(
        self, defs: dg.Definitions, instance: dg.DagsterInstance, queue: bool | None = None, verbose: bool = False
    ) -> None:
        self.defs = defs
        self.instance = instance
        # None: queue when a daemon is running. The demo says False: its sandbox lives in this process.
        self.queue = daemon_is_running(instance) if queue is None else queue
        self.verbose = verbose
        self.dbt_nodes = _dbt_nodes()
        self._following: dict[str, Callable[[], None]] = {}

    def create(self, request: dg.RunRequest) -> dg.DagsterRun:
        """The run of `request`, NOT_STARTED, as the daemon would create it from a schedule's or sensor's request."""
        job = self.defs.resolve_job_def(request.job_name)
        if request.partition_key is not None:
            request = request.with_resolved_tags_and_config(job, [], self.instance)
        tags = {**job.run_tags, **request.tags}
        if request.run_key:
            tags[RUN_KEY_TAG] = request.run_key
        plan = create_execution_plan(
            InMemoryJob(job),
            run_config=request.run_config,
            instance_ref=self.instance.get_ref() if self.instance.is_persistent else None,
            tags=tags,
        )
        remote, python = job_origins(job.name)
        return self.instance.create_run_for_job(
            job_def=job,
            execution_plan=plan,
            run_config=request.run_config,
            tags=tags,
            remote_job_origin=remote,
            job_code_origin=python,
        )

    def start(self, request: dg.RunRequest) -> str:
        """Submit the run (queue), or execute it to its end (here). Its id."""
        run = self.create(request)
        if self.queue:
            with WorkspaceProcessContext(self.instance, None) as workspace:
                # the queued coordinator only records the run as queued; the daemon launches it from its workspace
                self.instance.submit_run(run.run_id, workspace.create_request_context())
            print(f"{run.job_name} run {run.run_id[:8]} queued for the Dagster daemon", file=sys.stderr)
            self._follow(run.run_id)
        else:
            self._follow(run.run_id)
            job = InMemoryJob(self.defs.resolve_job_def(run.job_name))
            if self.verbose:
                execute_run(job, run, self.instance)
            else:
                # The console logger's level is this execution's, not the stored run's: a re-execution from the UI
                # logs as usual.
                quiet = record_copy(run, run_config={**run.run_config, "loggers": QUIET_CONSOLE})
                with _stdout_to_devnull():
                    execute_run(job, quiet, self.instance)
            self._unfollow(run.run_id)
        return run.run_id

    def _follow(self, run_id: str) -> None:
        if not self.verbose:
            self._following[run_id] = follow(self.instance, run_id, self.dbt_nodes)

    def _unfollow(self, run_id: str) -> None:
        stop = self._following.pop(run_id, None)
        if stop:
            stop()

    def wait(self, run_ids: Sequence[str]) -> list[dg.DagsterRun]:
        """The runs, once each has finished. A queued run that no daemon takes any more is canceled (and reported
        as such), so the command never waits for nobody."""
        pending = list(run_ids)
        while True:
            runs = [self.instance.get_run_by_id(run_id) for run_id in pending]
            unfinished = [r for r in runs if r is not None and not r.is_finished]
            for r in runs:
                if r is not None and r.is_finished:
                    self._unfollow(r.run_id)
            if not unfinished:
                return [r for r in runs if r is not None]
            if any(r.status == dg.DagsterRunStatus.QUEUED for r in unfinished) and not daemon_is_running(self.instance):
                for r in unfinished:
                    if r.status == dg.DagsterRunStatus.QUEUED:
                        print(
                            f"run {r.run_id[:8]} is queued but no Dagster daemon runs any more: canceled",
                            file=sys.stderr,
                        )
                        self.instance.run_coordinator.cancel_run(r.run_id)
                continue
            time.sleep(POLL_S)

    def run(self, request: dg.RunRequest) -> dg.DagsterRun:
        [run] = self.wait([self.start(request)])
        return run

    def run_all(self, requests: Sequence[dg.RunRequest]) -> list[dg.DagsterRun]:
        """Every request's run, in order: all queued at once (the queue's limits apply), or executed one by one."""
        return self.wait([self.start(r) for r in requests])


def _dbt_nodes() -> int:
    """dbt's models and tests, as dagster-dbt reports them (assets and checks): the progress count's total."""
    from orchestration.assets.dbt import sentrum_dbt

    return len(sentrum_dbt.keys) + len(sentrum_dbt.check_keys)


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    """Standard output while a quiet run executes here: dagster-dbt's echo of dbt's node log, kept in dbt's own log
    file. Standard error (warnings and errors) is untouched."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield
