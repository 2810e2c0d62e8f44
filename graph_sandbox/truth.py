"""Ground truth: each ad-day's figures and breakdown cells of a world (planted anomalies applied), cached, and the
insights rows they add up to at any level, time bucket and breakdown.

The sandbox serves these numbers and tests compare the warehouse with them: both are this one function of
(seed, ad, day, as_of).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import lru_cache

from graph_sandbox import currency
from graph_sandbox.aggregate import TimeIncrement, aggregate
from graph_sandbox.anomalies import NEUTRAL, Cell, Effect, cell_plan, effect_on
from graph_sandbox.budget_cap import BudgetCaps, daily_budget_holders
from graph_sandbox.metrics import AdDayMetrics, ad_day_metrics, base_spend_usd, breakdown_cells, served_spend
from graph_sandbox.model import Account, Ad, TruthRow
from graph_sandbox.world import World


class GroundTruth:
    """The numbers of one world. `metrics(ad_id, day, as_of)` and `cells(ad_id, day, family, as_of)` are cached."""

    def __init__(self, seed: int, world: World, *, random_cell_split: bool = False) -> None:
        self.seed = seed
        self._index = world
        self._random_cell_split = random_cell_split
        self.metrics = lru_cache(maxsize=262_144)(self._metrics_uncached)
        self.cells = lru_cache(maxsize=131_072)(self._cells_uncached)
        # An ad-day's first draw (its USD spend) is wanted twice, by its own `spend` and by its budget holder's week
        # (BudgetCaps): `amount_spent` walks every ad-day of an account's history, one ad after the other, so a
        # cache of a few ad-histories' size halves that walk.
        self._usd = lru_cache(maxsize=32_768)(self._usd_uncached)
        holders, ads_of = daily_budget_holders(
            [c for cs in world.campaigns.values() for c in cs],
            [s for ss in world.adsets.values() for s in ss],
            [a for aa in world.ads.values() for a in aa],
        )
        self.caps = BudgetCaps(holders, ads_of, self._raw_spend)

    def _planted_effect(self, ad_id: str, day: date) -> Effect | None:
        planted = self._index.anomalies_of.get(ad_id)
        return effect_on(planted, day) if planted else None

    def _usd_uncached(self, ad_id: str, day: date) -> float | None:
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        return base_spend_usd(self.seed, ad, day)

    def _raw_spend(self, ad: Ad, day: date) -> float | None:
        """The ad-day's spend in the account currency with planted effects, before its budget's cap."""
        usd = self._usd(ad.id, day)
        if usd is None:
            return None
        effect = self._planted_effect(ad.id, day)
        return usd * (effect.delivery if effect else 1.0) * float(currency.usd_rate(ad.profile.currency))

    def effect(self, ad_id: str, day: date) -> Effect | None:
        """Planted effects and the budget cap of one ad-day (None: neither touches it)."""
        effect = self._planted_effect(ad_id, day)
        factor = self.caps.factor(ad_id, day)
        if factor < 1.0:
            base = effect or NEUTRAL
            effect = replace(base, delivery=base.delivery * factor)
        return effect

    def spend(self, ad_id: str, day: date) -> Decimal:
        """The spend the ad-day reports (0 without a row), from its first draws only: what `amount_spent` adds up."""
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        usd = self._usd(ad_id, day)
        effect = self.effect(ad_id, day)
        if usd is None or (effect is not None and effect.delivery == 0):
            return Decimal(0)
        return served_spend(usd * effect.delivery if effect is not None else usd, ad.profile.currency)

    def _metrics_uncached(self, ad_id: str, day: date, as_of: date | None) -> AdDayMetrics | None:
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        effect = self.effect(ad_id, day)
        if effect is None:
            return ad_day_metrics(self.seed, ad, day, as_of)
        if effect.delivery == 0:  # a planted stop: no row at all
            return None
        return ad_day_metrics(self.seed, ad, day, as_of, effect)

    def _cells_uncached(
        self, ad_id: str, day: date, family: str, as_of: date | None
    ) -> list[tuple[Cell, AdDayMetrics]]:
        m = self.metrics(ad_id, day, as_of)
        if m is None:
            return []
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        planted = self._index.anomalies_of.get(ad_id)
        if planted or self._random_cell_split:
            plan = cell_plan(planted, family, day) if planted else None
            return breakdown_cells(self.seed, ad, day, m, family, plan, random_split=self._random_cell_split)
        return breakdown_cells(self.seed, ad, day, m, family)

    def rows(
        self,
        level: str,
        account: Account,
        ads: Sequence[Ad],
        since: date,
        until: date,
        *,
        last_day: date,
        as_of: date | None,
        time_increment: TimeIncrement,
        breakdowns: tuple[str, ...],
    ) -> list[TruthRow]:
        """The insights rows of `ads` (all of `account`) at `level` for [since, until], none after `last_day`, with
        the numbers as of `as_of` (None: fully matured)."""
        return aggregate(
            seed=self.seed,
            metrics_of=lambda ad, day: self.metrics(ad.id, day, as_of),
            level=level,
            account=account,
            ads=ads,
            since=since,
            until=until,
            last_day=last_day,
            time_increment=time_increment,
            breakdowns=breakdowns,
            cells_of=lambda ad, day, family: self.cells(ad.id, day, family, as_of),
        )
