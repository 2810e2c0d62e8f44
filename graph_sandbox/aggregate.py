"""Roll ad-day metrics up to insights rows (any level, any time bucket) exactly as the sandbox API
reports them.

Additive metrics (spend, impressions, clicks, inline_link_clicks, action counts and values) are plain sums.
Reach is not additive: a parent's reach, or an ad's reach over several days, is deterministic and lies between
the largest and the sum of the parts it combines. With breakdowns, each ad-day is first split into the cells of its
breakdown family (metrics.breakdown_cells) and rows are grouped by the requested dimensions' values as well.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from operator import itemgetter

from graph_sandbox.anomalies import Cell
from graph_sandbox.metrics import AdDayMetrics
from graph_sandbox.model import FAMILY_OF, LEVELS, WINDOWS, Account, ActionValue, Ad, TruthRow
from graph_sandbox.rng import stable_unit

TimeIncrement = int | str  # 1..90, "monthly" or "all_days"
_ZERO = Decimal(0)
CellsOf = Callable[[Ad, date, str], list[tuple[Cell, AdDayMetrics]]]


def breakdown_family(breakdowns: Sequence[str]) -> str | None:
    """The one family the dimensions belong to (None without breakdowns); ValueError when they mix families."""
    families = {FAMILY_OF.get(b) for b in breakdowns}
    if None in families:
        raise ValueError(f"unsupported breakdown among {list(breakdowns)}")
    if len(families) > 1:
        raise ValueError(f"breakdowns {list(breakdowns)} cannot be combined")
    return families.pop() if families else None


def time_buckets(since: date, until: date, time_increment: TimeIncrement) -> list[tuple[date, date]]:
    """Split [since, until] into (date_start, date_stop) buckets the way Meta's time_increment does."""
    if since > until:
        return []
    if time_increment == "all_days":
        return [(since, until)]
    buckets: list[tuple[date, date]] = []
    start = since
    while start <= until:
        if time_increment == "monthly":
            last = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
        else:
            last = start + timedelta(days=int(time_increment) - 1)
        stop = min(last, until)
        buckets.append((start, stop))
        start = stop + timedelta(days=1)
    return buckets


def combine_reach(seed: int, key: tuple[object, ...], parts: list[int]) -> int:
    """Deterministic non-additive union of reaches: max(parts) <= result <= sum(parts)."""
    if not parts:
        return 0
    if len(parts) == 1:
        return parts[0]
    top, total = max(parts), sum(parts)
    overlap = 0.55 + 0.35 * stable_unit(seed, "reach", *key)
    return top + int(overlap * (total - top))


class _Group:
    """The figures of one row. Most rows (daily, at ad level, one cell per ad-day) add a single part: it is kept
    as it is and only copied into running sums when a second part comes."""

    __slots__ = ("first", "spend", "impressions", "clicks", "link_clicks", "actions", "daily_reach")

    def __init__(self, day: date, m: AdDayMetrics) -> None:
        self.first: tuple[date, AdDayMetrics] | None = (day, m)

    def _start_sums(self, day: date, m: AdDayMetrics) -> None:
        self.first = None
        self.spend = _ZERO + m.spend
        self.impressions = m.impressions
        self.clicks = m.clicks
        self.link_clicks = m.inline_link_clicks
        self.actions: dict[tuple[str, str], list[Decimal]] = {key: list(figures) for key, figures in m.actions}
        self.daily_reach: dict[date, list[int]] = {day: [m.reach]}

    def add(self, day: date, m: AdDayMetrics) -> None:
        if self.first is not None:
            self._start_sums(*self.first)
        self.spend += m.spend
        self.impressions += m.impressions
        self.clicks += m.clicks
        self.link_clicks += m.inline_link_clicks
        for key, figures in m.actions:
            acc = self.actions.get(key)
            if acc is None:
                self.actions[key] = list(figures)
            else:
                for i, v in enumerate(figures):
                    acc[i] += v
        self.daily_reach.setdefault(day, []).append(m.reach)


# ActionValues are immutable and few are distinct (small counts, a handful of action types and windows): a breakdown
# report makes millions of them, so equal ones are shared rather than built again (fewer objects for the collector
# to track as well). Keyed by the figure's text, which tells 1 from 1.00 where Decimal equality does not; bounded.
_ACTION_VALUES: dict[tuple[str, str, str, str], ActionValue] = {}
_ACTION_VALUES_MAX = 100_000


def _action_value(metric: str, action_type: str, window: str, value: Decimal) -> ActionValue:
    key = (metric, action_type, window, str(value))
    found = _ACTION_VALUES.get(key)
    if found is None:
        if len(_ACTION_VALUES) >= _ACTION_VALUES_MAX:
            _ACTION_VALUES.clear()
        found = _ACTION_VALUES[key] = ActionValue(metric, action_type, window, value)
    return found


def _level_ids(level: str, ad: Ad) -> tuple[str | None, str | None, str | None]:
    if level == "account":
        return (None, None, None)
    if level == "campaign":
        return (ad.campaign_id, None, None)
    if level == "adset":
        return (ad.campaign_id, ad.adset_id, None)
    return (ad.campaign_id, ad.adset_id, ad.id)


def aggregate(
    *,
    seed: int,
    metrics_of: Callable[[Ad, date], AdDayMetrics | None],
    level: str,
    account: Account,
    ads: Iterable[Ad],
    since: date,
    until: date,
    last_day: date,
    time_increment: TimeIncrement = 1,
    breakdowns: Sequence[str] = (),
    cells_of: CellsOf | None = None,
) -> list[TruthRow]:
    """Insights rows of `ads` at `level` for [since, until]; data only up to `last_day` (account today).

    `breakdowns` (dimensions of one family, e.g. ["age", "gender"]) splits rows by those dimensions' values;
    `cells_of(ad, day, family)` supplies an ad-day's cells."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    family = breakdown_family(breakdowns)
    if family is not None and cells_of is None:
        raise ValueError("breakdowns need cells_of")
    buckets = time_buckets(since, until, time_increment)
    if not buckets:
        return []
    starts = [b[0] for b in buckets]
    data_until = min(until, last_day)
    dims = tuple(breakdowns)
    by_dims = {d: i for i, d in enumerate(dims)}
    # A family cell's values of the requested dimensions, in the requested order (a cell is the same tuple for
    # every ad-day, so it is worked out once).
    projected: dict[Cell, Cell] = {}
    groups: dict[tuple[int, tuple[str | None, str | None, str | None], Cell], _Group] = {}
    bucket_index = 0
    one_day = timedelta(days=1)
    for ad in ads:
        first = max(since, ad.delivery_start)
        last = data_until if ad.delivery_end is None else min(data_until, ad.delivery_end)
        ids = _level_ids(level, ad)
        day = first
        bucket_index = 0
        while day <= last:
            m = metrics_of(ad, day)
            if m is not None:
                while bucket_index + 1 < len(starts) and starts[bucket_index + 1] <= day:
                    bucket_index += 1
                if family is None:
                    parts: list[tuple[Cell, AdDayMetrics]] = [((), m)]
                else:
                    assert cells_of is not None
                    parts = []
                    for cell, cm in cells_of(ad, day, family):
                        key = projected.get(cell)
                        if key is None:
                            key = projected[cell] = tuple(
                                sorted((kv for kv in cell if kv[0] in by_dims), key=lambda kv: by_dims[kv[0]])
                            )
                        parts.append((key, cm))
                for cell, cm in parts:
                    group = groups.get((bucket_index, ids, cell))
                    if group is None:
                        groups[(bucket_index, ids, cell)] = _Group(day, cm)
                    else:
                        group.add(day, cm)
            day += one_day

    rows: list[TruthRow] = []
    for (bi, (campaign_id, adset_id, ad_id), cell), g in groups.items():
        start, stop = buckets[bi]
        if g.first is not None:
            # One part: its reach is the row's (a union of one), its figures are the sums.
            m = g.first[1]
            spend, impressions, clicks, link_clicks = _ZERO + m.spend, m.impressions, m.clicks, m.inline_link_clicks
            reach = m.reach
            figures_by_key = sorted(m.actions, key=itemgetter(0))
        else:
            object_id = {"account": account.id, "campaign": campaign_id, "adset": adset_id, "ad": ad_id}[level]
            cell_key = tuple(f"{k}={v}" for k, v in cell)
            per_day = [
                combine_reach(seed, (level, object_id, *cell_key, d.isoformat()), parts)
                for d, parts in sorted(g.daily_reach.items())
            ]
            reach = combine_reach(seed, (level, object_id, *cell_key, start.isoformat(), stop.isoformat()), per_day)
            spend, impressions, clicks, link_clicks = g.spend, g.impressions, g.clicks, g.link_clicks
            figures_by_key = sorted(g.actions.items())
        actions = [
            _action_value(metric, action_type, window, figure)
            for (metric, action_type), figures in figures_by_key
            for window, figure in zip(WINDOWS, figures, strict=True)
            if figure  # a Decimal is false exactly when it is zero (and cheaper to test than `!= 0`)
        ]
        rows.append(
            TruthRow(
                level=level,
                account_id=account.account_id,
                campaign_id=campaign_id,
                adset_id=adset_id,
                ad_id=ad_id,
                date=start,
                date_stop=stop,
                spend=spend,
                impressions=impressions,
                clicks=clicks,
                inline_link_clicks=link_clicks,
                reach=reach,
                actions=actions,
                breakdown=cell,
            )
        )
    rows.sort(key=lambda r: (r.date, r.date_stop, r.campaign_id or "", r.adset_id or "", r.ad_id or "", r.breakdown))
    return rows
