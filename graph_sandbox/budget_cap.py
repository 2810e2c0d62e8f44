"""Meta's rule for daily budgets, applied to the spend the sandbox generates.

Meta (Business Help Center, "About daily budgets"; docs/meta-conformance.md): on some days a daily budget may spend
up to 75% more than the budget, but over a calendar week (Sunday to Saturday) no more than 7 times the daily budget.
Ads draw their spend independently (`metrics.py`), so an ad set whose ads draw more than its budget would show days
at 400% of it; here each budget holder (a campaign with a daily budget, else an ad set with one) scales its ads'
delivery so that every day stays within 1.75x and every calendar week within 7x its daily budget.

The factor of a holder's day depends on the whole calendar week's draws (a deterministic function of seed, ad and
day), so a day's numbers do not change from one `as_of` to the next. Spend, impressions, clicks, reach and
conversions follow the factor (it is a delivery effect, `anomalies.Effect.delivery`). Lifetime budgets are not
capped here. A week in which the holder starts delivering is not prorated (Meta prorates it; noted as a sandbox
simplification).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from graph_sandbox import currency
from graph_sandbox.model import Ad

DAY_CAP = 1.75  # a day may spend up to 75% over the daily budget
WEEK_CAP = 7.0  # a calendar week at most 7x the daily budget
# Capped days aim slightly below the limit, so rounding each ad-day's spend to the currency's unit cannot cross it.
_MARGIN = 0.995


def week_start(day: date) -> date:
    """The Sunday that starts `day`'s calendar week (Meta's weeks run Sunday to Saturday)."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


class BudgetCaps:
    """Delivery factors (0 < f <= 1) per ad-day from its budget holder's daily budget.

    `holders`: ad id -> (holder id, daily budget in major units of the account currency) for every ad under a daily
    budget; `ads_of`: holder id -> its ads; `raw_spend(ad, day)`: the ad-day's spend in the account currency before
    the cap (planted effects included), None when it does not deliver."""

    def __init__(
        self,
        holders: dict[str, tuple[str, Decimal]],
        ads_of: dict[str, list[Ad]],
        raw_spend: Callable[[Ad, date], float | None],
    ) -> None:
        self._holders = holders
        self._ads_of = ads_of
        self._budgets = {holder_id: budget for holder_id, budget in holders.values()}
        self._raw = raw_spend
        self._week = lru_cache(maxsize=65_536)(self._week_uncached)

    def holder(self, ad_id: str) -> tuple[str, Decimal] | None:
        return self._holders.get(ad_id)

    def factor(self, ad_id: str, day: date) -> float:
        held = self._holders.get(ad_id)
        if held is None:
            return 1.0
        return self._week(held[0], week_start(day)).get(day, 1.0)

    def _week_uncached(self, holder_id: str, start: date) -> dict[date, float]:
        budget = float(self._budgets[holder_id])
        days = [start + timedelta(days=i) for i in range(7)]
        raw = {d: sum(s for ad in self._ads_of[holder_id] if (s := self._raw(ad, d)) is not None) for d in days}
        capped = {d: min(r, DAY_CAP * budget * _MARGIN) for d, r in raw.items()}
        week = sum(capped.values())
        scale = min(1.0, WEEK_CAP * budget * _MARGIN / week) if week > 0 else 1.0
        return {d: capped[d] * scale / raw[d] for d in days if raw[d] > 0 and capped[d] * scale < raw[d]}


def daily_budget_holders(campaigns, adsets, ads) -> tuple[dict[str, tuple[str, Decimal]], dict[str, list[Ad]]]:
    """(ad -> (holder, daily budget major), holder -> ads) for ads whose campaign or ad set has a daily budget."""
    by_id = {c.id: c for c in campaigns} | {s.id: s for s in adsets}
    holders: dict[str, tuple[str, Decimal]] = {}
    ads_of: dict[str, list[Ad]] = {}
    for ad in ads:
        for holder_id in (ad.campaign_id, ad.adset_id):
            holder = by_id.get(holder_id)
            if holder is not None and holder.daily_budget:
                cur = ad.profile.currency
                budget = Decimal(holder.daily_budget) / currency.offset(cur)
                holders[ad.id] = (holder.id, budget)
                ads_of.setdefault(holder.id, []).append(ad)
                break
    return holders, ads_of
