"""Ground truth: each ad-day's figures and breakdown cells of a world (planted anomalies applied), cached, and the
insights rows they add up to at any level, time bucket and breakdown.

The sandbox serves these numbers and tests compare the warehouse with them: both are this one function of
(seed, ad, day, as_of).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from graph_sandbox.aggregate import TimeIncrement, aggregate
from graph_sandbox.anomalies import Cell, cell_plan, effect_on
from graph_sandbox.metrics import AdDayMetrics, ad_day_metrics, breakdown_cells
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

    def _metrics_uncached(self, ad_id: str, day: date, as_of: date | None) -> AdDayMetrics | None:
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        planted = self._index.anomalies_of.get(ad_id)
        if planted:
            return ad_day_metrics(self.seed, ad, day, as_of, effect_on(planted, day))
        return ad_day_metrics(self.seed, ad, day, as_of)

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
