"""Scenarios for the diagnostics detectors: `diagnostics_planted` (one planted anomaly per detector) and its twin
`diagnostics_clean` (the same world, objects and numbers, without the anomalies).

Both live at a fixed "now" (`DIAGNOSTICS_NOW`, 2026-11-20 12:00 UTC: "today" is 2026-11-20 in every account's time
zone), so the nightly run of `DIAGNOSTICS_NIGHT` judges the windows the anomalies were planted in, whatever the
machine's date. With L = `DIAGNOSTICS_LAST_DAY` (the newest complete day, night - 1) and the detectors' default
windows (diagnostics/README.md): current L-6..L, matured current L-13..L-7, recent L-2..L.

One workspace (`diagnostics`, token `sandbox-token-diagnostics`) with three accounts, every object ACTIVE, daily
budgets paced to the spend:

- act_1301 "Diag Performance" (USD, America/New_York): one anomaly per campaign, each in its own campaign so the
  findings do not overlap (campaign index: kind, target, from):
  0 leads: `cpa_increase` on ad set 0, from L-13 (matured window) · 1 sales: `roas_decrease` on ad set 0, from L-13 ·
  2 sales: `zero_conversions` on ad set 1, from L-6 · 3 sales: `ctr_drop` on ad 0 of ad set 0, from L-6 ·
  4 sales: `creative_fatigue` on ad set 0, from L-6 · 5 sales: `breakdown_outlier` desktop, throughout ·
  6 leads: `budget_pacing` (campaign budget), from L-6 · 7 traffic: healthy.
- act_1302 "Diag Tracking" (EUR, Europe/Berlin): `tracking_breakage` account-wide, from L-2.
- act_1303 "Diag Concentration" (JPY, Asia/Tokyo): `concentration` on campaign 0 (x10, its budget raised with it),
  from L-6.

Serve them with `as_of="today"` for Meta's conversion lag on the newest days (the diagnostics tests do). Their names
are registered with the others in `catalogue.py`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from graph_sandbox.anomalies import Anomaly
from graph_sandbox.specs import AccountSpec, AdSetSpec, CampaignSpec, ScenarioSpec, Workspace

DIAGNOSTICS_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DIAGNOSTICS_NIGHT: date = DIAGNOSTICS_NOW.date()  # the nightly run's date
DIAGNOSTICS_LAST_DAY: date = DIAGNOSTICS_NIGHT - timedelta(days=1)  # every account's newest complete day
DIAGNOSTICS_WORKSPACE = Workspace(
    "diagnostics", "Diagnostics Co", "sandbox-token-diagnostics", ("act_1301", "act_1302", "act_1303")
)
_WORLD = "diagnostics"
_ANCHOR = date(2026, 9, 1)  # objects are laid out before it, so every ad delivers through the judged windows


def diagnostics_clock() -> datetime:
    """The diagnostics scenarios' fixed "now" (pass as `Scenario(..., clock=diagnostics_clock)`)."""
    return DIAGNOSTICS_NOW


def _day(days_before_last: int) -> date:
    return DIAGNOSTICS_LAST_DAY - timedelta(days=days_before_last)


PLANTED_ANOMALIES: tuple[Anomaly, ...] = (
    Anomaly("cpa_increase", 1301, campaign=0, adset=0, start=_day(13), label="leads ad set: CPA x2.5"),
    Anomaly("roas_decrease", 1301, campaign=1, adset=0, start=_day(13), label="sales ad set: value per order x0.4"),
    Anomaly("zero_conversions", 1301, campaign=2, adset=1, start=_day(6), label="sales ad set stops converting"),
    Anomaly("ctr_drop", 1301, campaign=3, adset=0, ad=0, start=_day(6), label="one ad's CTR x0.35"),
    Anomaly("creative_fatigue", 1301, campaign=4, adset=0, start=_day(6), label="frequency x2.2, CTR x0.6"),
    Anomaly(
        "breakdown_outlier", 1301, campaign=5, cell={"device_platform": "desktop"}, label="desktop converts 5x worse"
    ),
    Anomaly("budget_pacing", 1301, campaign=6, start=_day(6), label="campaign delivers 15% of its budget"),
    Anomaly("tracking_breakage", 1302, start=_day(2), label="no conversions recorded account-wide"),
    Anomaly("concentration", 1303, campaign=0, start=_day(6), magnitude=20.0, label="budget x20 into one campaign"),
)


def _campaign(objective: str, budget: str, spend_usd: float, adsets: int = 2, ads: int = 2) -> CampaignSpec:
    adset = AdSetSpec("ACTIVE", ("ACTIVE",) * ads)
    return CampaignSpec("ACTIVE", objective, (adset,) * adsets, budget=budget, spend_usd=spend_usd)


def _accounts() -> tuple[AccountSpec, ...]:
    sales, leads, traffic = "OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC"
    return (
        AccountSpec(
            1301, "Diag Performance", "USD", "America/New_York", "5551301001", "Diagnostics Co",
            (
                _campaign(leads, "adset", 60.0, adsets=1, ads=3),
                _campaign(sales, "adset", 80.0, adsets=1, ads=3),
                _campaign(sales, "adset", 60.0),
                _campaign(sales, "campaign", 60.0),
                _campaign(sales, "adset", 60.0),
                _campaign(sales, "campaign", 80.0),
                _campaign(leads, "campaign", 60.0),
                _campaign(traffic, "adset", 40.0),
            ),
        ),
        AccountSpec(
            1302, "Diag Tracking", "EUR", "Europe/Berlin", "5551301001", "Diagnostics Co",
            (
                _campaign(sales, "campaign", 60.0),
                _campaign(leads, "adset", 60.0),
                _campaign(sales, "adset", 60.0),
            ),
        ),
        AccountSpec(
            1303, "Diag Concentration", "JPY", "Asia/Tokyo", "5551301001", "Diagnostics Co",
            (
                _campaign(sales, "campaign", 50.0),
                _campaign(leads, "adset", 50.0),
                _campaign(sales, "adset", 50.0),
            ),
        ),
    )  # fmt: skip


def _spec(anomalies: tuple[Anomaly, ...]) -> ScenarioSpec:
    return ScenarioSpec(
        accounts=_accounts(),
        workspaces=(DIAGNOSTICS_WORKSPACE,),
        anchor=_ANCHOR,
        history_days=120,
        anomalies=anomalies,
        paced_budgets=True,
        now=DIAGNOSTICS_NOW,
        world=_WORLD,
        random_cell_split=True,
        ad_spread=0.12,
    )


def diagnostics_planted(seed: int) -> ScenarioSpec:
    del seed  # the shape is fixed; the seed drives ids and numbers
    return _spec(PLANTED_ANOMALIES)


def diagnostics_clean(seed: int) -> ScenarioSpec:
    del seed
    return _spec(())
