"""Deterministic detectors over one workspace's window aggregates. No LLM, no I/O: `MartData` in, findings out.

Window names (per account, see marts.AccountWindows): `cur` the last `window_days` days, `prev` the ones before,
`trail` the `trailing_days` before `cur`; `ccur`/`cprev`/`ctrail` the same shifted back by `maturity_days` (used by
every conversion-based comparison); `recent` the newest `tracking_window_days` days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from diagnostics.config import DiagnosticsConfig
from diagnostics.findings import (
    SEVERITY_RANK,
    Entity,
    Finding,
    Metric,
    Severity,
    grade,
    keep_most_general,
    keep_most_specific,
)
from diagnostics.marts import Account, EntityStats, MartData, Sums

Detector = Callable[[MartData, DiagnosticsConfig], list[Finding]]


def _noise_floor(config: DiagnosticsConfig, events: float) -> float:
    """Relative change a Poisson count of `events` makes by chance at `noise_z` standard errors."""
    return config.noise_z / math.sqrt(events) if events > 0 else math.inf


def _drop(current: float | None, baseline: float | None) -> float | None:
    """Relative fall from baseline to current (0.3 = 30% lower); None when not comparable."""
    if current is None or not baseline:
        return None
    return 1.0 - current / baseline


def _rise(current: float | None, baseline: float | None) -> float | None:
    if current is None or not baseline:
        return None
    return current / baseline - 1.0


def _finding(
    data: MartData,
    stats: EntityStats,
    finding_type: str,
    severity: Severity,
    windows: tuple[str, str | None, str | None],
    evidence: Iterable[Metric],
    context: Iterable[tuple[str, Any]] = (),
    breakdown: tuple[tuple[str, str], ...] | None = None,
) -> Finding:
    account: Account = data.accounts[stats.account_id]
    w = account.windows.windows
    cur, prev, trail = windows
    return Finding(
        workspace_id=data.workspace_id,
        finding_type=finding_type,
        severity=severity,
        entity=Entity(stats.level, stats.id, stats.name, breakdown),  # type: ignore[arg-type]
        account_id=stats.account_id,
        currency=account.currency,
        period=w[cur],
        previous=w[prev] if prev else None,
        trailing=w[trail] if trail else None,
        evidence=tuple(evidence),
        campaign_id=stats.campaign_id if stats.level in ("adset", "ad") else None,
        adset_id=stats.adset_id if stats.level == "ad" else None,
        context=tuple(context),
    )


def _campaign_of(stats: EntityStats) -> str | None:
    return stats.id if stats.level == "campaign" else stats.campaign_id


# -- CPA / ROAS deterioration ------------------------------------------------------------------------------------------
def detect_efficiency(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """CPA up or ROAS down, matured current window vs the matured previous window AND the matured trailing baseline
    (both must show it, so a one-week blip in the baseline does not read as a deterioration). Where the entity tracks
    conversion value, ROAS is the judged metric (value-optimised buying); otherwise CPA."""
    out: list[Finding] = []
    for level in ("campaign", "adset"):
        for stats in data.stats(level).values():
            if not data.is_conversion_campaign(_campaign_of(stats), config.conversion_objectives):
                continue
            c, p, t = stats.sums["ccur"], stats.sums["cprev"], stats.sums["ctrail"]
            if c.conversions < config.min_conversions or p.conversions < config.min_conversions:
                continue
            floor = _noise_floor(config, c.conversions)
            uses_value = p.conversion_value > 0 and t.conversion_value > 0
            if uses_value:
                changes = (_drop(c.roas, p.roas), _drop(c.roas, t.roas))
                warning, high, kind = config.roas_decrease_warning, config.roas_decrease_high, "roas_decrease"
            else:
                changes = (_rise(c.cpa, p.cpa), _rise(c.cpa, t.cpa))
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
                _finding(
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
                        Metric("cpm", _cpm(c), _cpm(p), _cpm(t)),
                        Metric("ctr", c.ctr, p.ctr, t.ctr),
                    ],
                    [("maturity_days", config.maturity_days), ("threshold", warning)],
                )
            )
    return keep_most_specific(out)


def _cpm(s: Sums) -> float | None:
    return 1000 * s.spend / s.impressions if s.impressions else None


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
            changes = (_drop(c.ctr, p.ctr), _drop(c.ctr, t.ctr))
            if any(x is None for x in changes):
                continue
            change = min(x for x in changes if x is not None)
            # expected clicks at the previous CTR: the count whose noise bounds a real drop
            floor = _noise_floor(config, c.impressions * (p.ctr or 0))
            severity = grade(change, max(config.ctr_drop_warning, floor), max(config.ctr_drop_high, floor))
            if severity is None:
                continue
            out.append(
                _finding(
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
                        Metric("cpm", _cpm(c), _cpm(p), _cpm(t)),
                        Metric("spend", c.spend, p.spend, t.spend),
                    ],
                    [("threshold", config.ctr_drop_warning)],
                )
            )
    return keep_most_specific(out)


# -- creative fatigue --------------------------------------------------------------------------------------------------
def detect_creative_fatigue(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Mean daily frequency rising while CTR falls, at ad set and campaign grain, from the facts Meta fetched at that
    grain (frequency is not additive: it is never summed or derived from ads)."""
    out: list[Finding] = []
    for level in ("adset", "campaign"):
        for entity_id, fq in data.frequency[level].items():
            stats = data.stats(level).get(entity_id)
            if stats is None or fq.account_id not in data.accounts:
                continue
            f_cur, f_prev = fq.frequency["cur"], fq.frequency["prev"]
            c, p = fq.sums["cur"], fq.sums["prev"]
            if f_cur is None or f_prev is None or min(c.impressions, p.impressions) < config.min_impressions:
                continue
            freq_rise = _rise(f_cur, f_prev)
            ctr_drop = _drop(c.ctr, p.ctr)
            if freq_rise is None or ctr_drop is None:
                continue
            floor = _noise_floor(config, c.impressions * (p.ctr or 0))
            if (
                f_cur < config.fatigue_min_frequency
                or freq_rise < config.fatigue_frequency_rise
                or ctr_drop < max(config.fatigue_ctr_drop, floor)
            ):
                continue
            severity: Severity = (
                "high"
                if f_cur >= config.fatigue_high_frequency and ctr_drop >= config.fatigue_ctr_drop_high
                else "warning"
            )
            out.append(
                _finding(
                    data,
                    stats,
                    "creative_fatigue",
                    severity,
                    ("cur", "prev", None),
                    [
                        Metric("mean_daily_frequency", f_cur, f_prev),
                        Metric("frequency_change", freq_rise),
                        Metric("ctr", c.ctr, p.ctr),
                        Metric("ctr_change", -ctr_drop),
                        Metric("impressions", c.impressions, p.impressions),
                    ],
                    [("frequency_grain", level)],
                )
            )
    return keep_most_specific(out)


# -- spend with zero conversions ---------------------------------------------------------------------------------------
def detect_zero_conversions(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """An ad set or campaign that spent several times the account's matured CPA in the last days without a single
    conversion. Measured in CPAs rather than currency; the multiples (3x, 6x) leave room for the newest days' lag."""
    baseline: dict[str, Sums] = {}
    for campaign in data.campaigns.values():
        if data.is_conversion_campaign(campaign.id, config.conversion_objectives):
            baseline.setdefault(campaign.account_id, Sums()).add(campaign.sums["ctrail"])
    out: list[Finding] = []
    for level in ("campaign", "adset"):
        for stats in data.stats(level).values():
            if not data.is_conversion_campaign(_campaign_of(stats), config.conversion_objectives):
                continue
            account_cpa = baseline.get(stats.account_id, Sums()).cpa
            c = stats.sums["cur"]
            if account_cpa is None or c.conversions > 0 or c.spend <= 0:
                continue
            multiple = c.spend / account_cpa
            severity = grade(
                multiple, config.zero_conversions_warning_cpa_multiple, config.zero_conversions_high_cpa_multiple
            )
            if severity is None:
                continue
            t = stats.sums["ctrail"]
            out.append(
                _finding(
                    data,
                    stats,
                    "zero_conversions",
                    severity,
                    ("cur", None, "ctrail"),
                    [
                        Metric("spend", c.spend),
                        Metric("conversions", c.conversions),
                        Metric("link_clicks", c.link_clicks),
                        Metric("account_cpa_matured", account_cpa),
                        Metric("spend_in_account_cpas", multiple),
                        # the entity's own matured history: did it ever convert?
                        Metric("entity_conversions_trailing", t.conversions),
                        Metric("entity_spend_trailing", t.spend),
                    ],
                    [("threshold_cpa_multiple", config.zero_conversions_warning_cpa_multiple)],
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
            collapse = 1.0 - r.conversions / expected
            severity = grade(collapse, config.tracking_collapse_warning, config.tracking_collapse_high)
            if severity is None:
                continue
            out.append(
                _finding(
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


# -- budget pacing -----------------------------------------------------------------------------------------------------
def detect_budget_pacing(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Spend against the daily budget (latest state from the dims) over the days the entity delivered in the current
    window, for active campaigns (budget optimisation) and active ad sets with a daily budget. Lifetime budgets are
    not judged (they need the schedule)."""
    out: list[Finding] = []
    candidates: list[tuple[EntityStats, float]] = []
    for cid, cdim in data.campaign_dims.items():
        if cdim.daily_budget and _active(cdim.status, cdim.effective_status) and cid in data.campaigns:
            candidates.append((data.campaigns[cid], cdim.daily_budget))
    for sid, sdim in data.adset_dims.items():
        if sdim.daily_budget and _active(sdim.status, sdim.effective_status) and sid in data.adsets:
            candidates.append((data.adsets[sid], sdim.daily_budget))
    for stats, budget in candidates:
        c = stats.sums["cur"]
        if c.spend <= 0 or stats.first_spend_day is None:
            continue
        window = data.accounts[stats.account_id].windows.windows["cur"]
        # An entity launched (or resumed) inside the window is judged from its first day of spend.
        days = (window.end - max(window.start, stats.first_spend_day)).days + 1
        if days < config.pacing_min_days:
            continue
        pacing = c.spend / (budget * days)
        if pacing >= config.pacing_over_info:
            severity: Severity | None = "info"
            direction = "over"
        else:
            severity = grade(1.0 - pacing, 1.0 - config.pacing_under_warning, 1.0 - config.pacing_under_high)
            direction = "under"
        if severity is None:
            continue
        out.append(
            _finding(
                data,
                stats,
                "budget_pacing",
                severity,
                ("cur", None, None),
                [
                    Metric("pacing", pacing),
                    Metric("spend", c.spend),
                    Metric("daily_budget", budget),
                    Metric("avg_daily_spend", c.spend / days),
                    Metric("days_delivering", days),
                ],
                [("direction", direction), ("budget_level", stats.level)],
            )
        )
    return out


def _active(status: str | None, effective_status: str | None) -> bool:
    return (effective_status or status) == "ACTIVE"


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
                    _finding(
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
                    _finding(
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
    "budget_pacing": detect_budget_pacing,
    "concentration": detect_concentration,
    "breakdown_outlier": detect_breakdown_outliers,
}


# Which findings to keep first when a night has more than `max_findings` (within a severity): broken measurement and
# money spent for nothing before efficiency, efficiency before delivery shape.
TRIAGE_ORDER = (
    "tracking_breakage",
    "zero_conversions",
    "cpa_increase",
    "roas_decrease",
    "budget_pacing",
    "breakdown_outlier",
    "creative_fatigue",
    "ctr_drop",
    "concentration",
)


def run_detectors(data: MartData, config: DiagnosticsConfig) -> tuple[list[Finding], int]:
    """All detectors' findings in a stable order (severity, type, level, id), at most `max_findings` of them, and
    how many were left out."""
    findings = [f for detector in DETECTORS.values() for f in detector(data, config)]
    triage = sorted(
        findings,
        key=lambda f: (-SEVERITY_RANK[f.severity], TRIAGE_ORDER.index(f.finding_type), f.sort_key()),
    )
    kept = triage[: config.max_findings]
    return sorted(kept, key=Finding.sort_key), len(findings) - len(kept)
