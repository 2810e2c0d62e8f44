"""Spend that buys nothing, and creatives that wear out: zero-conversion spenders judged against their siblings,
creative fatigue per ad (and per ad set / campaign where Meta fetched frequency at that grain)."""

from __future__ import annotations

from diagnostics.config import DiagnosticsConfig
from diagnostics.detect_common import campaign_of, drop, make_finding, noise_floor, rise
from diagnostics.findings import Finding, Metric, Severity, grade, keep_most_specific
from diagnostics.mart_types import EntityStats, MartData, Sums


# -- spend with zero conversions ---------------------------------------------------------------------------------------
def _parent_key(stats: EntityStats) -> tuple[str, str | None]:
    if stats.level == "ad":
        return ("adset", stats.adset_id)
    if stats.level == "adset":
        return ("campaign", stats.campaign_id)
    return ("account", stats.account_id)


def detect_zero_conversions(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """An ad, ad set or campaign that kept spending (on `zero_min_spend_days` days or more) in the current window
    without a single conversion while its siblings (the other ads of its ad set, ad sets of its campaign, campaigns
    of its account) converted. The spend is measured in conversions it should have bought at the siblings' CPA in the
    same window: the siblings' newest days lag exactly as much, so the comparison needs no maturity correction. An ad
    set or campaign whose siblings did not convert is measured against the account's matured CPA instead; an ad
    only ever against its siblings (an ad set with no converting ad is the ad set's finding)."""
    account_cpa: dict[str, float | None] = {}
    for account_id in data.accounts:
        base = Sums()
        for campaign in data.campaigns.values():
            if campaign.account_id == account_id and data.is_conversion_campaign(
                campaign.id, config.conversion_objectives
            ):
                base.add(campaign.sums["ctrail"])
        account_cpa[account_id] = base.cpa
    families: dict[tuple[str, str, str | None], list[EntityStats]] = {}
    for level in ("campaign", "adset", "ad"):
        for stats in data.stats(level).values():
            if data.is_conversion_campaign(campaign_of(stats), config.conversion_objectives):
                families.setdefault((level, *_parent_key(stats)), []).append(stats)
    out: list[Finding] = []
    for (level, _, _), members in families.items():
        for stats in members:
            c = stats.sums["cur"]
            spend_days = sum(1 for d in stats.daily if d.spend > 0)
            if c.conversions > 0 or c.spend <= 0 or spend_days < config.zero_min_spend_days:
                continue
            siblings = Sums()
            for other in members:
                if other is not stats:
                    siblings.add(other.sums["cur"])
            if siblings.conversions >= config.zero_min_sibling_conversions and siblings.cpa:
                baseline, cpa = "siblings", siblings.cpa
            elif level != "ad" and account_cpa.get(stats.account_id):
                baseline, cpa = "account_matured", account_cpa[stats.account_id]
            else:
                continue
            assert cpa is not None
            expected = c.spend / cpa
            severity = grade(
                expected, config.zero_conversions_warning_cpa_multiple, config.zero_conversions_high_cpa_multiple
            )
            if severity is None:
                continue
            t = stats.sums["ctrail"]
            evidence = [
                Metric("spend", c.spend),
                Metric("conversions", c.conversions),
                Metric("days_spending", spend_days),
                Metric("link_clicks", c.link_clicks),
                Metric("expected_conversions", expected),
                Metric("baseline_cpa", cpa),
            ]
            if baseline == "siblings":
                evidence += [
                    Metric("siblings_cpa", siblings.cpa),
                    Metric("siblings_conversion_rate", siblings.cvr),
                    Metric("siblings_conversions", siblings.conversions),
                ]
            else:
                evidence += [Metric("account_cpa_matured", cpa), Metric("spend_in_account_cpas", expected)]
            # the entity's own matured history: did it ever convert?
            evidence += [Metric("entity_conversions_trailing", t.conversions), Metric("entity_spend_trailing", t.spend)]
            out.append(
                make_finding(
                    data,
                    stats,
                    "zero_conversions",
                    severity,
                    ("cur", None, "ctrail"),
                    evidence,
                    [("baseline", baseline), ("threshold_expected", config.zero_conversions_warning_cpa_multiple)],
                )
            )
    return keep_most_specific(out)


# -- creative fatigue --------------------------------------------------------------------------------------------------
def _fatigue(
    config: DiagnosticsConfig, f_cur: float | None, f_prev: float | None, c: Sums, p: Sums
) -> tuple[Severity, float, float] | None:
    if f_cur is None or f_prev is None or min(c.impressions, p.impressions) < config.min_impressions:
        return None
    freq_rise, ctr_drop = rise(f_cur, f_prev), drop(c.ctr, p.ctr)
    if freq_rise is None or ctr_drop is None:
        return None
    floor = noise_floor(config, c.impressions * (p.ctr or 0))
    if (
        f_cur < config.fatigue_min_frequency
        or freq_rise < config.fatigue_frequency_rise
        or ctr_drop < max(config.fatigue_ctr_drop, floor)
    ):
        return None
    high = f_cur >= config.fatigue_high_frequency and ctr_drop >= config.fatigue_ctr_drop_high
    return ("high" if high else "warning"), freq_rise, ctr_drop


def detect_creative_fatigue(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Mean daily frequency rising week over week while CTR falls: per ad (frequency as Meta fetched it for the
    ad-day), and per ad set / campaign from their own facts (frequency is never summed or derived from children).
    One finding per cause: when every delivering ad of an ad set is fatigued and the ad set is too, the ad set is
    reported (the audience is saturated); otherwise the ads are (those creatives wore out)."""
    found: list[Finding] = []
    for ad in data.ads.values():
        if ad.account_id not in data.accounts:
            continue
        hit = _fatigue(config, ad.frequency.get("cur"), ad.frequency.get("prev"), ad.sums["cur"], ad.sums["prev"])
        if hit is not None:
            found.append(_fatigue_finding(data, ad, hit, ad.frequency["cur"], ad.frequency["prev"], ad.sums, "ad"))
    for level in ("adset", "campaign"):
        for entity_id, fq in data.frequency[level].items():
            stats = data.stats(level).get(entity_id)
            if stats is None or fq.account_id not in data.accounts:
                continue
            f_cur, f_prev = fq.frequency["cur"], fq.frequency["prev"]
            hit = _fatigue(config, f_cur, f_prev, fq.sums["cur"], fq.sums["prev"])
            if hit is not None:
                found.append(_fatigue_finding(data, stats, hit, f_cur, f_prev, fq.sums, level))
    flagged_ads = {f.entity.id for f in found if f.entity.level == "ad"}
    saturated = set()
    for f in found:
        if f.entity.level != "adset":
            continue
        delivering = [
            a.id
            for a in data.ads.values()
            if a.adset_id == f.entity.id and a.sums["cur"].impressions >= config.min_impressions
        ]
        if len(delivering) >= 2 and all(a in flagged_ads for a in delivering):
            saturated.add(f.entity.id)
    # a saturated ad set stands for its ads; elsewhere the most specific entity is the news
    return keep_most_specific(f for f in found if not (f.entity.level == "ad" and f.adset_id in saturated))


def _fatigue_finding(
    data: MartData,
    stats: EntityStats,
    hit: tuple[Severity, float, float],
    f_cur: float | None,
    f_prev: float | None,
    sums: dict[str, Sums],
    grain: str,
) -> Finding:
    severity, freq_rise, ctr_drop = hit
    c, p = sums["cur"], sums["prev"]
    return make_finding(
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
        [("frequency_grain", grain)],
    )
