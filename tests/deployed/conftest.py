"""Fixtures of the deployed-mode test: Postgres, the Graph API sandbox, two registered workspaces, and the night
itself (run once per module; every process is stopped before the tests look at what it left)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import dagster as dg
import pytest

from graph_sandbox import SandboxServer, Scenario
from tests.deployed.deploy_files import image_env
from tests.deployed.night import HELD_ACCOUNT, AccountGate, Night, run_night
from tests.deployed.postgres import PostgresServer, start_postgres
from tests.deployed.stack import make_stack
from tests.support.prepared_dbt import seed_prepared_dbt

WORKSPACES = ("acme", "globex")
SENTRUM = str(Path(sys.executable).with_name("sentrum"))


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Iterator[PostgresServer]:
    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gate() -> Iterator[AccountGate]:
    gate = AccountGate(HELD_ACCOUNT)
    try:
        yield gate
    finally:
        gate.open()  # no sandbox thread stays parked


@pytest.fixture(scope="module")
def sandbox(gate) -> Iterator[SandboxServer]:
    with SandboxServer(Scenario("demo", 42), job_seconds=0.3, fault_hook=gate.hook) as server:
        yield server


def _register(env: dict[str, str], sandbox: SandboxServer) -> None:
    for ws in sandbox.scenario.workspaces():
        if ws.workspace_id not in WORKSPACES:
            continue
        added = subprocess.run(
            [SENTRUM, "workspaces", "add", ws.workspace_id, "--ad-accounts", ",".join(ws.account_ids)],
            input=ws.token, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr


@pytest.fixture(scope="module")
def deployed(postgres, sandbox, gate, tmp_path_factory) -> Iterator[tuple[Night, Path, SandboxServer]]:
    """The night, and the SENTRUM_HOME it wrote (DuckDB warehouse, registry, secrets)."""
    base = tmp_path_factory.mktemp("deployed")
    home = base / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
    env.update(
        postgres.env,
        SENTRUM_HOME=str(home),
        SENTRUM_META_GRAPH_URL=sandbox.url,
        # one workspace per run: two extraction runs for the night
        SENTRUM_NIGHTLY_BATCH_SIZE="1",
        # accounts one after the other, so a run can be killed with one account committed and one in flight
        SENTRUM_EXTRACT_CONCURRENCY="1",
        # the image's: a deployment's schedules run from the start (a laptop's stay off)
        SENTRUM_SCHEDULES_RUNNING=image_env()["SENTRUM_SCHEDULES_RUNNING"],
        # The marts sensor looks every 5 s instead of every minute (the setting's floor: the daemon's sensor loop),
        # so the marts follow the night's last run within seconds; what it decides is unchanged.
        SENTRUM_MARTS_SENSOR_INTERVAL_SECONDS="5",
        # Run retries: Dagster's daemon reads the failed runs' events every second instead of every 5 s (its own
        # variable for this interval; there is no dagster.yaml key).
        DAGSTER_EVENT_LOG_CONSUMER_DAEMON_INTERVAL_SECONDS="1",
    )
    _register(env, sandbox)
    # What the image does when it is built: dbt's manifest under SENTRUM_HOME, read when the code server loads. The
    # session's manifest is copied there first, so the step finds it fresh instead of parsing the project again
    # (test_deploy_files.py proves the image's step builds it).
    seed_prepared_dbt(home)
    prepared = subprocess.run([SENTRUM, "dbt-prepare"], env=env, capture_output=True, text=True, timeout=600)
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    stack = make_stack(base, env)
    began = time.monotonic()
    # The test process reads the same instance (Postgres) and the same workspace file, with the same variables.
    dagster_env = {k: v for k, v in stack.env.items() if k.startswith("DAGSTER_")}
    with mock.patch.dict(os.environ, dagster_env):
        instance = dg.DagsterInstance.from_config(str(stack.dagster_home))
        try:
            night = run_night(stack, instance, list(WORKSPACES), gate)
        finally:
            stopping = time.monotonic()
            stack.stop()
            instance.dispose()
    night.seconds["stop"] = time.monotonic() - stopping
    night.seconds["total"] = time.monotonic() - began
    print(f"\ndeployed night: {night.seconds}")  # the wall time, for the record (pytest -s)
    yield night, home, sandbox
