"""Runs started from the CLI, as the UI and the daemon see them: two syncs at once on DuckDB (the second waits for
the warehouse, visibly, and nobody needs a retry), then a night whose runs are exactly the schedule's and the marts
sensor's requests, and every run listed under its job in the `sentrum` code location."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.instance import dagster_instance
from orchestration.launch import LOCATION_NAME, repository_label
from orchestration.partitions import WORKSPACES
from orchestration.schedules import nightly_run_requests
from orchestration.sensors import marts_run_requests, run_info
from orchestration.settings import Settings
from orchestration.tags import CLI_NIGHTLY, RUN_KEY_TAG, TRIGGER_TAG
from tests.e2e.conftest import SENTRUM, make_env
from workspaces import YamlRegistry

pytestmark = pytest.mark.slow

WAITING = "waiting for the warehouse (held by run "
RETRIES = {dg.DagsterEventType.STEP_UP_FOR_RETRY, dg.DagsterEventType.STEP_RESTARTED}


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)  # the first sync parses nothing
    for w in sandbox.scenario.workspaces():
        if w.workspace_id in ("acme", "globex"):
            r = e.sentrum("workspaces", "add", w.workspace_id, "--ad-accounts", ",".join(w.account_ids), stdin=w.token)
            assert r.returncode == 0, r.stderr
    return e


def _instance(env) -> dg.DagsterInstance:
    return dagster_instance(Settings(home=env.home))


def _start(env, workspace: str, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([SENTRUM, "sync", "--workspace", workspace], stdout=out, stderr=out, env=env.vars)


def _until(what: str, check, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def two_syncs(env, sandbox, tmp_path_factory):
    """acme's sync holds the warehouse (Meta's answers to acme held back by the sandbox) while globex's starts; once
    globex's run says it waits, acme's answers are released."""
    logs = tmp_path_factory.mktemp("logs")
    acme_accounts = set(next(w for w in sandbox.scenario.workspaces() if w.workspace_id == "acme").account_ids)
    acme_inside, release = threading.Event(), threading.Event()

    def hold_acme(info):
        if info.insights and info.account_id in acme_accounts:
            acme_inside.set()  # acme's extraction is inside its warehouse session: insights come after it opens
            release.wait(timeout=100)  # bounded: the client's own timeout is 120 s
        return None

    sandbox.app.fault_hook = hold_acme
    started: list[subprocess.Popen] = []
    try:
        started.append(_start(env, "acme", logs / "acme.log"))
        _until("acme's extraction to reach Meta's insights", acme_inside.is_set)
        started.append(_start(env, "globex", logs / "globex.log"))
        _until("globex to wait for the warehouse", lambda: WAITING in (logs / "globex.log").read_text())
        release.set()
        codes = [proc.wait(timeout=600) for proc in started]
    finally:
        release.set()
        sandbox.app.fault_hook = None
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {ws: (code, (logs / f"{ws}.log").read_text()) for ws, code in zip(("acme", "globex"), codes, strict=True)}


def test_two_syncs_at_once_both_succeed_the_second_after_waiting(env, two_syncs):
    for workspace, (code, out) in two_syncs.items():
        assert code == 0, f"{workspace}: {out[-3000:]}"
        assert f"ok      {workspace}" in out
    instance = _instance(env)
    runs = instance.get_runs()
    # no run needed Dagster's retry to get through (before the lock, the second writer hit DuckDB's file lock)
    assert all(not instance.all_logs(r.run_id, of_type=RETRIES) for r in runs)
    # the wait is in the waiting run's own log, naming the run that held the warehouse
    [acme_extract] = instance.get_runs(dg.RunsFilter(job_name="meta_extract_job", tags={"workspace": "acme"}))
    [globex_extract] = instance.get_runs(dg.RunsFilter(job_name="meta_extract_job", tags={"workspace": "globex"}))
    messages = [e.message for e in instance.all_logs(globex_extract.run_id)]
    assert any(m.startswith(WAITING + acme_extract.run_id[:8]) for m in messages), messages


def test_a_cli_night_is_the_schedule_s_and_the_marts_sensor_s_requests(env, two_syncs):
    env.vars["SENTRUM_NIGHTLY_BATCH_SIZE"] = "1"  # two batches: the marts wait for both
    try:
        night = env.sentrum("nightly")
    finally:
        del env.vars["SENTRUM_NIGHTLY_BATCH_SIZE"]
    assert night.returncode == 0, (night.stdout + night.stderr)[-3000:]
    instance = _instance(env)
    cli = dg.RunsFilter(tags={TRIGGER_TAG: CLI_NIGHTLY})
    extract = sorted(instance.get_runs(dg.RunsFilter(job_name="meta_extract_job", tags=cli.tags)), key=_key)
    [marts] = instance.get_runs(dg.RunsFilter(job_name="marts_job", tags=cli.tags))
    tonight = extract[0].tags["night"]
    keys = instance.get_dynamic_partitions(WORKSPACES)
    workspaces = YamlRegistry(env.home / "workspaces.yaml").list()
    expected = nightly_run_requests(tonight, keys, workspaces, 1, trigger=CLI_NIGHTLY)
    assert len(expected) == 2
    _assert_made_from(extract, expected)
    _assert_made_from([marts], marts_run_requests([run_info(r) for r in extract], keys, 29, trigger=CLI_NIGHTLY))


def _key(run: dg.DagsterRun) -> str:
    return run.tags[RUN_KEY_TAG]


def _assert_made_from(runs: list[dg.DagsterRun], requests: list[dg.RunRequest]) -> None:
    assert [_key(r) for r in runs] == [q.run_key for q in requests]
    for run, request in zip(runs, requests, strict=True):
        assert run.tags.items() >= request.tags.items()
        assert run.run_config == request.run_config


def test_every_cli_run_is_listed_under_its_job_in_the_code_location(env, two_syncs):
    instance = _instance(env)
    runs = instance.get_runs()
    assert {r.job_name for r in runs} == {"meta_extract_job", "marts_job"}
    for run in runs:
        assert run.remote_job_origin is not None and run.job_code_origin is not None
        assert run.remote_job_origin.location_name == LOCATION_NAME
    # the UI's job page asks for {pipelineName: job, tags: [{key: ".dagster/repository", value: "<repo>@<location>"}]}
    for job in {r.job_name for r in runs}:
        listed = instance.get_runs(dg.RunsFilter(job_name=job, tags={".dagster/repository": repository_label()}))
        assert {r.run_id for r in listed} == {r.run_id for r in runs if r.job_name == job}


def test_runs_queue_for_a_running_daemon_which_launches_them(env, tmp_path):
    """With a daemon running against the instance (`make ui`, a deployment), a CLI sync submits its runs to the
    run queue; the daemon launches each in its own process, and the CLI waits for them and reports as ever."""
    prepared = env.sentrum("dbt-prepare")  # as a deployment's image does: the code server loads the manifest
    assert prepared.returncode == 0, prepared.stderr
    # The daemon looks at the run queue every second instead of Dagster's 5 (the instance's
    # `dequeue_interval_seconds`): both runs of the sync wait for a look. Nothing else of the instance changes.
    _instance(env)  # writes the home's instance file if no command has yet
    instance_file = env.home / "dagster" / "dagster.yaml"
    config = yaml.safe_load(instance_file.read_text())
    config["run_coordinator"].setdefault("config", {})["dequeue_interval_seconds"] = 1
    instance_file.write_text(yaml.safe_dump(config))
    daemon = subprocess.Popen(
        [str(Path(SENTRUM).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
        cwd=Path(__file__).resolve().parents[2],
        env={**env.vars, "DAGSTER_HOME": str(env.home / "dagster")},
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "daemon.log").open("w"),
        start_new_session=True,
    )
    try:
        from orchestration.launch import daemon_is_running

        instance = _instance(env)
        _until("the daemon's heartbeat", lambda: daemon.poll() is None and daemon_is_running(instance), timeout=180)
        before = {r.run_id for r in instance.get_runs()}
        result = env.sentrum("sync", "--workspace", "globex", timeout=600)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out[-3000:] + (tmp_path / "daemon.log").read_text()[-3000:]
        assert "queued for the Dagster daemon" in result.stderr and "ok      globex" in result.stdout
        new = [r for r in instance.get_runs() if r.run_id not in before]
        assert sorted(r.job_name for r in new) == ["marts_job", "meta_extract_job"]
        for run in new:
            assert run.status == dg.DagsterRunStatus.SUCCESS and run.remote_job_origin.location_name == LOCATION_NAME
            # launched by the daemon through the code location's server, not executed by the CLI
            assert ".dagster/grpc_info" in run.tags
            assert instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED)  # through the queue
    finally:
        os.killpg(daemon.pid, 15)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, 9)
            daemon.wait()
