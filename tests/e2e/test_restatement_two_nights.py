"""Two nights of restatement through `sentrum sync` (the nightly window): Meta's numbers "do not change after 28 days
of being reported", so a day D can still change during day D+28, and the night after, D is yesterday - 28. The
nightly window reaches that far back (29 days), and D's new numbers land in the marts; a 28-day window would keep
D's stale numbers (checked too, so this test can tell the two apart).

The sandbox serves each night's numbers "as of" the end of the day before (`as_of="today-N"`, per account
timezone, as the extractor's own "yesterday" is): night 1 sees them as of the day before yesterday, night 2 as of
yesterday. Its 28d-click conversions of a day arrive over days 7..28, the last on day 28 itself.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest

from graph_sandbox import AccountSpec, AdSetSpec, CampaignSpec, SandboxServer, Scenario, ScenarioSpec, Workspace
from tests.e2e.conftest import make_env

ACCOUNT, TOKEN, TZ = "act_4001", "sandbox-token-restate", "America/New_York"
# Sales campaigns with plenty of conversions: every day has 28d-click conversions arriving on its 28th day.
SPEC = ScenarioSpec(
    accounts=(
        AccountSpec(
            4001, "Restate US", "USD", TZ, "5554001001", "Restate Co",
            tuple(
                CampaignSpec(
                    "ACTIVE", "OUTCOME_SALES", (AdSetSpec("ACTIVE", ("ACTIVE",) * 4),) * 2, budget="campaign",
                    spend_usd=150.0,
                )
                for _ in range(2)
            ),
        ),
    ),
    workspaces=(Workspace("restate", "Restate Co", TOKEN, (ACCOUNT,)),),
    history_days=120,
)  # fmt: skip


def _yesterday() -> date:
    return datetime.now(ZoneInfo(TZ)).date() - timedelta(days=1)


def _truth_28d(scenario: Scenario, day: date) -> dict[tuple[str, str], Decimal]:
    """(ad, action_type) -> the day's 28d_click actions, as the sandbox serves them now."""
    return {
        (t.ad_id, a.action_type): a.value
        for t in scenario.truth("ad", ACCOUNT, day, day)
        for a in t.actions
        if a.metric == "actions" and a.window == "28d_click"
    }


def _mart_28d(env, day: date) -> dict[tuple[str, str], Decimal]:
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        rows = con.execute(
            "select ad_id, action_type, actions from marts.fct_ad_actions_daily "
            "where workspace_id = 'restate' and date_day = ? and attribution_window = '28d_click' and actions <> 0",
            [day],
        ).fetchall()
    return {(ad, action_type): Decimal(value) for ad, action_type, value in rows}


@pytest.fixture(scope="module")
def server():
    with SandboxServer(Scenario("restatement", 42, spec=SPEC), job_seconds=0.2) as srv:
        yield srv


def test_the_oldest_day_of_the_window_restates_and_lands_in_the_marts(server, tmp_path_factory):
    scenario = server.scenario
    env = make_env(tmp_path_factory.mktemp("home"), server, dbt_prepared=True)
    added = env.sentrum("workspaces", "add", "restate", "--ad-accounts", ACCOUNT, stdin=TOKEN)
    assert added.returncode == 0, added.stderr

    day = _yesterday() - timedelta(days=28)  # the 29th (oldest) day of the nightly window
    scenario.as_of = "today-2"
    night_1 = _truth_28d(scenario, day)
    scenario.as_of = "today-1"
    night_2 = _truth_28d(scenario, day)
    assert night_1 != night_2 and sum(night_2.values()) > sum(night_1.values())  # the sandbox restates it
    assert _truth_28d(scenario, day + timedelta(days=1)) != night_1  # (a day the 28-day window holds too)

    def sync(**settings: str) -> None:
        result = replace(env, vars={**env.vars, **settings}).sentrum("sync", "--workspace", "restate")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def dbt_parse_of_the_last_sync() -> list[str]:
        """What dbt's log of the last marts run says about partial parsing."""
        newest = max((env.home / "dbt" / "runs").iterdir(), key=lambda d: d.stat().st_mtime)
        return [line for line in (newest / "dbt.log").read_text().splitlines() if "partial pars" in line.lower()]

    def partial_parsed(lines: list[str]) -> bool:
        return any("Partial parsing enabled" in line for line in lines) and not any(
            "Unable to do partial parsing" in line for line in lines
        )

    scenario.as_of = "today-2"
    sync()
    if _yesterday() - timedelta(days=28) != day:
        pytest.fail("the test ran across midnight in the account's timezone; run it again")
    assert _mart_28d(env, day) == night_1
    # (the first run started from the home's prepared parse, made for this home's profile as `sentrum dbt-prepare`
    # makes it: tests/support/prepared_dbt.py)
    assert partial_parsed(dbt_parse_of_the_last_sync()), dbt_parse_of_the_last_sync()

    # Night 2 with a 28-day window: D is not re-pulled and keeps night 1's numbers (what the fix is about) ...
    scenario.as_of = "today-1"
    sync(SENTRUM_RESTATEMENT_DAYS="28")
    assert _mart_28d(env, day) == night_1
    # (dbt started from the parse of the run before, whose window differed: it parsed again only what reads the
    # window at parse time, nothing on DuckDB, where the window is rendered when the facts run)
    assert partial_parsed(dbt_parse_of_the_last_sync()), dbt_parse_of_the_last_sync()
    # ... and with the default window (29 days) D's restated numbers land in the marts.
    sync()
    assert _mart_28d(env, day) == night_2
    assert partial_parsed(dbt_parse_of_the_last_sync()), dbt_parse_of_the_last_sync()
    # The run's dbt: its data tests, not the unit tests (make test runs those); its file log as text, not JSON.
    newest = max((env.home / "dbt" / "runs").iterdir(), key=lambda d: d.stat().st_mtime)
    kinds = Counter(
        r["unique_id"].split(".")[0] for r in json.loads((newest / "run_results.json").read_text())["results"]
    )
    assert kinds["model"] > 0 and kinds["test"] > 0 and kinds["unit_test"] == 0, kinds
    assert not any(line.startswith("{") for line in (newest / "dbt.log").read_text().splitlines())
    for d in (day, day + timedelta(days=1), _yesterday()):
        assert _mart_28d(env, d) == _truth_28d(scenario, d), d
