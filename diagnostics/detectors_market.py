"""Measurement and market: a conversion value that stops arriving while conversions hold (or the reverse), and
auction costs (CPM) spiking at account level against the same weekdays of the weeks before."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

from dates import Window
from diagnostics.config import DiagnosticsConfig
from diagnostics.detect_common import make_finding
from diagnostics.findings import Finding, Metric, grade, keep_most_general
from diagnostics.mart_types import EntityStats, MartData, Sums

# The share of the matured baseline's value per link click that counts as "the value still arrives". The newest days
# carry only a part of their final value (lag: ~30-45% on the slow curve the tests use); a broken value is ~0.
VALUE_HOLD = 0.2


def value_held(stats: EntityStats) -> bool:
    """The newest days' conversion value per link click holds at least a fifth of the matured baseline's: whatever
    happened to the conversion counts, the value event still fires."""
    r, b = stats.sums["recent"], stats.sums["ctrail"]
    if b.conversion_value <= 0 or not b.link_clicks or not r.link_clicks:
        return False
    return (r.conversion_value / r.link_clicks) >= VALUE_HOLD * (b.conversion_value / b.link_clicks)


def detect_value_tracking(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """In the newest `tracking_window_days`, against the matured trailing baseline, for entities that track value:
    - `value_lost`: conversions keep being counted (at least `value_min_conversions` in the newest days) but the value
      per conversion collapses (85% / 95%) against the matured baseline's;
    - `count_lost`: the value per link click holds but the conversion count collapses against the count the value
      implies at the baseline value per conversion.
    Both are ratios of quantities that lag alike, so the newest days' immaturity cancels out. One account-level
    finding stands for its campaigns (one broken event)."""
    out: list[Finding] = []
    for level in ("account", "campaign"):
        for stats in data.stats(level).values():
            if level == "campaign" and not data.is_conversion_campaign(stats.id, config.conversion_objectives):
                continue
            r, b = stats.sums["recent"], stats.sums["ctrail"]
            if b.conversion_value <= 0 or b.conversions <= 0 or not b.cvr or not r.link_clicks:
                continue
            base_aov = b.conversion_value / b.conversions
            expected = r.link_clicks * b.cvr
            if r.conversions >= config.value_min_conversions:
                direction = "value_lost"
                aov = r.conversion_value / r.conversions
                collapse = 1.0 - aov / base_aov
                evidence = [
                    Metric("value_per_conversion", aov, trailing=base_aov),
                    Metric("conversions", r.conversions),
                    Metric("expected_conversions", expected),
                    Metric("conversion_value", r.conversion_value),
                ]
            elif value_held(stats):
                implied = r.conversion_value / base_aov
                if implied < config.value_min_conversions:
                    continue
                direction = "count_lost"
                collapse = 1.0 - r.conversions / implied
                evidence = [
                    Metric("conversions", r.conversions),
                    Metric("conversions_implied_by_value", implied),
                    Metric("conversion_value", r.conversion_value),
                    Metric(
                        "value_per_link_click",
                        r.conversion_value / r.link_clicks,
                        trailing=b.conversion_value / b.link_clicks,
                    ),
                ]
            else:
                continue
            severity = grade(collapse, config.tracking_collapse_warning, config.tracking_collapse_high)
            if severity is None:
                continue
            evidence += [Metric("value_collapse" if direction == "value_lost" else "count_collapse", collapse)]
            evidence += [Metric("spend", r.spend), Metric("link_clicks", r.link_clicks)]
            out.append(
                make_finding(
                    data,
                    stats,
                    "value_tracking_break",
                    severity,
                    ("recent", None, "ctrail"),
                    evidence,
                    [("direction", direction), ("threshold", config.tracking_collapse_warning)],
                )
            )
    return keep_most_general(out)


def weekday_baseline(daily: dict[date, Sums], day: date, weeks: int) -> list[float]:
    """CPMs of the same weekday in the `weeks` weeks before `day` (days with impressions only)."""
    out = []
    for k in range(1, weeks + 1):
        s = daily.get(day - timedelta(days=7 * k))
        if s is not None and s.impressions > 0:
            out.append(1000 * s.spend / s.impressions)
    return out


def detect_auction_cost(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Account CPM over the newest `cpm_recent_days` against a day-of-week baseline: each recent day's impressions
    priced at the median CPM of the same weekday over the `cpm_baseline_weeks` weeks before. Spend and impressions
    settle within a day, so no maturity applies. The spike must also exceed twice the baseline's own
    week-to-week spread (a market that always swings 20% is not news at 25%)."""
    out: list[Finding] = []
    for account_id, account in data.accounts.items():
        daily = data.account_daily.get(account_id, {})
        last = account.windows.last_day
        recent = [last - timedelta(days=i) for i in range(config.cpm_recent_days)]
        spend = impressions = expected = 0.0
        spreads: list[float] = []
        for day in recent:
            s = daily.get(day)
            base = weekday_baseline(daily, day, config.cpm_baseline_weeks)
            if s is None or s.impressions <= 0 or len(base) < max(2, config.cpm_baseline_weeks - 1):
                break
            median = statistics.median(base)
            spend, impressions, expected = (
                spend + s.spend,
                impressions + s.impressions,
                expected + s.impressions * median / 1000,
            )
            spreads += [abs(b / median - 1.0) for b in base]
        else:
            if impressions < config.cpm_min_impressions or expected <= 0:
                continue
            spike = spend / expected - 1.0
            noise = 2 * statistics.median(spreads) if spreads else 0.0
            severity = grade(spike, max(config.cpm_spike_warning, noise), max(config.cpm_spike_high, noise))
            if severity is None:
                continue
            stats = data.account_stats.get(account_id)
            if stats is None:
                continue
            out.append(
                make_finding(
                    data,
                    stats,
                    "auction_cost_spike",
                    severity,
                    ("recent", None, None),
                    [
                        Metric("cpm", 1000 * spend / impressions, trailing=1000 * expected / impressions),
                        Metric("cpm_change", spike),
                        Metric("impressions", impressions),
                        Metric("spend", spend),
                        Metric("extra_spend", spend - expected),
                        Metric("baseline_spread", noise / 2),
                    ],
                    [
                        ("baseline", f"same weekday, {config.cpm_baseline_weeks} weeks before"),
                        ("threshold", config.cpm_spike_warning),
                    ],
                    period=Window(recent[-1], recent[0]),
                )
            )
    return out
