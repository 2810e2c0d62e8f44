"""The sandbox's object state as Meta serves it: daily budgets held to Meta's day and calendar-week limits, the
account's money fields as minor-unit strings, and ad sets' learning_stage_info (expectations from meta_facts)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from graph_sandbox import Scenario
from graph_sandbox.currency import usd_rate
from graph_sandbox.metrics import base_spend_usd
from tests.graph_sandbox.meta_facts import (
    DAILY_BUDGET_DAY_MAX,
    DAILY_BUDGET_WEEK_MAX,
    LEARNING_STATUSES,
    NO_SPEND_CAP,
    OFFSET_1_CURRENCIES,
    every_status,
)

GLOBEX = "sandbox-token-globex"


def _offset(currency: str) -> int:
    return 1 if currency in OFFSET_1_CURRENCIES else 100


def _sunday(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)  # Python's Monday is 0


def _holder(demo: Scenario, ad) -> tuple[str, Decimal] | None:
    """The object whose daily budget governs the ad (campaign budget first), with the budget in major units."""
    for obj in (demo.campaign(ad.campaign_id), demo.adset(ad.adset_id)):
        if obj.daily_budget:
            return obj.id, Decimal(obj.daily_budget) / _offset(ad.profile.currency)
    return None


def test_no_daily_budget_spends_past_metas_day_and_calendar_week_limits(demo: Scenario) -> None:
    worst_day = worst_week = Decimal(0)
    drawn_over = 0  # holder-days whose ads' own draws exceed the day limit: the cap has something to do
    for account in demo.accounts():
        today = demo.today(account.id)
        since = today - timedelta(days=120)
        budgets: dict[str, Decimal] = {}
        daily: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        drawn: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        rate = usd_rate(account.currency)  # the sandbox's draws are in USD
        for ad in demo.ads(account.id):
            held = _holder(demo, ad)
            if held is None:
                continue
            budgets[held[0]] = held[1]
            for i in range((today - since).days + 1):
                day = since + timedelta(days=i)
                m = demo.ad_day(ad, day)
                if m is not None:
                    daily[(held[0], day)] += m.spend
                usd = base_spend_usd(demo.seed, ad, day)
                if usd is not None:
                    drawn[(held[0], day)] += Decimal(str(usd)) * rate
        weekly: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        for (holder, day), spend in daily.items():
            worst_day = max(worst_day, spend / budgets[holder])
            if since <= _sunday(day) and _sunday(day) + timedelta(days=6) <= today:  # whole weeks only
                weekly[(holder, _sunday(day))] += spend
        for (holder, _), spend in weekly.items():
            worst_week = max(worst_week, spend / budgets[holder])
        drawn_over += sum(1 for (holder, _), v in drawn.items() if v > Decimal(DAILY_BUDGET_DAY_MAX) * budgets[holder])
    assert drawn_over > 10
    assert worst_day <= Decimal(str(DAILY_BUDGET_DAY_MAX))
    assert worst_week <= DAILY_BUDGET_WEEK_MAX
    assert worst_week > DAILY_BUDGET_WEEK_MAX * Decimal("0.9")  # capped weeks spend close to the limit, not far under


def test_account_money_fields_are_minor_unit_strings_adding_up_the_insights(graph, demo: Scenario) -> None:
    for token, account_id in (("sandbox-token-acme", "act_1001"), (GLOBEX, "act_2001")):
        body = graph("GET", f"{account_id}/", token=token, fields="currency,spend_cap,amount_spent,disable_reason").body
        assert body["spend_cap"] == NO_SPEND_CAP
        assert isinstance(body["amount_spent"], str) and body["amount_spent"].isdigit()
        assert body["disable_reason"] == 0
        account = demo.account(account_id)
        rows = demo.truth_daily("account", account_id, account.created_time.date(), demo.today(account_id))
        lifetime = sum((r.spend for r in rows), Decimal(0))
        assert int(body["amount_spent"]) == lifetime * _offset(body["currency"])


def test_learning_stage_info_on_delivering_ad_sets_only(graph, demo: Scenario) -> None:
    body = graph(
        "GET",
        "act_1001/adsets",
        fields="effective_status,learning_stage_info",
        filtering=every_status("adset"),
        limit=100,
    ).body
    seen = 0
    for adset in body["data"]:
        info = adset.get("learning_stage_info")
        if adset["effective_status"] != "ACTIVE":
            assert info is None, adset
            continue
        seen += 1
        assert info["status"] in LEARNING_STATUSES
        assert isinstance(info["conversions"], int) and isinstance(info["last_sig_edit_ts"], int)
    assert seen >= 3 and seen < len(body["data"])
