"""Planted anomalies, end to end: the sandbox serves a world with one anomaly per detector, `sentrum sync` lands it
and builds the marts, `sentrum diagnose` judges the night, and the findings table names every planted anomaly with
its entity and severity. The clean twin (same objects and numbers, no anomalies) yields no high-severity finding.

The fast tests pin the sandbox side: anomalies move the numbers they claim to move, and nothing else."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest

from graph_sandbox import DIAGNOSTICS_LAST_DAY, DIAGNOSTICS_NIGHT, Anomaly, SandboxServer, Scenario
from graph_sandbox.model import FAMILY_OF
from tests.e2e.conftest import CONVERSION_TYPES, make_env
from tests.support.prepared_dbt import seed_prepared_dbt

SEED = 42
TOKEN = "sandbox-token-diagnostics"
ACCOUNTS = ("act_1301", "act_1302", "act_1303")
# The detectors' matured trailing window starts 41 days before the newest day (diagnostics/README.md).
SYNC_START = DIAGNOSTICS_LAST_DAY - timedelta(days=45)

# kind -> the severity the planted magnitude must reach (the detectors' thresholds, diagnostics/README.md).
# Concentration is a risk, never high.
EXPECTED_SEVERITY = {
    "cpa_increase": "high",
    "roas_decrease": "high",
    "zero_conversions": "high",
    "ctr_drop": "high",
    "creative_fatigue": "high",
    "breakdown_outlier": "high",
    "budget_pacing": "high",
    "tracking_breakage": "high",
    "concentration": "warning",
}


def _sum(scenario: Scenario, ads, day: date, attr: str):
    total = 0
    for ad in ads:
        m = scenario.ad_day(ad, day)
        total += getattr(m, attr) if m is not None else 0
    return total


def _conversions(m) -> int:
    # w[0]: the default attribution ("value")
    return sum(int(w[0]) for (metric, t), w in m.actions if metric == "actions" and t in CONVERSION_TYPES)


# -- the sandbox side (no server) -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted() -> Scenario:
    return Scenario("diagnostics_planted", SEED)


@pytest.fixture(scope="module")
def clean() -> Scenario:
    return Scenario("diagnostics_clean", SEED)


def test_twins_share_the_world(planted, clean):
    for account_id in ACCOUNTS:
        assert [c.id for c in planted.campaigns(account_id)] == [c.id for c in clean.campaigns(account_id)]
        assert [a.id for a in planted.ads(account_id)] == [a.id for a in clean.ads(account_id)]
    assert clean.anomalies() == []
    assert {p.kind for p in planted.anomalies()} == set(EXPECTED_SEVERITY)


def test_anomalies_move_only_their_targets(planted, clean):
    touched = {ad_id for p in planted.anomalies() if p.kind != "breakdown_outlier" for ad_id in p.ad_ids}
    day = DIAGNOSTICS_LAST_DAY - timedelta(days=1)  # inside every anomaly's period
    untouched = 0
    for account_id in ACCOUNTS:
        for ad in planted.ads(account_id):
            if ad.id not in touched:
                assert planted.ad_day(ad, day) == clean.ad_day(ad.id, day), ad.id
                untouched += 1
    assert untouched > 10
    # before an anomaly starts its ads are exactly the clean twin's
    [ctr] = [p for p in planted.anomalies() if p.kind == "ctr_drop"]
    before = ctr.anomaly.start - timedelta(days=1)
    assert planted.ad_day(ctr.ad_ids[0], before) == clean.ad_day(ctr.ad_ids[0], before)


def test_anomalies_move_the_numbers_they_claim(planted, clean):
    days = [DIAGNOSTICS_LAST_DAY - timedelta(days=i) for i in range(6)]
    by_kind = {p.kind: p for p in planted.anomalies()}

    def total(scenario, kind, attr) -> float:
        p = by_kind[kind]
        ads = [scenario.ad(a) for a in p.ad_ids]
        return float(sum(_sum(scenario, ads, d, attr) for d in days))

    # CTR drop: clicks fall against the same impressions
    assert total(planted, "ctr_drop", "clicks") < 0.5 * total(clean, "ctr_drop", "clicks")
    assert total(planted, "ctr_drop", "impressions") == total(clean, "ctr_drop", "impressions")
    # fatigue: reach falls (frequency up) on the same impressions
    assert total(planted, "creative_fatigue", "reach") < 0.6 * total(clean, "creative_fatigue", "reach")
    # pacing: the campaign delivers a fraction of what it would; its budget is unchanged
    assert total(planted, "budget_pacing", "spend") < 0.25 * total(clean, "budget_pacing", "spend")
    campaign_id = by_kind["budget_pacing"].campaign_id
    assert planted.campaign(campaign_id).daily_budget == clean.campaign(campaign_id).daily_budget
    # concentration: spend x20 with the budget raised with it
    assert total(planted, "concentration", "spend") > 10 * total(clean, "concentration", "spend")
    campaign_id = by_kind["concentration"].campaign_id
    assert planted.campaign(campaign_id).daily_budget > 10 * clean.campaign(campaign_id).daily_budget
    # zero conversions and tracking breakage: clicks hold, conversions vanish
    for kind in ("zero_conversions", "tracking_breakage"):
        p = by_kind[kind]
        assert total(planted, kind, "inline_link_clicks") == total(clean, kind, "inline_link_clicks")
        for ad_id in p.ad_ids:
            for d in days[:3]:
                m = planted.ad_day(ad_id, d)
                assert m is None or _conversions(m) == 0


def test_breakdown_outlier_moves_conversions_between_cells_only(planted, clean):
    [p] = [p for p in planted.anomalies() if p.kind == "breakdown_outlier"]
    family = FAMILY_OF["device_platform"]
    day = DIAGNOSTICS_LAST_DAY - timedelta(days=10)
    checked = 0
    for ad_id in p.ad_ids:
        m = planted.ad_day(ad_id, day)
        assert m == clean.ad_day(ad_id, day)  # the ad-day's totals are untouched
        if m is None:  # no delivery that day
            continue
        checked += 1
        cells = planted.ad_day_cells(ad_id, day, family)
        assert any(dict(cell) == {"device_platform": "desktop"} for cell, _ in cells)
        assert sum(c.spend for _, c in cells) == m.spend
        assert sum(c.impressions for _, c in cells) == m.impressions
    assert checked >= 2

    def desktop_conversions(scenario) -> int:
        out = 0
        for ad_id in p.ad_ids:
            for i in range(7, 14):  # the matured window the detector judges
                for cell, c in scenario.ad_day_cells(ad_id, DIAGNOSTICS_LAST_DAY - timedelta(days=i), family):
                    out += _conversions(c) if dict(cell) == {"device_platform": "desktop"} else 0
        return out

    assert desktop_conversions(planted) < 0.5 * desktop_conversions(clean)


def test_anomaly_specs_are_checked():
    with pytest.raises(ValueError, match="unknown anomaly kind"):
        Anomaly("cpa_spike", 1301)
    with pytest.raises(ValueError, match="needs a cell"):
        Anomaly("breakdown_outlier", 1301, campaign=0)
    with pytest.raises(ValueError, match="one breakdown family"):
        Anomaly("breakdown_outlier", 1301, campaign=0, cell={"age": "18-24", "country": "US"})
    with pytest.raises(ValueError, match="needs its campaign"):
        Anomaly("ctr_drop", 1301, adset=0)
    with pytest.raises(ValueError, match="after it ends"):
        Anomaly("ctr_drop", 1301, start=date(2026, 11, 10), end=date(2026, 11, 1))


# -- end to end: sandbox -> sentrum sync -> marts -> sentrum diagnose --------------------------------------------
def _findings(scenario_name: str, home) -> tuple[Scenario, list[dict]]:
    scenario = Scenario(scenario_name, SEED, as_of="today")  # Meta's conversion lag on the newest days
    seed_prepared_dbt(home)  # as a deployment's image has it: no `dbt parse` per world
    with SandboxServer(scenario, job_seconds=0.2) as server:
        env = make_env(home, server)
        added = env.sentrum("workspaces", "add", "diagnostics", "--ad-accounts", ",".join(ACCOUNTS), stdin=TOKEN)
        assert added.returncode == 0, added.stderr
        synced = env.sentrum(
            "sync", "--workspace", "diagnostics", "--start", str(SYNC_START), "--end", str(DIAGNOSTICS_LAST_DAY)
        )
        assert synced.returncode == 0, synced.stdout[-3000:] + synced.stderr[-3000:]
    diagnosed = env.sentrum("diagnose", "--workspace", "diagnostics", "--night", str(DIAGNOSTICS_NIGHT))
    assert diagnosed.returncode == 0, diagnosed.stdout[-3000:] + diagnosed.stderr[-3000:]
    assert "finding(s) for diagnostics, night 2026-11-20" in diagnosed.stdout
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        cur = con.execute(
            "select * from diagnostics.diagnostics_findings where workspace_id = 'diagnostics' and night = ?",
            [DIAGNOSTICS_NIGHT],
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return scenario, rows


@pytest.fixture(scope="module")
def planted_findings(tmp_path_factory):
    return _findings("diagnostics_planted", tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def clean_findings(tmp_path_factory):
    return _findings("diagnostics_clean", tmp_path_factory.mktemp("clean"))


def _matches(finding: dict, planted) -> bool:
    if finding["finding_type"] != planted.kind or finding["entity_id"] != planted.object_id:
        return False
    if planted.kind == "breakdown_outlier":
        return json.loads(finding["breakdown"]) == planted.cell
    return True


def test_every_planted_anomaly_is_found_with_its_entity_and_severity(planted_findings):
    scenario, findings = planted_findings
    for planted in scenario.anomalies():
        hits = [f for f in findings if _matches(f, planted)]
        assert hits, f"{planted.kind} on {planted.level} {planted.object_id} ({planted.anomaly.label}) not found"
        [hit] = hits
        assert hit["entity_level"] == planted.level
        assert hit["severity"] == EXPECTED_SEVERITY[planted.kind], (planted.kind, hit["summary"])
        assert hit["account_id"] == planted.account_id
        assert hit["entity_name"] and hit["summary"] and hit["provider"] == "offline"
    # nothing high that was not planted
    high = [f for f in findings if f["severity"] == "high"]
    assert all(any(_matches(f, p) for p in scenario.anomalies()) for f in high), [f["summary"] for f in high]


def test_the_clean_twin_has_no_high_severity_finding(clean_findings):
    _, findings = clean_findings
    assert [f["summary"] for f in findings if f["severity"] == "high"] == []
    # the anomalies' own findings are gone, not just downgraded
    assert not {f["finding_type"] for f in findings} & {"tracking_breakage", "zero_conversions", "budget_pacing"}
