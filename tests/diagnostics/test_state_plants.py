"""Object-state problems, end to end: the sandbox serves `diagnostics_state` (one planted problem of each kind the
state detectors look for: learning limited, disapproved, with issues, not delivering, unpaid, disabled, spend cap
nearly reached), `sentrum sync` extracts two weeks and builds the marts, `sentrum diagnose` judges the night, and
every plant of `STATE_PLANTS` must be named with its entity and severity, with few findings elsewhere.

The fast tests check that the plants are what their expected severities presume (in the sandbox's own numbers)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import duckdb
import pytest

from graph_sandbox import DIAGNOSTICS_LAST_DAY, DIAGNOSTICS_NIGHT, SandboxServer, Scenario, state_fields
from graph_sandbox.state_scenarios import STATE_PLANTS, STATE_WORKSPACE, StatePlant
from tests.e2e.conftest import make_env
from tests.support.prepared_dbt import seed_prepared_dbt

SEED = 42
ACCOUNTS = STATE_WORKSPACE.account_ids
# Two weeks: the current window and the week before it (what the state detectors compare shares with).
SYNC_START = DIAGNOSTICS_LAST_DAY - timedelta(days=13)
# The detectors' documented thresholds (diagnostics/README.md) the plants were sized against.
REJECTED_SHARE_HIGH, STALL_SHARE_HIGH = 0.2, 0.5


def _entity(scenario: Scenario, plant: StatePlant) -> str:
    account = f"act_{plant.account}"
    if plant.campaign is None:
        return account
    campaign = scenario.campaigns(account)[plant.campaign]
    if plant.adset is None:
        return campaign.id
    adset = [s for s in scenario.adsets(account) if s.campaign_id == campaign.id][plant.adset]
    if plant.ad is None:
        return adset.id
    return [a for a in scenario.ads(account) if a.adset_id == adset.id][plant.ad].id


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario("diagnostics_state", SEED, as_of="today")


def _share_of_adset_spend_the_week_before(scenario: Scenario, ad_id: str) -> float:
    ad = scenario.ad(ad_id)
    siblings = [a for a in scenario.ads(f"act_{ad.account_id}") if a.adset_id == ad.adset_id]
    days = [DIAGNOSTICS_LAST_DAY - timedelta(days=i) for i in range(7, 14)]

    def spend(a) -> Decimal:
        return sum((m.spend for d in days if (m := scenario.ad_day(a, d)) is not None), Decimal(0))

    return float(spend(ad) / sum((spend(a) for a in siblings), Decimal(0)))


def test_the_plants_are_what_their_severities_presume(scenario: Scenario) -> None:
    by_kind = {p.kind: p for p in STATE_PLANTS if p.kind != "learning_limited"}
    disapproved = scenario.ad(_entity(scenario, by_kind["ad_disapproved"]))
    assert disapproved.effective_status == "DISAPPROVED"
    assert _share_of_adset_spend_the_week_before(scenario, disapproved.id) >= REJECTED_SHARE_HIGH
    assert scenario.ad(_entity(scenario, by_kind["ad_with_issues"])).effective_status == "WITH_ISSUES"
    stalled = scenario.ad(_entity(scenario, by_kind["ad_not_delivering"]))
    assert stalled.effective_status == "ACTIVE"
    assert _share_of_adset_spend_the_week_before(scenario, stalled.id) < STALL_SHARE_HIGH
    newest = [DIAGNOSTICS_LAST_DAY - timedelta(days=i) for i in range(3)]
    assert all(scenario.ad_day(stalled, d) is None for d in newest)
    assert scenario.ad_day(stalled, DIAGNOSTICS_LAST_DAY - timedelta(days=3)) is not None
    assert scenario.account("act_1312").account_status == 3
    assert (scenario.account("act_1313").account_status, scenario.account("act_1313").disable_reason) == (2, 1)


def test_the_marts_carry_the_state_and_every_plant_is_found(scenario: Scenario, tmp_path) -> None:
    seed_prepared_dbt(tmp_path)  # as a deployment's image has it: no `dbt parse` for this home
    with SandboxServer(scenario, job_seconds=0.1) as server:
        env = make_env(tmp_path, server)
        added = env.sentrum(
            "workspaces", "add", STATE_WORKSPACE.workspace_id, "--ad-accounts", ",".join(ACCOUNTS),
            stdin=STATE_WORKSPACE.token,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        synced = env.sentrum(
            "sync", "--workspace", STATE_WORKSPACE.workspace_id,
            "--start", str(SYNC_START), "--end", str(DIAGNOSTICS_LAST_DAY), timeout=900,
        )  # fmt: skip
        assert synced.returncode == 0, synced.stdout[-3000:] + synced.stderr[-3000:]
    diagnosed = env.sentrum("diagnose", "--workspace", STATE_WORKSPACE.workspace_id, "--night", str(DIAGNOSTICS_NIGHT))
    assert diagnosed.returncode == 0, diagnosed.stdout[-3000:] + diagnosed.stderr[-3000:]
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:

        def rows(sql: str, *params) -> list[dict]:
            cur = con.execute(sql, list(params))
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

        accounts = {r["account_id"]: r for r in rows("select * from marts.dim_ad_accounts")}
        adsets = {r["adset_id"]: r for r in rows("select * from marts.dim_adsets")}
        ads = {r["ad_id"]: r for r in rows("select * from marts.dim_ads")}
        findings = rows(
            "select * from diagnostics.diagnostics_findings where workspace_id = ? and night = ?",
            STATE_WORKSPACE.workspace_id,
            DIAGNOSTICS_NIGHT,
        )
    # the extraction: the state as the sandbox served it, money in major units
    delivery = accounts["act_1311"]
    assert delivery["spend_cap"] is not None and delivery["amount_spent"] is not None
    # the cap was planted 1.5 days of the last week's mean spend above what was spent (minor units, then major)
    remaining = Decimal("1.5") * state_fields.recent_daily_spend(scenario, "act_1311")
    assert abs(delivery["spend_cap"] - delivery["amount_spent"] - remaining) <= Decimal("0.01")
    assert delivery["amount_spent"] == state_fields.amount_spent(scenario, "act_1311")
    assert (accounts["act_1312"]["account_status"], accounts["act_1312"]["spend_cap"]) == (3, None)
    assert (accounts["act_1313"]["account_status"], accounts["act_1313"]["disable_reason"]) == (2, 1)
    fail, stuck = (adsets[_entity(scenario, p)] for p in STATE_PLANTS if p.kind == "learning_limited")
    assert (fail["learning_stage_status"], fail["learning_stage_conversions"]) == ("FAIL", 6)
    assert (stuck["learning_stage_status"], stuck["learning_stage_conversions"]) == ("LEARNING", 18)
    assert stuck["learning_stage_last_edit_at"].date() == DIAGNOSTICS_NIGHT - timedelta(days=10)
    statuses = {ads[_entity(scenario, p)]["effective_status"] for p in STATE_PLANTS if p.level == "ad"}
    assert statuses == {"DISAPPROVED", "WITH_ISSUES", "ACTIVE"}

    # the findings: every plant with its entity and severity
    matched: set[str] = set()
    for plant in STATE_PLANTS:
        entity = _entity(scenario, plant)
        hits = [f for f in findings if f["finding_type"] == plant.kind and f["entity_id"] == entity]
        assert hits, (
            f"{plant.kind} on {plant.level} {entity} ({plant.label}) not found: {[f['summary'] for f in findings]}"
        )
        [hit] = hits
        assert (hit["entity_level"], hit["severity"]) == (plant.level, plant.severity), (plant, hit["summary"])
        assert hit["account_id"] == f"act_{plant.account}" and hit["entity_name"] and hit["summary"]
        matched.add(hit["finding_id"])
    others = [f for f in findings if f["finding_id"] not in matched]
    assert [f["summary"] for f in others if f["severity"] == "high"] == []
    assert len(others) <= 2, [f["summary"] for f in others]
