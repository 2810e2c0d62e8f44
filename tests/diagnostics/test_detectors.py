"""Detectors on synthetic marts in DuckDB: each planted anomaly is found with the right entity and severity, a healthy
workspace with slow conversion lag yields nothing high, and missing marts or stale accounts do not crash the run."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from diagnostics import DiagnosticsConfig, Finding, detect
from tests.diagnostics.synthetic import LAST_DAY, NIGHT, PLANTS, WS, Dataset, Expected
from warehouse import DuckDBWarehouse


def _matches(f: Finding, e: Expected) -> bool:
    return (
        f.finding_type == e.finding_type
        and f.entity.level == e.level
        and f.entity.id == e.entity_id
        and f.entity.breakdown_dict == e.breakdown
    )


def test_clean_workspace_with_conversion_lag_has_no_high_findings(wh):
    Dataset().write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    assert skipped == {}
    assert [f for f in findings if f.severity == "high"] == []
    # Stronger than the promise: the healthy workspace is quiet altogether (no warnings to train people to ignore).
    assert [(f.finding_type, f.entity.id, f.severity) for f in findings] == []


def test_without_maturity_handling_the_same_clean_workspace_shows_cpa_rises_everywhere(wh):
    """The control for the test above: comparing immature newest days with matured ones reports a deterioration in
    every converting campaign. This is what `maturity_days` prevents."""
    Dataset().write(wh)
    findings, _ = detect(wh, WS, NIGHT, DiagnosticsConfig(maturity_days=0))
    deteriorated = {
        f.campaign_id or f.entity.id for f in findings if f.finding_type in ("cpa_increase", "roas_decrease")
    }
    assert deteriorated == {"c1", "c2", "c3", "c4"}  # every converting campaign (c5 is awareness)
    assert any(f.severity == "high" for f in findings)


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_planted_anomaly_is_found_with_entity_and_severity(wh, name):
    apply, expected = PLANTS[name]
    apply(Dataset()).write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    hits = [f for f in findings if _matches(f, expected)]
    assert len(hits) == 1, [(f.finding_type, f.entity, f.severity) for f in findings]
    hit = hits[0]
    assert hit.severity == expected.severity
    assert hit.workspace_id == WS
    # money in the account's currency, said so on the finding
    assert hit.currency == ("JPY" if hit.account_id == "act_2" else "USD")
    assert hit.entity.name  # named from the dims, not just an id
    # The planted anomaly is the only high finding (no collateral alarms on healthy entities).
    others = [f for f in findings if f.severity == "high" and not _matches(f, expected)]
    assert others == []


def test_conversion_findings_are_judged_on_matured_windows(wh):
    apply, expected = PLANTS["cpa_increase"]
    apply(Dataset()).write(wh)
    config = DiagnosticsConfig()
    (hit,) = [f for f in detect(wh, WS, NIGHT, config)[0] if _matches(f, expected)]
    assert hit.period.end == LAST_DAY - timedelta(days=config.maturity_days)
    assert hit.period.days == config.window_days
    assert hit.previous is not None and hit.previous.end == hit.period.start - timedelta(days=1)
    assert hit.trailing is not None and hit.trailing.days == config.trailing_days
    cpa = hit.metric("cpa")
    assert cpa is not None and cpa.current is not None and cpa.previous is not None
    assert cpa.current / cpa.previous > 2.0  # the planted 0.45x conversion rate


def test_ctr_drop_on_one_ad_is_reported_on_the_ad_not_its_ad_set(wh):
    apply, _ = PLANTS["ctr_drop"]
    apply(Dataset()).write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    ctr = [(f.entity.level, f.entity.id) for f in findings if f.finding_type == "ctr_drop"]
    assert ctr == [("ad", "a211")]  # the ad set s21 also dropped (~30%) but the ad is the news


def test_tracking_breakage_is_reported_once_for_the_account_not_per_campaign(wh):
    apply, _ = PLANTS["tracking_breakage"]
    apply(Dataset()).write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    assert [(f.entity.level, f.entity.id) for f in findings if f.finding_type == "tracking_breakage"] == [
        ("account", "act_2")
    ]


def test_awareness_campaigns_are_not_judged_on_conversions(wh):
    ds = Dataset()
    c5 = ds.campaign("c5")
    assert c5.objective == "OUTCOME_AWARENESS"
    ds.write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    assert not [f for f in findings if "c5" in (f.entity.id, f.campaign_id)]
    # ...while the same campaign marked as a sales campaign is flagged: it spends without converting
    ds2 = Dataset()
    ds2.accounts[0].campaigns = [
        replace(c, objective="OUTCOME_SALES") if c.campaign_id == "c5" else c for c in ds2.accounts[0].campaigns
    ]
    wh.execute("drop schema marts cascade")
    ds2.write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    assert any(f.finding_type == "zero_conversions" and "c5" in (f.entity.id, f.campaign_id) for f in findings)


def test_missing_marts_yield_no_findings_for_their_detectors_not_a_crash(wh):
    apply, _ = PLANTS["creative_fatigue"]
    ds = apply(Dataset())
    PLANTS["breakdown_outlier"][0](ds)
    PLANTS["cpa_increase"][0](ds)
    ds.omit = {
        "fct_adset_insights_daily",
        "fct_campaign_insights_daily",
        "fct_ad_insights_daily_by_age_gender",
        "fct_ad_insights_daily_by_country",
        "dim_ads",
        "dim_ad_accounts",
    }
    ds.write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    assert set(skipped) == ds.omit
    types = {f.finding_type for f in findings}
    # no ad set fact: the saturated ad set cannot stand for its ads, whose own frequency still shows the fatigue
    assert {(f.entity.level, f.adset_id) for f in findings if f.finding_type == "creative_fatigue"} == {("ad", "s12")}
    assert "breakdown_outlier" not in types  # the planted cell is in the missing age x gender mart
    assert any(_matches(f, PLANTS["cpa_increase"][1]) for f in findings)  # the rest still works
    assert all(f.currency for f in findings)  # no account dim: the currency comes from the fact rows
    ads = [f for f in findings if f.entity.level == "ad"]
    assert all(f.entity.name is None for f in ads)  # no dim_ads: ids only


def test_no_marts_at_all(wh):
    findings, skipped = detect(wh, WS, NIGHT)
    assert findings == [] and "fct_ad_insights_daily" in skipped


def test_other_workspaces_rows_are_not_read(wh):
    apply, _ = PLANTS["zero_conversions"]
    apply(Dataset(workspace_id="other")).write(wh)
    Dataset().write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    assert findings == []  # the anomaly lives in workspace "other" only
    other, _ = detect(wh, "other", NIGHT)
    assert [f.finding_type for f in other if f.severity == "high"] == ["zero_conversions"]


def test_stale_account_is_skipped(wh):
    ds = Dataset()
    ds.accounts[1].last_day = LAST_DAY - timedelta(days=10)  # act_2 stopped delivering 10 days ago
    PLANTS["tracking_breakage"][0](ds)  # would fire on its last three days if it were read
    ds.write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    assert "account:act_2" in skipped and "stale" in skipped["account:act_2"]
    assert not [f for f in findings if f.account_id == "act_2"]


def test_each_account_uses_its_own_newest_day(wh):
    """Accounts in different timezones can have different newest days; windows follow each account's."""
    ds = Dataset()
    ds.accounts[1].last_day = LAST_DAY - timedelta(days=1)  # e.g. a US-west account at the time of the run
    PLANTS["tracking_breakage"][0](ds)  # planted on act_2's own three newest days
    ds.write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    (hit,) = [f for f in findings if f.finding_type == "tracking_breakage"]
    assert hit.period.end == LAST_DAY - timedelta(days=1)


def test_finding_ids_are_stable_and_move_with_the_period(wh, tmp_path):
    ds = Dataset()
    for apply, _ in PLANTS.values():
        apply(ds)
    ds.write(wh)
    first = [f.finding_id for f in detect(wh, WS, NIGHT)[0]]
    again = [f.finding_id for f in detect(wh, WS, NIGHT)[0]]
    assert first == again and len(set(first)) == len(first) >= len(PLANTS)
    # a different warehouse with the same data: the same ids (nothing machine- or run-specific goes in)
    with DuckDBWarehouse(tmp_path / "second.duckdb") as wh2:
        ds2 = Dataset()
        for apply, _ in PLANTS.values():
            apply(ds2)
        ds2.write(wh2)
        assert [f.finding_id for f in detect(wh2, WS, NIGHT)[0]] == first
    # The night is not part of the id: a later night over the same data judges the same periods, same ids...
    assert [f.finding_id for f in detect(wh, WS, NIGHT + timedelta(days=1))[0]] == first
    # ...while data one day newer moves every window, so every id changes (the anomalies move with the data).
    with DuckDBWarehouse(tmp_path / "next_day.duckdb") as wh3:
        ds3 = Dataset()
        for account in ds3.accounts:
            account.last_day = LAST_DAY + timedelta(days=1)
        for apply, _ in PLANTS.values():
            apply(ds3)
        ds3.write(wh3)
        later = detect(wh3, WS, NIGHT + timedelta(days=1))[0]
        assert len(later) == len(first)
        assert {f.finding_id for f in later}.isdisjoint(first)


def test_a_night_keeps_at_most_max_findings_the_most_urgent_first(wh):
    ds = Dataset()
    for apply, _ in PLANTS.values():
        apply(ds)
    ds.write(wh)
    everything, _ = detect(wh, WS, NIGHT)
    assert len(everything) > 2
    kept, skipped = detect(wh, WS, NIGHT, DiagnosticsConfig(max_findings=4))
    # high findings first; among them an account that cannot deliver, then broken measurement
    assert [f.finding_type for f in kept] == [
        "account_disabled",
        "account_unpaid",
        "spend_cap",
        "tracking_breakage",
    ]
    assert all(f.severity == "high" for f in kept)
    assert skipped["findings"].startswith(f"{len(everything) - 4} less severe findings")


def test_a_schema_the_catalog_walk_refuses_does_not_break_diagnostics(wh):
    """dbt's per-workspace access schemas are named after workspace ids, which may hold '-': the warehouse's catalog
    walk refuses such a name. Diagnostics then probe the marts directly and carry on."""
    wh.execute('create schema "ws_initech-eu"')
    wh.execute('create table "ws_initech-eu".fct_view (workspace_id varchar)')
    ds = PLANTS["cpa_increase"][0](Dataset())
    ds.omit = {"fct_ad_insights_daily_by_device", "dim_ads"}
    ds.write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    assert set(skipped) == ds.omit  # probing tells missing from present
    assert [f for f in findings if _matches(f, PLANTS["cpa_increase"][1])]


@pytest.mark.parametrize(("campaign_id", "judged"), [("c1", "roas"), ("c3", "cpa")])
def test_breakdown_cells_are_judged_on_roas_where_value_is_tracked_else_on_cpa(wh, campaign_id, judged):
    target = {"age": "55-64", "gender": "male"}
    Dataset().plant_cell(
        lambda c, dim, cell: (
            0.25 if dim == "age_gender" and c.campaign.campaign_id == campaign_id and dict(cell) == target else 1.0
        )
    ).write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    (hit,) = [f for f in findings if f.finding_type == "breakdown_outlier"]
    assert (hit.entity.id, hit.entity.breakdown_dict, hit.severity) == (campaign_id, target, "high")
    assert dict(hit.context)["judged"] == judged
    ratio = hit.metric("times_worse_than_siblings")
    assert ratio is not None and 3.0 < (ratio.current or 0) < 5.0  # the planted quarter rate: ~4x worse


def test_a_cell_with_value_but_no_conversion_counts_is_not_an_outlier_on_value(wh):
    """Seen in sandbox data: small cells carry conversion value but zero conversion counts. For a value-tracking
    campaign the cell is judged on ROAS, which is on par with its siblings, so it is not reported."""
    ds = Dataset()
    tables = ds.tables()
    from tests.diagnostics.synthetic import BREAKDOWN_TABLES, write_tables

    country = BREAKDOWN_TABLES["country"]
    for row in tables[country]:
        # only in the sales campaigns (with value); in the lead campaign no counts means no results at all
        if row["country"] == "GB" and row["campaign_id"] in ("c1", "c2"):
            row["conversions"] = type(row["conversions"])(0)
    write_tables(wh, tables)
    findings, _ = detect(wh, WS, NIGHT)
    assert not [f for f in findings if f.finding_type == "breakdown_outlier"]
