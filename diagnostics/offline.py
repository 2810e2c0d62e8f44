"""The offline narrator: deterministic templates over the evidence, the same `Narrative` schema as the model's.

Default provider, and the fallback for every finding the model could not narrate. Causes are chosen from the evidence
(a conversion-rate fall vs a CPM rise vs a CTR fall), so two findings with different numbers read differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from diagnostics.findings import Finding
from diagnostics.narrative import Narrative, build_payload, input_hash
from diagnostics.narrators import CachedNarrative, NarrationOutcome
from diagnostics.offline_state import STATE_TEMPLATES
from diagnostics.wording import (
    _cap,
    _change,
    _confidence,
    _fall,
    _fmt_money,
    _fmt_num,
    _fmt_pct,
    _fmt_ratio_pct,
    _label,
    _level,
    _period,
)

OFFLINE_MODEL = "offline-template"


def _efficiency(f: Finding) -> Narrative:
    cur = f.currency
    judged = "roas" if f.finding_type == "roas_decrease" else "cpa"
    m = f.metric(judged)
    assert m is not None
    vs_prev = f.metric(f"{judged}_change_vs_previous")
    conv = f.metric("conversions")
    if judged == "cpa":
        head = (
            f"CPA of {_label(f)} rose {_fmt_pct(vs_prev.current if vs_prev else None, signed=False)} to "
            f"{_fmt_money(m.current, cur)} "
            f"in the matured week {_period(f)} (week before: {_fmt_money(m.previous, cur)}; "
            f"28-day baseline: {_fmt_money(m.trailing, cur)})"
        )
    else:
        head = (
            f"ROAS of {_label(f)} fell {_fmt_pct(-(vs_prev.current or 0) if vs_prev else None, signed=False)} to "
            f"{m.current:.2f} in the matured week {_period(f)} (week before: {(m.previous or 0):.2f}; "
            f"28-day baseline: {(m.trailing or 0):.2f})"
        )
    summary = f"{head}, on {_fmt_num(conv.current if conv else None)} conversions."
    causes: list[str] = []
    cvr, cpm, ctr = f.metric("conversion_rate"), f.metric("cpm"), f.metric("ctr")
    if (c := _change(cvr)) is not None and c <= -0.1:
        causes.append(
            f"Fewer clicks convert: conversion rate {_fmt_ratio_pct(cvr.previous if cvr else None)} → "
            f"{_fmt_ratio_pct(cvr.current if cvr else None)} (landing page, offer, stock or checkout)."
        )
    if (c := _change(cpm)) is not None and c >= 0.1:
        causes.append(f"Auction costs rose: CPM {_fmt_pct(c)} (competition, seasonality or a narrower audience).")
    if (c := _change(ctr)) is not None and c <= -0.1:
        causes.append(f"The ads draw fewer clicks: CTR {_fmt_pct(c)} (creative wear-out or audience shift).")
    if judged == "roas":
        cpa = f.metric("cpa")
        if (c := _change(cpa)) is not None and abs(c) < 0.1:
            causes.append("Cost per conversion held: the value per conversion fell (smaller baskets, discounts).")
    if not causes:
        causes.append("No single driver stands out in CPM, CTR or conversion rate: check recent edits and the offer.")
    actions = [
        f"Review the changes made to this {_level(f)} and its ads around {f.period.start.isoformat()}.",
        "Check the landing page and the conversion event for this traffic.",
        "If it persists a second week, shift budget to the better-performing ad sets.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _ctr_drop(f: Finding) -> Narrative:
    ctr, cpm = f.metric("ctr"), f.metric("cpm")
    assert ctr is not None
    summary = (
        f"CTR of {_label(f)} fell to {_fmt_ratio_pct(ctr.current)} in {_period(f)}, "
        f"from {_fmt_ratio_pct(ctr.previous)} the week before ({_fall(ctr)} lower) "
        f"and {_fmt_ratio_pct(ctr.trailing)} over the 28 days before."
    )
    causes = ["The creative is wearing out with its audience."]
    if (c := _change(cpm)) is not None and abs(c) >= 0.15:
        causes.append(f"Delivery moved to a different audience or placement mix (CPM {_fmt_pct(c)}).")
    actions = [
        "Refresh or rotate the creative (new hook, format or visual).",
        "Compare CTR by placement to see whether one placement drove the fall.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _fatigue(f: Finding) -> Narrative:
    freq, ctr = f.metric("mean_daily_frequency"), f.metric("ctr")
    assert freq is not None and ctr is not None
    summary = (
        f"{_cap(_label(f))} shows creative fatigue in {_period(f)}: mean daily frequency "
        f"{(freq.previous or 0):.2f} → {(freq.current or 0):.2f} while CTR fell "
        f"{_fall(ctr)} ({_fmt_ratio_pct(ctr.previous)} → {_fmt_ratio_pct(ctr.current)})."
    )
    causes = ["The same people see the same ads more often and respond less.", "The audience may be too small."]
    actions = [
        "Add new creatives to the ad set (different concepts, not only new copy).",
        "Broaden the audience or exclude recent engagers.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _zero(f: Finding) -> Narrative:
    spend, expected, cpa = f.metric("spend"), f.metric("expected_conversions"), f.metric("baseline_cpa")
    days = f.metric("days_spending")
    assert spend is not None and expected is not None and cpa is not None
    siblings = dict(f.context).get("baseline") == "siblings"
    against = "its siblings' CPA in the same days" if siblings else "the account's matured CPA"
    summary = (
        f"{_cap(_label(f))} spent {_fmt_money(spend.current, f.currency)} on "
        f"{_fmt_num(days.current if days else None)} days of {_period(f)} without a single conversion, "
        f"where {(expected.current or 0):.1f} were expected at {against} ({_fmt_money(cpa.current, f.currency)})."
    )
    causes = [
        "This traffic does not convert: the audience, offer or creative does not fit it.",
        "The conversion event of this entity is missing or misconfigured.",
    ]
    if siblings:
        rate = f.metric("siblings_conversion_rate")
        causes.insert(
            0,
            f"Its siblings convert ({_fmt_ratio_pct(rate.current if rate else None)} of link clicks): the problem is "
            "specific to this one.",
        )
    actions = [
        f"Pause this {_level(f)} or cut its budget, and move the spend to the siblings that convert.",
        "Check its destination URL and optimisation event in Events Manager.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _tracking(f: Finding) -> Narrative:
    got, exp, clicks = f.metric("conversions"), f.metric("expected_conversions"), f.metric("link_clicks_per_day")
    assert got is not None and exp is not None and clicks is not None
    summary = (
        f"Conversions of {_label(f)} collapsed in {_period(f)}: {_fmt_num(got.current)} recorded where "
        f"{_fmt_num(exp.current)} were expected at the matured conversion rate, while link clicks held "
        f"({_fmt_num(clicks.current)} per day vs {_fmt_num(clicks.trailing)})."
    )
    causes = [
        "Tracking broke: the pixel or Conversions API stopped sending the conversion event.",
        "A site release, tag-manager change or renamed event around the start of the window.",
    ]
    actions = [
        "Open Events Manager for the dataset and check the event's recent activity and diagnostics.",
        "Test a conversion end to end on the site; check recent deploys.",
        "Do not judge CPA or ROAS for these days until tracking is fixed.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _pacing(f: Finding) -> Narrative:
    pacing, expected, avg = f.metric("pacing"), f.metric("expected_spend"), f.metric("avg_daily_spend")
    budget = f.metric("daily_budget")
    assert pacing is not None and expected is not None and avg is not None and budget is not None
    ctx = dict(f.context)
    over, history = ctx.get("direction") == "over", ctx.get("budget_history")
    summary = (
        f"{_cap(_label(f))} spent {_fmt_money(avg.current, f.currency)} a day on average in {_period(f)}: "
        f"{_fmt_pct(pacing.current, signed=False)} of the {_fmt_money(expected.current, f.currency)} its daily "
        f"budgets allowed (latest budget {_fmt_money(budget.current, f.currency)})."
    )
    start, end = f.metric("budget_at_start"), f.metric("budget_at_end")
    changed = ctx.get("budget_changes") or 0
    change = (
        f"The budget changed on {ctx.get('last_change_day')} "
        f"({_fmt_money(start.current if start else None, f.currency)} → "
        f"{_fmt_money(end.current if end else None, f.currency)})."
        if changed
        else None
    )
    if history == "none":
        known = "No budget history covers the window: only the latest budget is known, so a change cannot be ruled out."
    elif history == "partial":
        known = "The budget history starts inside the window; earlier days are judged at the oldest known budget."
    else:
        known = None
    if over:
        causes = [c for c in (change, known) if c] or [
            "Spend exceeded the recorded budgets beyond Meta's weekly cap (7 x daily): the spend is governed by "
            "another budget (campaign budget optimisation, a shared budget) or a change between two snapshots."
        ]
        actions = ["Check the budget settings and the change history of this entity in Ads Manager."]
    else:
        causes = [
            "Delivery is constrained: a bid or cost cap, a narrow audience, or ads in review or limited.",
            *([c for c in (change, known) if c]),
        ]
        actions = [
            "Check the delivery status and the bid strategy/caps of this entity.",
            "Broaden targeting or loosen the cap if the extra volume is wanted; otherwise lower the budget.",
        ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _concentration(f: Finding) -> Narrative:
    share = f.metric("spend_share")
    assert share is not None
    summary = (
        f"{_cap(_label(f))} carries {_fmt_pct(share.current, signed=False)} of its account's spend in "
        f"{_period(f)} (week before: {_fmt_pct(share.previous, signed=False)})."
    )
    causes = ["Budget optimisation or manual budgets favour one entity; the account's results hang on it."]
    actions = [
        "Keep a share of budget on tested alternatives so a drop here does not take the account with it.",
        "Watch this entity's CPA and frequency closely.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _breakdown(f: Finding) -> Narrative:
    ratio, share = f.metric("times_worse_than_siblings"), f.metric("spend_share")
    assert ratio is not None and share is not None
    cell = ", ".join(f"{k} {v}" for k, v in (f.entity.breakdown or ()))
    if dict(f.context).get("judged") == "roas":
        roas, sib = f.metric("roas"), f.metric("siblings_roas")
        compared = (
            f"returned {(ratio.current or 0):.1f} times less per unit spent than the rest "
            f"(ROAS {(roas.current or 0) if roas else 0:.2f} vs {(sib.current or 0) if sib else 0:.2f})"
        )
    else:
        cpa, sib = f.metric("cpa"), f.metric("siblings_cpa")
        cell_cpa = _fmt_money(cpa.current, f.currency) if cpa and cpa.current is not None else "no conversions"
        compared = (
            f"cost {(ratio.current or 0):.1f} times as much per conversion as the rest "
            f"({cell_cpa} vs {_fmt_money(sib.current if sib else None, f.currency)})"
        )
    summary = (
        f"In {_label(f)}, the cell {cell} {compared} with {_fmt_pct(share.current, signed=False)} of the spend, "
        f"in the matured window {_period(f)}."
    )
    causes = ["This audience or placement converts worse for this offer and creative."]
    actions = [
        "Exclude the cell, or move it into its own ad set with its own budget and creative.",
        "Check that the creative renders well in this placement or for this audience.",
    ]
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


TEMPLATES: dict[str, Callable[[Finding], Narrative]] = {
    "cpa_increase": _efficiency,
    "roas_decrease": _efficiency,
    "ctr_drop": _ctr_drop,
    "creative_fatigue": _fatigue,
    "zero_conversions": _zero,
    "tracking_breakage": _tracking,
    "budget_pacing": _pacing,
    "concentration": _concentration,
    "breakdown_outlier": _breakdown,
    **STATE_TEMPLATES,
}

# Stored with each offline narrative, so a reader knows which wording wrote it. Bump when a template changes.
TEMPLATE_VERSION = "t2"


class OfflineNarrator:
    """Deterministic: the same finding always reads the same. Sends nothing anywhere."""

    kind = "offline"
    model = OFFLINE_MODEL
    prompt_version = TEMPLATE_VERSION
    uses_cache = False

    def narrative(self, finding: Finding) -> Narrative:
        return TEMPLATES[finding.finding_type](finding)

    def input_hash(self, finding: Finding) -> str:
        return input_hash(build_payload(finding, redact_names=False).to_json(), self.prompt_version, self.model)

    def narrate(
        self, findings: Sequence[Finding], cache: Mapping[str, CachedNarrative] | None = None
    ) -> list[NarrationOutcome]:
        return [
            NarrationOutcome(
                narrative=self.narrative(f),
                provider="offline",
                model=self.model,
                prompt_version=self.prompt_version,
                input_hash=self.input_hash(f),
            )
            for f in findings
        ]
