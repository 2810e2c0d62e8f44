"""Planted anomalies: deterministic deviations in a scenario's daily metrics, one kind per diagnostics detector.

An `Anomaly` names a kind, a target (an account, or a campaign / ad set / ad by its position in the spec), a period
and a magnitude. The scenario resolves it to the ads under the target; `metrics.ad_day_metrics` applies it to each
ad-day inside the period (and `metrics.breakdown_cells` to the cells), so every level, time bucket and breakdown the
sandbox serves, and the ground truth, show the same numbers: ads still add up to ad sets, campaigns and the account,
and breakdown cells to their ad-day.

Kinds (`magnitude` multiplies the figure named; the defaults sit well past the detectors' "high" thresholds):

| kind | effect on each ad-day of the target | default |
|---|---|---|
| `cpa_increase` | conversions per link click (counts and values) x magnitude; spend, clicks hold | 0.4 |
| `roas_decrease` | value per conversion x magnitude; spend and conversion counts hold | 0.4 |
| `ctr_drop` | clicks per impression x magnitude (link clicks, hence conversions, follow) | 0.35 |
| `creative_fatigue` | frequency x magnitude (reach falls against impressions), CTR x `ctr` | 2.2, 0.6 |
| `zero_conversions` | conversions x magnitude (0: none at all); spend and clicks hold | 0.0 |
| `tracking_breakage` | conversions x magnitude (0: none recorded); clicks hold | 0.0 |
| `budget_pacing` | delivery x magnitude (spend, impressions, clicks, reach, conversions); budgets stay | 0.15 |
| `concentration` | delivery x magnitude; the budget holding it grows with it (`paced_budgets`) | 10.0 |
| `breakdown_outlier` | one breakdown cell's conversions x magnitude (moved to the other cells: totals hold) | 0.2 |
| `delivery_stop` | the ad-days give no row at all (a disapproved ad, an ad that stopped delivering) | 0.0 |

A `breakdown_outlier` cell always delivers for the ads under the target (a cell an ad would otherwise skip is
switched on, on every day, so its spend share is stable). Without anomalies nothing here is consulted and every
figure is what it always was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from graph_sandbox.model import FAMILY_OF

Cell = tuple[tuple[str, str], ...]  # (("age", "25-34"), ("gender", "female"))

# kind -> default magnitude
KINDS: dict[str, float] = {
    "cpa_increase": 0.4,
    "roas_decrease": 0.4,
    "ctr_drop": 0.35,
    "creative_fatigue": 2.2,
    "zero_conversions": 0.0,
    "tracking_breakage": 0.0,
    "budget_pacing": 0.15,
    "concentration": 10.0,
    "breakdown_outlier": 0.2,
    "delivery_stop": 0.0,
}
DEFAULT_FATIGUE_CTR = 0.6
# Kinds whose magnitude scales delivery, and which of those move the budget with them.
DELIVERY_KINDS = ("budget_pacing", "concentration", "delivery_stop")
BUDGET_FOLLOWS = ("concentration",)


@dataclass(frozen=True)
class Anomaly:
    """One planted deviation. The target is `account` (its spec number, e.g. 1301) narrowed by positions in the spec:
    `campaign` (index among the account's campaigns), `adset` (index among that campaign's ad sets), `ad` (index
    among that ad set's ads). The period is [start, end] in the account's time zone (None: unbounded)."""

    kind: str
    account: int
    campaign: int | None = None
    adset: int | None = None
    ad: int | None = None
    start: date | None = None
    end: date | None = None
    magnitude: float | None = None  # None: the kind's default (KINDS)
    ctr: float | None = None  # creative_fatigue only: the CTR factor (default DEFAULT_FATIGUE_CTR)
    cell: Cell | Mapping[str, str] = ()  # breakdown_outlier only: e.g. {"device_platform": "desktop"}
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown anomaly kind {self.kind!r}; known: {', '.join(KINDS)}")
        if (self.adset is not None and self.campaign is None) or (self.ad is not None and self.adset is None):
            raise ValueError("an ad set target needs its campaign, an ad target its ad set")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"anomaly starts {self.start} after it ends {self.end}")
        if self.factor < 0 or (self.ctr is not None and self.ctr < 0):
            raise ValueError("anomaly factors must not be negative")
        if self.ctr is not None and self.kind != "creative_fatigue":
            raise ValueError("ctr is a creative_fatigue parameter")
        cell = tuple(sorted(self.cell.items())) if isinstance(self.cell, Mapping) else tuple(self.cell)
        object.__setattr__(self, "cell", cell)
        if (self.kind == "breakdown_outlier") != bool(cell):
            raise ValueError("a breakdown_outlier needs a cell, and only it takes one")
        if cell:
            families = {FAMILY_OF.get(k) for k, _ in cell}
            if None in families or len(families) != 1:
                raise ValueError(f"the cell {dict(cell)} must name dimensions of one breakdown family")

    @property
    def factor(self) -> float:
        return KINDS[self.kind] if self.magnitude is None else float(self.magnitude)

    @property
    def family(self) -> str | None:
        """The breakdown family of a breakdown_outlier's cell."""
        if not self.cell:
            return None
        return FAMILY_OF[self.cell[0][0]]  # type: ignore[index]

    @property
    def level(self) -> str:
        """The level of the target: account, campaign, adset or ad."""
        if self.ad is not None:
            return "ad"
        if self.adset is not None:
            return "adset"
        return "campaign" if self.campaign is not None else "account"

    def active_on(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def matches(self, cell: Cell) -> bool:
        """Whether a breakdown cell is (or lies within) this anomaly's cell: {"age": "18-24"} matches both genders."""
        values = dict(cell)
        return all(values.get(k) == v for k, v in self.cell)  # type: ignore[misc]


@dataclass(frozen=True)
class Effect:
    """Multipliers for one ad-day (the product of the anomalies active on it). Neutral values change nothing."""

    delivery: float = 1.0  # spend; impressions, clicks, reach and conversions follow
    ctr: float = 1.0  # clicks per impression (link clicks and conversions follow)
    frequency: float = 1.0  # impressions per person (reach = impressions / frequency)
    conversions: float = 1.0  # conversions per link click (counts; values follow the counts)
    value: float = 1.0  # value per conversion


NEUTRAL = Effect()


def effect_on(anomalies: Iterable[Anomaly], day: date) -> Effect | None:
    """The combined effect of `anomalies` on `day`, or None when none touches the ad-day's totals (breakdown
    outliers only move conversions between cells)."""
    delivery = ctr = frequency = conversions = value = 1.0
    touched = False
    for a in anomalies:
        if a.kind == "breakdown_outlier" or not a.active_on(day):
            continue
        touched = True
        if a.kind in DELIVERY_KINDS:
            delivery *= a.factor
        elif a.kind == "ctr_drop":
            ctr *= a.factor
        elif a.kind == "creative_fatigue":
            frequency *= a.factor
            ctr *= DEFAULT_FATIGUE_CTR if a.ctr is None else a.ctr
        elif a.kind == "roas_decrease":
            value *= a.factor
        else:  # cpa_increase, zero_conversions, tracking_breakage
            conversions *= a.factor
    if not touched:
        return None
    return Effect(delivery=delivery, ctr=ctr, frequency=frequency, conversions=conversions, value=value)


@dataclass(frozen=True)
class CellPlan:
    """How an ad's cells of one breakdown family are split on one day: cells that always deliver (for every day, so
    the cell profile is stable) and conversion weights of the outlier cells on this day."""

    always_on: tuple[Cell, ...] = ()
    conversion_factors: tuple[tuple[Cell, float], ...] = ()

    def factor(self, cell: Cell) -> float:
        out = 1.0
        values = dict(cell)
        for planted, f in self.conversion_factors:
            if all(values.get(k) == v for k, v in planted):
                out *= f
        return out

    def forced(self, cell: Cell) -> bool:
        values = dict(cell)
        return any(all(values.get(k) == v for k, v in planted) for planted in self.always_on)


def cell_plan(anomalies: Iterable[Anomaly], family: str, day: date) -> CellPlan | None:
    """The breakdown outliers of one family for an ad on `day`, or None when the family is untouched."""
    outliers = [a for a in anomalies if a.kind == "breakdown_outlier" and a.family == family]
    if not outliers:
        return None
    return CellPlan(
        always_on=tuple(a.cell for a in outliers),  # type: ignore[misc]
        conversion_factors=tuple((a.cell, a.factor) for a in outliers if a.active_on(day)),  # type: ignore[misc]
    )


@dataclass(frozen=True)
class PlantedAnomaly:
    """An anomaly resolved against a built scenario: the object it targets and the ads it touches."""

    anomaly: Anomaly
    level: str  # account | campaign | adset | ad
    object_id: str  # "act_<n>" for an account, else the object's id
    account_id: str  # "act_<n>"
    campaign_id: str | None
    adset_id: str | None
    ad_ids: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        return self.anomaly.kind

    @property
    def cell(self) -> dict[str, str]:
        return dict(self.anomaly.cell)  # type: ignore[arg-type]
