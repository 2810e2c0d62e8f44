"""The pipeline as deployed: Postgres storage, the code server (the image's command), the daemon and the webserver
(Compose's commands) as separate processes, the sandbox as Meta, DuckDB as the warehouse. One night (conftest):
the schedule ticks, runs launch in processes of their own, one of them is killed twice and retried, the marts
and diagnostics follow. These tests judge what it left."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from orchestration.jobs import EXTRACT_JOB, MARTS_JOB
from orchestration.settings import Settings
from tests.deployed.conftest import WORKSPACES
from tests.deployed.night import HELD_ACCOUNT, KILLED_WORKSPACE
from tests.e2e.conftest import CONVERSION_TYPES

pytestmark = pytest.mark.deployed
OK = dg.DagsterRunStatus.SUCCESS


@pytest.fixture(scope="module")
def night(deployed):
    return deployed[0]


def _rows(home, sql: str, params=None) -> list[dict]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_the_missed_02_00_tick_launched_one_extraction_run_per_batch_then_the_marts(night):
    [tonight] = {r.tags["night"] for r in night.runs}
    # the production cron's latest tick (02:00 UTC), launched by the daemon as it came up
    last_0200 = {(t - timedelta(hours=2)).date().isoformat() for t in (night.started_at, night.ended_at)}
    assert tonight in last_0200
    first_runs = [r for r in night.jobs(EXTRACT_JOB) if r.parent_run_id is None]
    # the schedule's runs: one per workspace (batch size 1), keyed per night and batch
    assert sorted(r.tags["workspace"] for r in first_runs) == sorted(WORKSPACES)
    assert all(r.tags["dagster/schedule_name"] == "nightly" for r in first_runs)
    assert {r.tags["dagster/run_key"] for r in first_runs} == {f"nightly:{tonight}:{i:04d}" for i in (0, 1)}
    # then one marts run, launched by the sensor once every batch had finished, retries included
    [marts] = night.jobs(MARTS_JOB)
    assert marts.status == OK
    assert marts.tags["dagster/sensor_name"] == "nightly_marts_sensor"
    assert marts.tags["dagster/run_key"] == f"marts:{tonight}"
    for ws in WORKSPACES:
        assert any(r.status == OK for r in night.jobs(EXTRACT_JOB) if r.tags["workspace"] == ws)


def test_each_run_ran_in_a_process_of_its_own_started_by_the_code_server(night):
    others = set(night.service_pids.values()) | set(night.code_server_pids)
    pids = {run_id: seen.pid for run_id, seen in night.processes.items()}
    assert set(pids) == {r.run_id for r in night.runs}, "every run reported its process"
    assert len(set(pids.values())) == len(pids), "no two runs shared a process"
    assert not set(pids.values()) & others
    for run_id, seen in night.processes.items():
        # the daemon asked the code server, which started the run as its child (DefaultRunLauncher)
        assert seen.parent_pid in night.code_server_pids, (night.by_id(run_id).job_name, seen)
        assert "multiprocessing" in seen.cmdline


def test_a_run_killed_with_its_code_server_is_failed_by_run_monitoring_and_retried(night):
    server_kill, process_kill = night.kills
    assert server_kill.how == "code server" and night.code_server_pids[0] != night.code_server_pids[1]
    killed = night.by_id(server_kill.run_id)
    assert killed.status == dg.DagsterRunStatus.FAILURE
    # failed by run monitoring (the launcher's health check), not by the server, which died with the run
    assert "Detected run worker status FAILED" in night.failures[killed.run_id]
    assert "the server restarted since it started the run" in night.failures[killed.run_id]
    retry = night.by_id(process_kill.run_id)
    assert retry.parent_run_id == killed.run_id and retry.tags["dagster/retry_number"] == "1"


def test_a_run_whose_process_is_killed_is_failed_and_retried_until_it_succeeds(night):
    _, process_kill = night.kills
    assert process_kill.how == "run process"
    killed = night.by_id(process_kill.run_id)
    assert killed.status == dg.DagsterRunStatus.FAILURE
    assert "SIGKILL" in night.failures[killed.run_id]  # the code server saw its child die
    [last] = [r for r in night.jobs(EXTRACT_JOB) if r.parent_run_id == killed.run_id]
    assert last.status == OK and last.tags["dagster/retry_number"] == "2"
    assert last.root_run_id == night.kills[0].run_id
    # the retries were the only extra runs: max_retries bounds them
    assert len([r for r in night.jobs(EXTRACT_JOB) if r.tags["workspace"] == KILLED_WORKSPACE]) == 3


def test_the_ui_lists_every_run_under_its_job(night):
    ui = {r["runId"]: r for r in night.ui_runs}
    assert set(ui) == {r.run_id for r in night.runs}
    for run in night.runs:
        assert ui[run.run_id]["jobName"] == run.job_name
        assert ui[run.run_id]["repositoryOrigin"]["repositoryLocationName"] == "sentrum"


def _yesterdays(tz: str, night) -> set[date]:
    return {(t.astimezone(ZoneInfo(tz)) - timedelta(days=1)).date() for t in (night.started_at, night.ended_at)}


def _expected(scenario, account_id: str, start: date, end: date) -> dict:
    out = {}
    for t in scenario.truth_ad_daily(account_id, start, end):
        out[(t.ad_id, t.date)] = {
            "spend": t.spend,
            "impressions": t.impressions,
            "clicks": t.clicks,
            "conversions": sum((t.action(a) for a in CONVERSION_TYPES), Decimal(0)),
        }
    return out


def test_the_marts_equal_the_sandbox_truth_after_the_kills(deployed):
    night, home, sandbox = deployed
    scenario = sandbox.scenario
    for ws in scenario.workspaces():
        if ws.workspace_id not in WORKSPACES:
            continue
        for account_id in ws.account_ids:
            # the window the night pulled: the restatement window ending yesterday in the account's timezone
            [window] = _rows(
                home,
                "select min(date_start) as s, max(date_end) as e from raw.meta_batches "
                "where account_id = ? and report = 'ad_daily'",
                [account_id],
            )
            assert window["e"] in _yesterdays(scenario.account(account_id).timezone_name, night)
            assert (window["e"] - window["s"]).days + 1 == Settings.model_fields["restatement_days"].default
            rows = _rows(
                home,
                "select ad_id, date_day, spend, impressions, clicks, conversions from marts.fct_ad_insights_daily "
                "where workspace_id = ? and account_id = ?",
                [ws.workspace_id, account_id],
            )
            actual = {(r.pop("ad_id"), r.pop("date_day")): r for r in rows}
            expected = _expected(scenario, account_id, window["s"], window["e"])
            assert len(expected) > 20
            assert actual == expected, (ws.workspace_id, account_id)


def test_nothing_half_visible_nothing_doubled(deployed, gate):
    night, home, _ = deployed
    # Both kills came with the first account committed and the second in flight (held by the sandbox)...
    assert {k.account_committed for k in night.kills} == {"act_1001"}
    assert gate.held >= 2
    # ... so raw holds a batch per attempt for the first account, one for the second (the killed attempts' batches
    # of it never committed)...
    batches = {
        (r["account_id"], r["n"])
        for r in _rows(
            home,
            "select account_id, count(*) as n from raw.meta_batches where workspace_id = ? and report = 'ad_daily' "
            "group by account_id",
            [KILLED_WORKSPACE],
        )
    }
    committed, in_flight = "act_1001", HELD_ACCOUNT
    assert batches == {(committed, 3), (in_flight, 1)}
    # ... and staging shows one batch per account and report: the newest (the marts equal the truth above)
    visible = _rows(
        home,
        "select account_id, count(distinct batch_id) as n from staging.stg_meta__insights "
        "where workspace_id = ? and report = 'ad_daily' group by account_id",
        [KILLED_WORKSPACE],
    )
    assert {(r["account_id"], r["n"]) for r in visible} == {(committed, 1), (in_flight, 1)}
    # no row of a batch without its manifest row is visible anywhere downstream
    unmanifested = _rows(
        home,
        "select count(*) as n from staging.stg_meta__insights s "
        "where not exists (select 1 from raw.meta_batches b where b.batch_id = s.batch_id)",
    )
    assert unmanifested == [{"n": 0}]


def test_diagnostics_followed_for_the_night(deployed):
    night, home, _ = deployed
    [tonight] = {r.tags["night"] for r in night.runs}
    rows = _rows(
        home,
        "select distinct workspace_id from diagnostics.diagnostics_findings where night = ?",
        [date.fromisoformat(tonight)],
    )
    assert {r["workspace_id"] for r in rows} == set(WORKSPACES)
