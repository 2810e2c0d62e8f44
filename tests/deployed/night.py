"""One night of the deployed pipeline, watched from the outside through the instance's Postgres storage.

The daemon launches the nightly tick it missed as it starts (the extraction runs, through the code server), the
marts sensor launches the marts run (dbt, then diagnostics). Meanwhile the first extraction run of a two-account
workspace is killed twice once it has committed an account: first its code server dies with it (the container going
down: SIGKILL to the server's process group; then the server comes back, as `restart: unless-stopped` brings it),
then the retry's own process is killed alone. Everything observed is kept in a `Night` for the tests to judge.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from graph_sandbox import CallInfo
from orchestration.jobs import EXTRACT_JOB, MARTS_JOB
from tests.deployed.deploy_files import WORKSPACE
from tests.deployed.stack import Stack

NIGHT_TIMEOUT_S = 540
KILLED_WORKSPACE = "acme"  # two ad accounts, extracted one after the other (SENTRUM_EXTRACT_CONCURRENCY=1)
HELD_ACCOUNT = "act_1002"  # acme's second account: held by the sandbox until the run has been killed
GATE_TIMEOUT_S = 300
PID_MESSAGE = re.compile(r"Started process for run \(pid: (\d+)\)")
# insights_jobs logs this line when an account's batches are committed (account_runner.py)
ACCOUNT_DONE = re.compile(rf"^{KILLED_WORKSPACE}/(act_\d+): .* rows, [1-9]\d* batches")
UI_RUNS = """
{ runsOrError(limit: 50) { ... on Runs { results { runId jobName status
    repositoryOrigin { repositoryLocationName } } } } }
"""


@dataclass
class SeenProcess:
    pid: int
    parent_pid: int | None  # read from /proc while the run was alive
    cmdline: str


@dataclass
class Kill:
    run_id: str
    how: str  # "code server" | "run process"
    account_committed: str  # the account whose batches were committed when the kill came


@dataclass
class Night:
    runs: list[dg.DagsterRun]
    processes: dict[str, SeenProcess]  # run id -> its process
    kills: list[Kill]
    code_server_pids: list[int]  # the first server, then the restarted one
    service_pids: dict[str, int]
    failures: dict[str, str]  # run id -> the engine/run-failure messages of a failed run
    ui_runs: list[dict]
    started_at: datetime
    ended_at: datetime
    seconds: dict[str, float] = field(default_factory=dict)

    def by_id(self, run_id: str) -> dg.DagsterRun:
        return next(r for r in self.runs if r.run_id == run_id)

    def jobs(self, name: str) -> list[dg.DagsterRun]:
        return sorted((r for r in self.runs if r.job_name == name), key=lambda r: r.run_id)


class AccountGate:
    """A sandbox fault hook that holds every call for one ad account while closed (bounded), so a run that has
    committed its first account is killed while its second is in flight, whatever the machine's speed."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self._open = threading.Event()
        self.held = 0

    def hook(self, call: CallInfo) -> None:
        if call.account_id == self.account_id and not self._open.is_set():
            self.held += 1
            self._open.wait(GATE_TIMEOUT_S)
        return None

    def open(self) -> None:
        self._open.set()


def _proc(pid: int) -> tuple[int | None, str]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None, ""
    # the fields after the command name (which may hold spaces) start after its closing parenthesis
    return int(stat.rsplit(")", 1)[1].split()[1]), cmdline


def _messages(instance: dg.DagsterInstance, run_id: str, of_type=None) -> list[str]:
    out = []
    for entry in instance.all_logs(run_id, of_type=of_type):
        if entry.is_dagster_event:
            out.append(entry.dagster_event.message or "")
        else:
            out.append(entry.user_message)
    return out


def _committed_account(messages: list[str]) -> str | None:
    for m in messages:
        match = ACCOUNT_DONE.match(m)
        if match:
            return match.group(1)
    return None


def backdate_nightly(instance: dg.DagsterInstance, workspace_file: Path) -> str:
    """As if the daemon had been down at the last 02:00: the `nightly` schedule's state (read through the code
    server, as the daemon reads it) starts a day ago, so the daemon's first pass launches the tick it missed (for a
    schedule without partitions Dagster launches the latest missed tick only). Returns the schedule's cron."""
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        ScheduleInstigatorData,
    )
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace_file)])) as context:
        location = context.create_request_context().get_code_location("sentrum")
        [repository] = location.get_repositories().values()
        schedule = repository.get_schedule("nightly")
        day_ago = (datetime.now(UTC) - timedelta(days=1)).timestamp()
        data = ScheduleInstigatorData(schedule.cron_schedule, day_ago)
        state = InstigatorState(
            schedule.get_remote_origin(), InstigatorType.SCHEDULE, InstigatorStatus.DECLARED_IN_CODE, data
        )
        instance.add_instigator_state(state)
        return schedule.cron_schedule


def run_night(stack: Stack, instance: dg.DagsterInstance, workspaces: list[str], gate: AccountGate) -> Night:
    started = time.monotonic()
    started_at = datetime.now(UTC)
    seconds: dict[str, float] = {}
    first = stack.start_code_server()
    seconds["code server ready"] = time.monotonic() - started
    code_server_pids = [first.pid]
    # What earlier nights left: the workspaces sensor's partitions (so the tick does not race the sensor's first
    # evaluation) and a schedule whose last tick the daemon missed.
    instance.add_dynamic_partitions("workspaces", workspaces)
    cron = backdate_nightly(instance, WORKSPACE)
    assert cron == "0 2 * * *"  # the production schedule, not a test cron
    stack.start_daemon()
    stack.start_webserver()

    processes: dict[str, SeenProcess] = {}
    kills: list[Kill] = []
    marts_done = None
    deadline = time.monotonic() + NIGHT_TIMEOUT_S
    while marts_done is None:
        for name, service in stack.services.items():
            if not service.alive():
                raise AssertionError(f"{name} exited on its own:\n{stack.tails()}")
        runs = instance.get_runs()
        for run in runs:
            if run.run_id not in processes:
                engine = _messages(instance, run.run_id, dg.DagsterEventType.ENGINE_EVENT)
                pids = [int(m.group(1)) for m in map(PID_MESSAGE.search, engine) if m]
                if pids:
                    processes[run.run_id] = SeenProcess(pids[0], *_proc(pids[0]))
        extraction = sorted(
            (r for r in runs if r.job_name == EXTRACT_JOB and r.tags.get("workspace") == KILLED_WORKSPACE),
            key=lambda r: int(r.tags.get("dagster/retry_number", "0")),
        )
        if "extraction launched" not in seconds and any(r.job_name == EXTRACT_JOB for r in runs):
            seconds["extraction launched"] = time.monotonic() - started
        # Kill 1: the first run's code server (and so the run), once an account of the run is committed.
        if not kills and extraction and extraction[0].status == dg.DagsterRunStatus.STARTED:
            account = _committed_account(_messages(instance, extraction[0].run_id))
            # ... and its second account's call has reached the sandbox (held there): in flight, not yet asked
            if account and gate.held >= 1:
                stack.services["code-server"].kill()
                kills.append(Kill(extraction[0].run_id, "code server", account))
                seconds["code server killed"] = time.monotonic() - started
                code_server_pids.append(stack.start_code_server().pid)
        # Kill 2: the retry's own process, alone, once an account of the retry is committed.
        if len(kills) == 1 and len(extraction) > 1 and extraction[1].status == dg.DagsterRunStatus.STARTED:
            retry = extraction[1]
            account = _committed_account(_messages(instance, retry.run_id))
            if account and retry.run_id in processes and gate.held >= 2:
                os.kill(processes[retry.run_id].pid, signal.SIGKILL)
                kills.append(Kill(retry.run_id, "run process", account))
                seconds["retry's process killed"] = time.monotonic() - started
                gate.open()  # the next attempt runs through
        marts = [r for r in runs if r.job_name == MARTS_JOB]
        if marts and marts[0].is_finished:
            marts_done = marts[0]
        if time.monotonic() > deadline:
            summary = [(r.job_name, r.status.value, dict(r.tags)) for r in runs]
            raise AssertionError(f"the night did not finish in {NIGHT_TIMEOUT_S}s: {summary}\n{stack.tails()}")
        time.sleep(0.5)
    seconds["marts finished"] = time.monotonic() - started

    stack.wait_for_webserver()
    ui_runs = stack.graphql(UI_RUNS)["runsOrError"]["results"]
    runs = instance.get_runs()
    failures = {
        r.run_id: "\n".join(
            e.dagster_event.message or ""
            for e in instance.all_logs(r.run_id)
            if e.is_dagster_event and e.dagster_event.event_type_value in ("ENGINE_EVENT", "PIPELINE_FAILURE")
        )
        for r in runs
        if r.status == dg.DagsterRunStatus.FAILURE
    }
    services = {name: s.pid for name, s in stack.services.items()}
    return Night(
        runs, processes, kills, code_server_pids, services, failures, ui_runs, started_at, datetime.now(UTC), seconds
    )
