"""Object fields that depend on what was spent and delivered: an account's `amount_spent` and `spend_cap`, an ad
set's `learning_stage_info`. Served as Meta serves them (docs/meta-conformance.md): money as strings in minor units
of the account currency, `spend_cap` "0" when the account has none; `learning_stage_info` an object
{status, conversions, last_sig_edit_ts (unix seconds), attribution_windows} on delivering ad sets only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from graph_sandbox import currency
from graph_sandbox.metrics import CONVERSION_TYPES
from graph_sandbox.model import AdSet

if TYPE_CHECKING:
    from graph_sandbox.scenario import Scenario

# The optimisation event an ad set's learning counts, by optimisation goal (action types of the sandbox's rows).
_EVENTS = {"LINK_CLICKS": ("link_click",), "LANDING_PAGE_VIEWS": ("landing_page_view",)}
_ATTRIBUTION = ["7d_click", "1d_view"]


def amount_spent(scenario: Scenario, account_id: str) -> Decimal:
    """Everything the account's ads spent up to its today (major units): the sum of the insights spend of every
    day. The sandbox never resets it (an account without a cap reports its lifetime spend)."""
    account = scenario.account(account_id)
    today = scenario.today(account.id)
    key = (account.id, today)
    cache = scenario.amount_spent_cache
    if key not in cache:
        total = Decimal(0)
        for ad in scenario.ads(account.id):
            last = min(today, ad.delivery_end or today)
            day = ad.delivery_start
            while day <= last:
                total += scenario.ad_day_spend(ad.id, day)
                day += timedelta(days=1)
        cache[key] = total
    return cache[key]


def recent_daily_spend(scenario: Scenario, account_id: str) -> Decimal:
    """The account's mean daily spend over the 7 days before its today."""
    today = scenario.today(account_id)
    days = [today - timedelta(days=i) for i in range(1, 8)]
    return sum((scenario.ad_day_spend(ad.id, d) for ad in scenario.ads(account_id) for d in days), Decimal(0)) / 7


def spend_cap_minor(scenario: Scenario, account_id: str) -> int:
    """The planted cap: what was spent plus `spend_cap_days_left` days at the recent daily spend; 0 (no cap) else."""
    account = scenario.account(account_id)
    if account.spend_cap_days_left is None:
        return 0
    cap = amount_spent(scenario, account.id) + Decimal(str(account.spend_cap_days_left)) * recent_daily_spend(
        scenario, account.id
    )
    return currency.to_minor(cap, account.currency)


def amount_spent_minor(scenario: Scenario, account_id: str) -> int:
    account = scenario.account(account_id)
    return currency.to_minor(amount_spent(scenario, account.id), account.currency)


def _events(scenario: Scenario, adset: AdSet, today: date) -> int:
    wanted = _EVENTS.get(adset.optimization_goal, CONVERSION_TYPES)
    total = 0
    for ad in scenario.ads(f"act_{adset.account_id}"):
        if ad.adset_id != adset.id:
            continue
        for i in range(1, 8):
            m = scenario.ad_day(ad, today - timedelta(days=i))
            if m is not None:
                total += sum(int(w[0]) for (metric, t), w in m.actions if metric == "actions" and t in wanted)
    return total


def learning_stage_info(adset: AdSet, scenario: Scenario) -> dict[str, Any] | None:
    """What Meta sends for an ad set's learning phase; None (field omitted) when the ad set does not deliver."""
    if adset.effective_status != "ACTIVE":
        return None
    account_id = f"act_{adset.account_id}"
    today = scenario.today(account_id)
    if adset.learning is not None:
        status, conversions, edit_days = adset.learning
        tz = ZoneInfo(scenario.account(account_id).timezone_name)
        edited = datetime.combine(today - timedelta(days=edit_days), time(10, 0), tz)
    else:
        status, conversions, edited = "SUCCESS", _events(scenario, adset, today), adset.updated_time
    return {
        "attribution_windows": list(_ATTRIBUTION),
        "conversions": conversions,
        "last_sig_edit_ts": int(edited.timestamp()),
        "status": status,
    }
