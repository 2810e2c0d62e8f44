"""Deterministic detectors over one workspace's window aggregates. No LLM, no I/O: `MartData` in, findings out.

Window names (per account, see marts.AccountWindows): `cur` the last `window_days` days, `prev` the ones before,
`trail` the `trailing_days` before `cur`; `ccur`/`cprev`/`ctrail` the same shifted back by `maturity_days` (used by
every conversion-based comparison); `recent` the newest `tracking_window_days` days.
"""

from __future__ import annotations

from typing import Any

from diagnostics.config import DiagnosticsConfig
from diagnostics.detect_common import Detector, campaign_of, cpm, drop, make_finding, noise_floor, rise
from diagnostics.detectors_budget import detect_budget_pacing, detect_lifetime_budgets
from diagnostics.detectors_market import detect_auction_cost, detect_value_tracking, value_held
from diagnostics.detectors_state import detect_account_state, detect_ad_delivery, detect_learning, detect_spend_cap
from diagnostics.detectors_trends import detect_creative_fatigue, detect_zero_conversions
from diagnostics.findings import (
    SEVERITY_RANK,
    Finding,
    Metric,
    Severity,
    grade,
    keep_most_general,
    keep_most_specific,
)
from diagnostics.mart_types import EntityStats, MartData, Sums


# -- CPA / ROAS deterioration ------------------------------------------------------------------------------------------
def detect_efficiency(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """CPA up or ROAS down, matured current window vs the matured previous window AND the matured trailing baseline
    (both must show it, so a one-week blip in the baseline does not read as a deterioration). Where the entity tracks
    conversion value, ROAS is the judged metric (value-optimised buying); otherwise CPA."""
    out: list[Finding] = []
    for level in ("campaign", "adset"):
        for stats in data.stats(level).values():
            if not data.is_conversion_campaign(campaign_of(stats), config.conversion_objectives):
                continue
            c, p, t = stats.sums["ccur"], stats.sums["cprev"], stats.sums["ctrail"]
            if c.conversions < config.min_conversions or p.conversions < config.min_conversions:
                continue
            floor = noise_floor(config, c.conversions)
            uses_value = p.conversion_value > 0 and t.conversion_value > 0
            if uses_value:
                changes = (drop(c.roas, p.roas), drop(c.roas, t.roas))
                warning, high, kind = config.roas_decrease_warning, config.roas_decrease_high, "roas_decrease"
            else:
                changes = (rise(c.cpa, p.cpa), rise(c.cpa, t.cpa))
                warning, high, kind = config.cpa_increase_warning, config.cpa_increase_high, "cpa_increase"
            if any(x is None for x in changes):
                continue
            change = min(x for x in changes if x is not None)
            severity = grade(change, max(warning, floor), max(high, floor))
            if severity is None:
                continue
            judged = "roas" if uses_value else "cpa"
            # evidence carries signed relative changes (current / baseline - 1), whichever way is worse
            signed = [x if judged == "cpa" else -x for x in changes if x is not None]
            out.append(
                make_finding(
                    data,
                    stats,
                    kind,
                    severity,
                    ("ccur", "cprev", "ctrail"),
                    [
                        Metric(judged, getattr(c, judged), getattr(p, judged), getattr(t, judged)),
                        Metric(f"{judged}_change_vs_previous", signed[0]),
                        Metric(f"{judged}_change_vs_trailing", signed[1]),
                        Metric("spend", c.spend, p.spend, t.spend),
                        Metric("conversions", c.conversions, p.conversions, t.conversions),
                        *([Metric("cpa", c.cpa, p.cpa, t.cpa)] if uses_value else []),
                        *([Metric("conversion_value", c.conversion_value, p.conversion_value)] if uses_value else []),
                        Metric("conversion_rate", c.cvr, p.cvr, t.cvr),
                        Metric("cpm", cpm(c), cpm(p), cpm(t)),
                        Metric("ctr", c.ctr, p.ctr, t.ctr),
                    ],
                    [("maturity_days", config.maturity_days), ("threshold", warning)],
                )
            )
    return keep_most_specific(out)


# -- CTR drop ----------------------------------------------------------------------------------------------------------
def detect_ctr_drop(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """CTR (clicks / impressions, recomputed from sums) of the last days vs the days before and the trailing
    baseline, per ad and ad set; the most specific entity is reported."""
    out: list[Finding] = []
    for level in ("adset", "ad"):
        for stats in data.stats(level).values():
            c, p, t = stats.sums["cur"], stats.sums["prev"], stats.sums["trail"]
            if min(c.impressions, p.impressions) < config.min_impressions or p.clicks < config.min_clicks:
                continue
            changes = (drop(c.ctr, p.ctr), drop(c.ctr, t.ctr))
            if any(x is None for x in changes):
                continue
            change = min(x for x in changes if x is not None)
            # expected clicks at the previous CTR: the count whose noise bounds a real drop
            floor = noise_floor(config, c.impressions * (p.ctr or 0))
            severity = grade(change, max(config.ctr_drop_warning, floor), max(config.ctr_drop_high, floor))
            if severity is None:
                continue
            out.append(
                make_finding(
                    data,
                    stats,
                    "ctr_drop",
                    severity,
                    ("cur", "prev", "trail"),
                    [
                        Metric("ctr", c.ctr, p.ctr, t.ctr),
                        Metric("ctr_change_vs_previous", -changes[0] if changes[0] is not None else None),
                        Metric("ctr_change_vs_trailing", -changes[1] if changes[1] is not None else None),
                        Metric("impressions", c.impressions, p.impressions, t.impressions),
                        Metric("clicks", c.clicks, p.clicks, t.clicks),
                        Metric("cpm", cpm(c), cpm(p), cpm(t)),
                        Metric("spend", c.spend, p.spend, t.spend),
                    ],
                    [("threshold", config.ctr_drop_warning)],
                )
            )
    return keep_most_specific(out)


# -- tracking breakage -------------------------------------------------------------------------------------------------
def detect_tracking_breakage(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Conversions per link click in the newest days collapse against the matured baseline while link clicks hold.
    Lag alone lowers the newest days' conversions by tens of percent, not by 85-95%: the thresholds sit above it.
    A broken pixel shows in every campaign: the account-level finding is kept, its campaigns' dropped."""
    out: list[Finding] = []
    days_recent, days_base = config.tracking_window_days, config.trailing_days
    for level in ("account", "campaign"):
        for stats in data.stats(level).values():
            if level == "campaign" and not data.is_conversion_campaign(stats.id, config.conversion_objectives):
                continue
            r, b = stats.sums["recent"], stats.sums["ctrail"]
            base_cvr = b.cvr
            if not base_cvr or not b.link_clicks:
                continue
            clicks_per_day, base_clicks_per_day = r.link_clicks / days_recent, b.link_clicks / days_base
            expected = r.link_clicks * base_cvr
            if clicks_per_day < config.tracking_click_hold * base_clicks_per_day:
                continue  # traffic fell too: a delivery question, not tracking
            if expected < config.tracking_min_expected_conversions:
                continue
            if value_held(stats):
                continue  # the value still arrives: the count event broke, not the pixel (value_tracking_break)
            collapse = 1.0 - r.conversions / expected
            severity = grade(collapse, config.tracking_collapse_warning, config.tracking_collapse_high)
            if severity is None:
                continue
            out.append(
                make_finding(
                    data,
                    stats,
                    "tracking_breakage",
                    severity,
                    ("recent", None, "ctrail"),
                    [
                        Metric("conversions", r.conversions),
                        Metric("expected_conversions", expected),
                        Metric("conversion_rate", r.cvr, trailing=base_cvr),
                        Metric("link_clicks_per_day", clicks_per_day, trailing=base_clicks_per_day),
                        Metric("spend", r.spend),
                        Metric("conversion_collapse", collapse),
                    ],
                    [("threshold", config.tracking_collapse_warning)],
                )
            )
    return keep_most_general(out)


# -- concentration -----------------------------------------------------------------------------------------------------
def detect_concentration(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """One campaign or ad set carrying most of its account's spend in the current window: the account's results
    hang on one auction. Only in accounts with at least `concentration_min_entities` spending entities at that level."""
    out: list[Finding] = []
    for level in ("campaign", "adset"):
        by_account: dict[str, list[EntityStats]] = {}
        for stats in data.stats(level).values():
            if stats.sums["cur"].spend > 0:
                by_account.setdefault(stats.account_id, []).append(stats)
        for account_id, members in by_account.items():
            if len(members) < config.concentration_min_entities:
                continue
            total = data.account_stats[account_id].sums
            for stats in members:
                share = stats.sums["cur"].spend / total["cur"].spend
                prev_share = stats.sums["prev"].spend / total["prev"].spend if total["prev"].spend else None
                # A concentration is a risk, not a loss: it tops out at warning.
                if share >= config.concentration_warning:
                    severity: Severity = "warning"
                elif share >= config.concentration_info:
                    severity = "info"
                else:
                    continue
                out.append(
                    make_finding(
                        data,
                        stats,
                        "concentration",
                        severity,
                        ("cur", "prev", None),
                        [
                            Metric("spend_share", share, prev_share),
                            Metric("spend", stats.sums["cur"].spend, stats.sums["prev"].spend),
                            Metric("account_spend", total["cur"].spend, total["prev"].spend),
                            Metric("entities_spending", len(members)),
                        ],
                    )
                )
    return keep_most_specific(out)


# -- breakdown outliers ------------------------------------------------------------------------------------------------
def detect_breakdown_outliers(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Within one campaign, a breakdown cell (age x gender, country, placement, device) that performs far worse than its
    siblings (the campaign minus the cell) in the matured window. As for CPA/ROAS: where the campaign tracks conversion
    value the cell is judged on ROAS (siblings' ROAS / the cell's), otherwise on CPA (the cell's / siblings'). A cell
    without conversions (or value) counts as if it had one (one average conversion's value): a bound, so a large
    spend with nothing to show still shows."""
    out: list[Finding] = []
    for dimension, cells in sorted(data.breakdowns.items()):
        by_campaign: dict[str, list[Any]] = {}
        for cell in cells:
            by_campaign.setdefault(cell.campaign_id, []).append(cell)
        for campaign_id, members in by_campaign.items():
            campaign = data.campaigns.get(campaign_id)
            if campaign is None or not data.is_conversion_campaign(campaign_id, config.conversion_objectives):
                continue
            total = Sums()
            for cell in members:
                total.add(cell.sums)
            if total.spend <= 0:
                continue
            for cell in members:
                c, siblings = cell.sums, total.minus(cell.sums)
                sib_cpa = siblings.cpa
                if sib_cpa is None or siblings.conversions < config.min_conversions or c.spend <= 0:
                    continue
                share, expected = c.spend / total.spend, c.spend / sib_cpa
                if share < config.breakdown_min_spend_share or expected < config.breakdown_min_expected_conversions:
                    continue
                judged = "roas" if siblings.conversion_value > 0 else "cpa"
                if judged == "roas":
                    value_bound = max(c.conversion_value, siblings.conversion_value / siblings.conversions)
                    ratio = (siblings.roas or 0.0) / (value_bound / c.spend)
                else:
                    ratio = (c.spend / max(c.conversions, 1.0)) / sib_cpa
                severity = grade(ratio, config.breakdown_ratio_warning, config.breakdown_ratio_high)
                if severity is None:
                    continue
                out.append(
                    make_finding(
                        data,
                        campaign,
                        "breakdown_outlier",
                        severity,
                        ("ccur", None, None),
                        [
                            Metric("times_worse_than_siblings", ratio),
                            Metric("cpa", c.cpa),
                            Metric("siblings_cpa", sib_cpa),
                            Metric("roas", c.roas),
                            Metric("siblings_roas", siblings.roas),
                            Metric("spend", c.spend),
                            Metric("spend_share", share),
                            Metric("conversions", c.conversions),
                            Metric("expected_conversions_at_siblings_cpa", expected),
                        ],
                        [("dimension", dimension), ("judged", judged), ("maturity_days", config.maturity_days)],
                        breakdown=cell.cell,
                    )
                )
    return out


DETECTORS: dict[str, Detector] = {
    "efficiency": detect_efficiency,
    "ctr_drop": detect_ctr_drop,
    "creative_fatigue": detect_creative_fatigue,
    "zero_conversions": detect_zero_conversions,
    "tracking_breakage": detect_tracking_breakage,
    "value_tracking": detect_value_tracking,
    "budget_pacing": detect_budget_pacing,
    "lifetime_budgets": detect_lifetime_budgets,
    "concentration": detect_concentration,
    "breakdown_outlier": detect_breakdown_outliers,
    "auction_cost": detect_auction_cost,
    "ad_delivery": detect_ad_delivery,
    "account_state": detect_account_state,
    "spend_cap": detect_spend_cap,
    "learning": detect_learning,
}


# Which findings to keep first when a night has more than `max_findings` (within a severity): an account that cannot
# deliver, then broken measurement and money spent for nothing, before efficiency, before delivery shape.
TRIAGE_ORDER = (
    "account_disabled",
    "account_unpaid",
    "spend_cap",
    "tracking_breakage",
    "value_tracking_break",
    "ad_disapproved",
    "zero_conversions",
    "cpa_increase",
    "roas_decrease",
    "learning_limited",
    "budget_pacing",
    "lifetime_budget_pacing",
    "ad_not_delivering",
    "ad_with_issues",
    "auction_cost_spike",
    "breakdown_outlier",
    "creative_fatigue",
    "ctr_drop",
    "concentration",
)


def run_detectors(data: MartData, config: DiagnosticsConfig) -> tuple[list[Finding], int]:
    """All detectors' findings in a stable order (severity, type, level, id), at most `max_findings` of them, and
    how many were left out."""
    findings = _one_per_cause([f for detector in DETECTORS.values() for f in detector(data, config)])
    triage = sorted(
        findings,
        key=lambda f: (-SEVERITY_RANK[f.severity], TRIAGE_ORDER.index(f.finding_type), f.sort_key()),
    )
    kept = triage[: config.max_findings]
    return sorted(kept, key=Finding.sort_key), len(findings) - len(kept)


def _one_per_cause(findings: list[Finding]) -> list[Finding]:
    """A CTR drop explained by creative fatigue of the same entity (or of an ad set / campaign above it) is the same
    cause told twice: the fatigue finding, which says why, is kept."""
    fatigued = {(f.entity.level, f.entity.id) for f in findings if f.finding_type == "creative_fatigue"}
    return [
        f
        for f in findings
        if f.finding_type != "ctr_drop" or not ({(f.entity.level, f.entity.id), *f.ancestors} & fatigued)
    ]
