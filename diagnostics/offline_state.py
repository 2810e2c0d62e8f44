"""Offline templates of the delivery, state, budget-schedule, measurement and market findings."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.findings import Finding
from diagnostics.narrative import Narrative
from diagnostics.wording import _cap, _confidence, _fmt_money, _fmt_num, _fmt_pct, _label, _period


def _n(summary: str, causes: list[str], actions: list[str], f: Finding) -> Narrative:
    return Narrative(summary=summary, likely_causes=causes, recommended_actions=actions, confidence=_confidence(f))


def _cur(f: Finding, name: str) -> float | None:
    m = f.metric(name)
    return m.current if m else None


def _ad_rejected(f: Finding) -> Narrative:
    status = dict(f.context).get("effective_status")
    share = _cur(f, "share_of_adset_spend_previous")
    spend = f.metric("spend")
    summary = (
        f"{_cap(_label(f))} is {status} as of {f.period.end.isoformat()}; the week before it carried "
        f"{_fmt_pct(share, signed=False)} of its ad set's spend "
        f"({_fmt_money(spend.previous if spend else None, f.currency)})."
    )
    if status == "DISAPPROVED":
        causes = ["The ad was rejected in review: it does not deliver until it is fixed and approved."]
        actions = [
            "Open the ad in Ads Manager, read the rejection reason, edit the ad and resubmit it (or request a review).",
            "Make sure the ad set has another approved ad to carry its delivery meanwhile.",
        ]
    else:
        causes = ["The ad has issues that limit or stop its delivery (e.g. a broken link, a policy or account issue)."]
        actions = ["Open the ad in Ads Manager, read the issue and fix it."]
    return _n(summary, causes, actions, f)


def _ad_stalled(f: Finding) -> Narrative:
    imp = f.metric("impressions")
    share = _cur(f, "share_of_adset_spend_previous")
    summary = (
        f"{_cap(_label(f))} is active but had no impressions in {_period(f)} while its account delivered; the week "
        f"before it had {_fmt_num(imp.previous if imp else None)} impressions "
        f"({_fmt_pct(share, signed=False)} of its ad set's spend)."
    )
    causes = [
        "The ad loses every auction to its siblings (low predicted performance) or its audience is exhausted.",
        "A review after an edit, a scheduling rule or a paused creative asset stops its delivery.",
    ]
    actions = [
        "Check the ad's delivery column in Ads Manager for the reason.",
        "Refresh the creative, or pause the ad and let the ad set deliver through the others.",
    ]
    return _n(summary, causes, actions, f)


def _account(f: Finding) -> Narrative:
    ctx = dict(f.context)
    name = ctx.get("account_status_name") or "not active"
    spend = _cur(f, "spend")
    last = ctx.get("last_spend_day")
    summary = (
        f"{_cap(_label(f))} is {name} (Meta account_status {_fmt_num(_cur(f, 'account_status'))}) as of "
        f"{f.period.end.isoformat()}; it spent {_fmt_money(spend, f.currency)} in the 7 days to then"
        + (f" and last spent on {last}." if last else ".")
    )
    if f.finding_type == "account_unpaid":
        causes = ["A payment failed or a balance is outstanding: Meta stops (or will stop) delivery until it is paid."]
        actions = ["Open Billing & payments for the account, settle the balance and check the payment method."]
    else:
        causes = ["Meta disabled, closed or put the account under review: no ad of the account can deliver."]
        actions = [
            "Open Account Quality for the account, read the reason and request a review if it is a mistake.",
            "Move urgent campaigns to another ad account of the business meanwhile.",
        ]
    return _n(summary, causes, actions, f)


def _spend_cap(f: Finding) -> Narrative:
    days = _cur(f, "days_left")
    summary = (
        f"{_cap(_label(f))} has {_fmt_money(_cur(f, 'remaining'), f.currency)} left under its spend cap of "
        f"{_fmt_money(_cur(f, 'spend_cap'), f.currency)}: "
        + (
            f"{days:.1f} days at the current {_fmt_money(_cur(f, 'avg_daily_spend'), f.currency)} a day."
            if days is not None
            else "no spend to measure it by."
        )
    )
    causes = ["The account spending limit is almost reached: every ad of the account stops when it is."]
    actions = ["Raise or remove the account spending limit in Billing & payments if the spend is wanted."]
    return _n(summary, causes, actions, f)


def _learning(f: Finding) -> Narrative:
    ctx = dict(f.context)
    events = _cur(f, "weekly_optimisation_events")
    needed = _cur(f, "events_needed")
    status = "Learning limited" if ctx.get("learning_status") == "FAIL" else "still learning"
    summary = (
        f"{_cap(_label(f))} is {status} with {_fmt_num(events)} optimisation events a week where about "
        f"{_fmt_num(needed)} are needed to leave the learning phase ({_period(f)})."
    )
    causes = [
        "Too few optimisation events for its budget and audience: delivery stays unstable and costlier.",
        "Frequent significant edits restart learning.",
    ]
    actions = [
        "Consolidate ad sets with the same audience, broaden the audience or raise the budget.",
        "Optimise for a more frequent event (e.g. add to cart instead of purchase) until volume allows.",
        "Avoid significant edits for a week.",
    ]
    return _n(summary, causes, actions, f)


def _lifetime(f: Finding) -> Narrative:
    ctx = dict(f.context)
    share = _cur(f, "projected_share_of_budget")
    summary = (
        f"{_cap(_label(f))} has spent {_fmt_money(_cur(f, 'spent_to_date'), f.currency)} of its lifetime budget "
        f"of {_fmt_money(_cur(f, 'lifetime_budget'), f.currency)} and spends "
        f"{_fmt_money(_cur(f, 'avg_daily_spend'), f.currency)} a day with {_fmt_num(_cur(f, 'days_remaining'))} days "
        f"left to {ctx.get('end_day')}: it will spend about {_fmt_pct(share, signed=False)} of the budget."
    )
    if ctx.get("direction") == "early":
        causes = ["At this rate the budget runs out well before the end date and delivery stops early."]
        actions = ["Extend the budget or shorten the schedule so pacing can spread the spend to the end."]
    else:
        causes = ["Delivery is constrained (bid or cost cap, narrow audience, rejected ads): the budget goes unspent."]
        actions = [
            "Loosen the bid or cost cap or broaden the audience to spend the budget by the end date.",
            "Or lower the lifetime budget and move the rest to a flight that can use it.",
        ]
    return _n(summary, causes, actions, f)


def _value(f: Finding) -> Narrative:
    lost_value = dict(f.context).get("direction") == "value_lost"
    if lost_value:
        aov = f.metric("value_per_conversion")
        summary = (
            f"Conversions of {_label(f)} keep arriving in {_period(f)} ({_fmt_num(_cur(f, 'conversions'))}) but "
            f"their value collapsed: {_fmt_money(aov.current if aov else None, f.currency)} per conversion against "
            f"{_fmt_money(aov.trailing if aov else None, f.currency)} in the matured baseline."
        )
        causes = ["The purchase event lost its value parameter (a site or tag change), or the currency/value is 0."]
    else:
        summary = (
            f"The conversion value of {_label(f)} keeps arriving in {_period(f)} "
            f"({_fmt_money(_cur(f, 'conversion_value'), f.currency)}) but the conversion count collapsed: "
            f"{_fmt_num(_cur(f, 'conversions'))} counted where the value implies "
            f"{_fmt_num(_cur(f, 'conversions_implied_by_value'))}."
        )
        causes = ["The counting event broke or was renamed while the value event still fires."]
    actions = [
        "Test a purchase end to end and inspect the event's parameters in Events Manager (Test events).",
        "Do not judge ROAS or CPA for these days until the event is fixed.",
    ]
    return _n(summary, causes, actions, f)


def _auction(f: Finding) -> Narrative:
    cpm = f.metric("cpm")
    summary = (
        f"Auction costs of {_label(f)} rose {_fmt_pct(_cur(f, 'cpm_change'))} in {_period(f)}: CPM "
        f"{_fmt_money(cpm.current if cpm else None, f.currency)} against "
        f"{_fmt_money(cpm.trailing if cpm else None, f.currency)} on the same weekdays of the weeks before, "
        f"{_fmt_money(_cur(f, 'extra_spend'), f.currency)} more for the same impressions."
    )
    causes = [
        "Competition for the audience rose (seasonal demand, a sale period, a competitor's push).",
        "Delivery moved to costlier placements or a narrower audience.",
    ]
    actions = [
        "Compare CPM by placement and by campaign to find where the rise comes from.",
        "Hold budgets steady or shift them to campaigns whose CPA absorbs the rise; revisit cost caps.",
    ]
    return _n(summary, causes, actions, f)


STATE_TEMPLATES: dict[str, Callable[[Finding], Narrative]] = {
    "ad_disapproved": _ad_rejected,
    "ad_with_issues": _ad_rejected,
    "ad_not_delivering": _ad_stalled,
    "account_disabled": _account,
    "account_unpaid": _account,
    "spend_cap": _spend_cap,
    "learning_limited": _learning,
    "lifetime_budget_pacing": _lifetime,
    "value_tracking_break": _value,
    "auction_cost_spike": _auction,
}
