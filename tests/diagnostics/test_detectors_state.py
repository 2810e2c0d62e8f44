"""The detectors that read state and history next to the facts: budget pacing over the budget history, account
statuses (stale accounts included), spend caps and learning stage only when their columns exist, zero-conversion
spenders judged against their siblings, the two directions of a value tracking break."""

from __future__ import annotations

from datetime import timedelta

import pytest

from diagnostics import DiagnosticsConfig, detect
from tests.diagnostics.synthetic import LAST_DAY, NIGHT, PLANTS, WS, Dataset


def _of(findings, finding_type):
    return [f for f in findings if f.finding_type == finding_type]


@pytest.mark.parametrize("with_history", [True, False])
def test_pacing_reads_the_budget_history_before_guessing(wh, with_history):
    """Ad set s22 delivers ~96 a day; its budget was raised from 100 to 300 two days before the newest day. Judged
    against the budgets in force it paced fine; against the latest budget alone it looks badly under-paced, and the
    finding then says the history is missing instead of inventing a cause."""
    ds = Dataset()
    adset = ds.adset("s22")
    adset.daily_budget = 300.0
    adset.budget_history = [(LAST_DAY - timedelta(days=120), 100.0), (LAST_DAY - timedelta(days=1), 300.0)]
    if not with_history:
        ds.omit = {"dim_budget_history"}
    ds.write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    pacing = [f for f in _of(findings, "budget_pacing") if f.entity.id == "s22"]
    if with_history:
        assert pacing == [] and "dim_budget_history" not in skipped
    else:
        [hit] = pacing
        assert dict(hit.context)["budget_history"] == "none" and dict(hit.context)["direction"] == "under"
        assert "dim_budget_history" in skipped


def test_a_recorded_budget_cut_explains_spend_over_the_latest_budget(wh):
    ds = Dataset()
    adset = ds.adset("s21")  # ~96 a day against 100, cut to 30 on the newest day
    adset.daily_budget = 30.0
    adset.budget_history = [(LAST_DAY - timedelta(days=120), 100.0), (LAST_DAY, 30.0)]
    ds.write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    assert [f for f in _of(findings, "budget_pacing") if f.entity.id == "s21"] == []
    wh.execute("drop table marts.dim_budget_history")
    findings, _ = detect(wh, WS, NIGHT)
    [hit] = [f for f in _of(findings, "budget_pacing") if f.entity.id == "s21"]
    assert (hit.severity, dict(hit.context)["direction"], dict(hit.context)["budget_history"]) == (
        "info",
        "over",
        "none",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (1, None),
        (2, ("account_disabled", "high")),
        (101, ("account_disabled", "high")),
        (7, ("account_disabled", "warning")),
        (3, ("account_unpaid", "high")),
        (9, ("account_unpaid", "warning")),
    ],
)
def test_account_status_codes(wh, status, expected):
    ds = Dataset()
    ds.accounts[0].status = status
    ds.write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    got = [(f.finding_type, f.severity) for f in findings if f.finding_type.startswith("account_")]
    assert got == ([expected] if expected else [])


def test_a_disabled_account_whose_data_went_stale_is_still_reported(wh):
    ds = Dataset()
    ds.accounts[1].last_day = LAST_DAY - timedelta(days=10)  # stopped delivering when it was disabled
    ds.accounts[1].status = 2
    ds.write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    assert "stale" in skipped["account:act_2"]
    [hit] = _of(findings, "account_disabled")
    assert (hit.entity.id, hit.severity, hit.currency, dict(hit.context)["stale"]) == ("act_2", "high", "JPY", True)


def test_spend_cap_and_learning_stay_silent_without_their_columns(wh):
    ds = PLANTS["learning_limited"][0](Dataset())
    ds.learning_columns = False
    account = ds.accounts[0]
    account.spend_cap, account.amount_spent = 100_000.0, 99_900.0  # would be high, but the columns are absent
    ds.write(wh)
    findings, skipped = detect(wh, WS, NIGHT)
    assert not _of(findings, "learning_limited") and not _of(findings, "spend_cap")
    assert "learning_stage_info" in skipped


def test_a_spend_cap_of_zero_means_no_cap(wh):
    ds = Dataset(spend_cap_columns=True)
    ds.accounts[0].spend_cap, ds.accounts[0].amount_spent = 0.0, 5_000_000.0
    ds.write(wh)
    assert not _of(detect(wh, WS, NIGHT)[0], "spend_cap")


def test_an_ad_set_stuck_in_learning_after_an_old_edit(wh):
    ds = Dataset()
    adset = ds.adset("s31")
    adset.learning_status, adset.learning_conversions = "LEARNING", 20.0
    adset.learning_last_edit = LAST_DAY - timedelta(days=12)
    ds.write(wh)
    [hit] = _of(detect(wh, WS, NIGHT)[0], "learning_limited")
    assert (hit.entity.id, hit.severity, dict(hit.context)["learning_status"]) == ("s31", "warning", "LEARNING")
    # the same ad set edited three days ago is simply learning
    wh.execute("drop schema marts cascade")
    adset.learning_last_edit = LAST_DAY - timedelta(days=3)
    ds.write(wh)
    assert not _of(detect(wh, WS, NIGHT)[0], "learning_limited")


def test_an_ad_set_with_no_converting_ad_is_one_ad_set_finding_not_one_per_ad(wh):
    PLANTS["zero_conversions"][0](Dataset()).write(wh)  # both ads of s22 stop converting
    hits = _of(detect(wh, WS, NIGHT)[0], "zero_conversions")
    assert [(f.entity.level, f.entity.id, dict(f.context)["baseline"]) for f in hits] == [("adset", "s22", "siblings")]
    evidence = {m.name: m.current for m in hits[0].evidence}
    assert evidence["siblings_conversions"] >= 5 and evidence["days_spending"] == 7


def test_zero_conversions_waits_for_several_days_of_spend(wh):
    Dataset().plant(lambda c: {"cvr": 0.0} if c.ad.ad_id == "a321" and c.in_days(0, 1) else {}).write(wh)
    assert not _of(detect(wh, WS, NIGHT)[0], "zero_conversions")  # 2 days: lag, not a finding


def test_conversion_counts_lost_while_the_value_arrives(wh):
    # c1 newest three days: 2% of the purchases are counted, but the value keeps arriving in full
    Dataset().plant(
        lambda c: {"cvr": 0.02, "aov": 50.0} if c.campaign.campaign_id == "c1" and c.in_days(0, 2) else {}
    ).write(wh)
    findings, _ = detect(wh, WS, NIGHT)
    [hit] = _of(findings, "value_tracking_break")
    assert (hit.entity.id, hit.severity, dict(hit.context)["direction"]) == ("c1", "high", "count_lost")
    assert not _of(findings, "tracking_breakage")  # the pixel fires: one cause, one finding


def test_cpm_spike_is_judged_against_the_same_weekdays(wh):
    """Every Saturday and Sunday cost 60% more: a weekend at that price is no spike."""
    Dataset().plant(lambda c: {"cpm": 1.6} if c.day.weekday() >= 5 else {}).write(wh)
    assert not _of(detect(wh, WS, NIGHT, DiagnosticsConfig(cpm_recent_days=3))[0], "auction_cost_spike")
