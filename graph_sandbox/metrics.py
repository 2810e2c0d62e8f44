"""Daily metrics of one ad: a pure function of (seed, ad, day[, as_of]), and its breakdown cells.

All figures of an ad-day come from one generator call. Breakdown cells (age x gender, country, placement, device)
are apportioned from those totals with a largest-remainder split in integer units (counts, minor currency units), so
every additive metric of the cells sums exactly to the ad-day total. `as_of` makes recent days restate: conversions
of the 28 days before `as_of` are only partly visible yet (they arrive over the attribution windows), the way
Meta's numbers for recent days grow from night to night; a day's numbers change up to `as_of` = day + 28.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from graph_sandbox import currency
from graph_sandbox.anomalies import Cell, CellPlan, Effect
from graph_sandbox.model import Ad
from graph_sandbox.rng import binomial, poisson, stable_rng

# Spend is lighter at weekends (Mon..Sun).
_WEEKDAY_FACTOR = (1.05, 1.08, 1.06, 1.02, 0.97, 0.9, 0.92)

PIXEL_PURCHASE = "offsite_conversion.fb_pixel_purchase"
ONSITE_PURCHASE = "onsite_conversion.purchase"
PIXEL_LEAD = "offsite_conversion.fb_pixel_lead"
ONSITE_LEAD = "onsite_conversion.lead_grouped"

# Action types the sandbox emits. "purchase"/"omni_purchase"/"lead" overlap their components, as in Meta.
ACTION_TYPES: tuple[str, ...] = (
    "landing_page_view",
    "lead",
    "link_click",
    PIXEL_LEAD,
    PIXEL_PURCHASE,
    "omni_purchase",
    ONSITE_LEAD,
    ONSITE_PURCHASE,
    "purchase",
)
VALUE_ACTION_TYPES: tuple[str, ...] = ("omni_purchase", PIXEL_PURCHASE, ONSITE_PURCHASE, "purchase")
# The `conversions` / `conversion_values` insights fields: the website (pixel) conversion events.
CONVERSION_TYPES: tuple[str, ...] = (PIXEL_LEAD, PIXEL_PURCHASE)
# Totals derived from their components (in a breakdown cell as well as in a day).
_DERIVED = {"purchase": (PIXEL_PURCHASE, ONSITE_PURCHASE), "omni_purchase": (PIXEL_PURCHASE, ONSITE_PURCHASE),
            "lead": (PIXEL_LEAD, ONSITE_LEAD)}  # fmt: skip
_COMPONENTS = (PIXEL_PURCHASE, ONSITE_PURCHASE, PIXEL_LEAD, ONSITE_LEAD)

# Conversions of an ad-day D become visible over the following days: 1d-click and view-through ones on the day, the
# 7d-click-only ones within days 1..6, the 28d-click-only ones within days 7..28 (inclusive day offsets), the last of
# those on day 28 itself. Meta: insights "do not change after 28 days of being reported" (insights best practices),
# so D's numbers change up to as_of = D + 28 and never after; an ad-day with a 28d-click-only conversion always
# changes on that last day, so a window one day short of it is caught.
RESTATEMENT_DAYS = 28
MATURITY_DAYS = RESTATEMENT_DAYS + 1  # ages (as_of - D) below this may still grow
_ARRIVAL = ((0, 0), (1, 6), (7, RESTATEMENT_DAYS), (0, 0))  # per increment: (first, last) arrival offset in days

Windowed = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]  # figures in WINDOWS order
Increments = tuple[int, int, int, int]  # (1d_click, 7d-only, 28d-only, 1d_view)
_ZERO5: Windowed = (Decimal(0),) * 5  # type: ignore[assignment]

# ---- breakdown families -------------------------------------------------------------------------------------
AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "unknown")
PLACEMENTS = (
    ("facebook", "feed"),
    ("facebook", "facebook_reels"),
    ("facebook", "facebook_stories"),
    ("facebook", "marketplace"),
    ("facebook", "video_feeds"),
    ("facebook", "right_hand_column"),
    ("instagram", "feed"),
    ("instagram", "instagram_stories"),
    ("instagram", "instagram_reels"),
    ("instagram", "instagram_explore"),
    ("audience_network", "an_classic"),
    ("messenger", "messenger_inbox"),
)
DEVICES = ("mobile_app", "mobile_web", "desktop")
_HOME_COUNTRY = {"USD": "US", "EUR": "DE", "JPY": "JP", "GBP": "GB", "CAD": "CA", "AUD": "AU", "KRW": "KR",
                 "BRL": "BR"}  # fmt: skip
_OTHER_COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "AT", "IE", "JP", "AU", "MX", "BR", "SE")


@dataclass(frozen=True)
class AdDayMetrics:
    """One ad's figures for one day (or one breakdown cell of it), in the account's currency (major units)."""

    spend: Decimal
    impressions: int
    clicks: int
    inline_link_clicks: int
    reach: int
    # ((metric, action_type), figures in WINDOWS order), sorted; only entries with a non-zero figure.
    actions: tuple[tuple[tuple[str, str], Windowed], ...]


def _windows(d1: Decimal, d7: Decimal, d28: Decimal, view: Decimal) -> Windowed:
    """Figures from increments: 1d_click <= 7d_click <= 28d_click, value = 7d_click + 1d_view."""
    c1 = d1
    c7 = d1 + d7
    c28 = c7 + d28
    return (c7 + view, c1, c7, c28, view)


def _increments(w: Windowed) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The inverse of `_windows`."""
    _, c1, c7, c28, view = w
    return (c1, c7 - c1, c28 - c7, view)


def _click_only(n: int) -> Windowed:
    v = Decimal(n)
    return (v, v, v, v, Decimal(0))


def _add(a: Windowed, b: Windowed) -> Windowed:
    return tuple(x + y for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _visible(counts: Increments, rng, age: int) -> Increments:
    """How many of each increment's conversions have arrived `age` days after the ad-day (deterministic). The last
    28d-click-only conversion arrives on the last day Meta restates (RESTATEMENT_DAYS)."""
    out = []
    for i, (n, (first, last)) in enumerate(zip(counts, _ARRIVAL, strict=True)):
        if age >= last:
            out.append(n)
            continue
        drawn = n - 1 if i == 2 and n else n
        out.append(sum(1 for _ in range(drawn) if rng.randint(first, last) <= age))
    return tuple(out)  # type: ignore[return-value]


def _spend_draw(rng, ad: Ad, day: date) -> float | None:
    """The first draws of an ad-day: whether it delivers, and its spend in USD before any planted effect."""
    if day < ad.delivery_start or (ad.delivery_end is not None and day > ad.delivery_end):
        return None
    p = ad.profile
    if rng.random() < p.zero_day_prob:
        return None
    spend_usd = p.base_spend_usd * _WEEKDAY_FACTOR[day.weekday()] * rng.lognormvariate(0.0, 0.3)
    return min(300.0, max(1.0, spend_usd))


def base_spend_usd(seed: int, ad: Ad, day: date) -> float | None:
    """The ad-day's spend in USD before planted effects and budget caps (None: no delivery), without drawing the
    rest of the day: what budget caps are computed from (the same draws `ad_day_metrics` starts with)."""
    return _spend_draw(stable_rng(seed, "ad-day", ad.id, day.isoformat()), ad, day)


def served_spend(spend_usd: float, cur: str) -> Decimal:
    """The spend figure an ad-day reports, in the account currency, from its (effect-adjusted) USD spend."""
    spend = currency.quantize(Decimal(f"{spend_usd:.6f}") * currency.usd_rate(cur), cur)
    return max(spend, currency.quantum(cur))


def ad_day_metrics(
    seed: int, ad: Ad, day: date, as_of: date | None = None, effect: Effect | None = None
) -> AdDayMetrics | None:
    """The ad's metrics on `day` (account-timezone date), or None when it did not deliver (no row).

    Deterministic in (seed, ad.id, day, as_of, effect). `as_of` None: every conversion has arrived (fully matured).
    `effect`: the planted anomalies' multipliers for this ad-day (anomalies.effect_on); None changes nothing.
    """
    if as_of is not None and day > as_of:
        return None
    p = ad.profile
    rng = stable_rng(seed, "ad-day", ad.id, day.isoformat())
    spend_usd = _spend_draw(rng, ad, day)
    if spend_usd is None:
        return None
    cur = p.currency
    rate = currency.usd_rate(cur)
    if effect is not None:
        # Planted anomalies move the ad-day's rates; the draws below happen in the same order either way.
        spend_usd *= effect.delivery
        ctr, frequency = p.ctr * effect.ctr, p.frequency * effect.frequency
        conversion_factor, value_factor = effect.conversions, effect.value
    else:
        ctr, frequency, conversion_factor, value_factor = p.ctr, p.frequency, 1.0, 1.0
    spend = served_spend(spend_usd, cur)

    impressions = max(1, round(spend_usd / (p.cpm_usd * rng.lognormvariate(0.0, 0.12)) * 1000))
    clicks = min(impressions, round(impressions * ctr * rng.lognormvariate(0.0, 0.25)))
    link_clicks = min(clicks, round(clicks * p.link_share * rng.uniform(0.9, 1.1)))
    reach = max(1, min(impressions, round(impressions / (frequency * rng.uniform(0.95, 1.05)))))
    lpv = min(link_clicks, round(link_clicks * p.lpv_rate * rng.uniform(0.85, 1.1)))

    entries: dict[tuple[str, str], Windowed] = {}
    if link_clicks:
        entries[("actions", "link_click")] = _click_only(link_clicks)
    if lpv:
        entries[("actions", "landing_page_view")] = _click_only(lpv)

    aov = p.aov_usd * float(rate)
    if effect is not None:
        aov *= value_factor
        purchases = _conversions(rng, link_clicks * p.purchase_rate * conversion_factor, p.onsite_share)
        leads = _conversions(rng, link_clicks * p.lead_rate * conversion_factor, p.onsite_share)
    else:
        purchases = _conversions(rng, link_clicks * p.purchase_rate, p.onsite_share)
        leads = _conversions(rng, link_clicks * p.lead_rate, p.onsite_share)

    def money(count: int) -> Decimal:
        if not count:
            return Decimal(0)
        amount = sum(aov * rng.lognormvariate(0.0, 0.25) for _ in range(min(count, 25)))
        amount *= count / min(count, 25)
        return currency.quantize(Decimal(f"{amount:.6f}"), cur)

    # The draws above and the money draws below happen in the same order whatever `as_of` is, so a fully matured
    # day is the same with or without it; maturity thins the finished figures with a generator of its own.
    age = None if as_of is None else (as_of - day).days
    mature = stable_rng(seed, "maturity", ad.id, day.isoformat())
    for family, pixel_type, onsite_type, totals in (
        ("purchase", PIXEL_PURCHASE, ONSITE_PURCHASE, ("purchase", "omni_purchase")),
        ("lead", PIXEL_LEAD, ONSITE_LEAD, ("lead",)),
    ):
        pixel, onsite = purchases if family == "purchase" else leads
        pixel_money = [money(n) for n in pixel] if family == "purchase" else None
        onsite_money = [money(n) for n in onsite] if family == "purchase" else None
        if age is not None and age < MATURITY_DAYS:
            seen_pixel, seen_onsite = _visible(pixel, mature, age), _visible(onsite, mature, age)
            if pixel_money is not None and onsite_money is not None:
                pixel_money = [_scaled(v, k, n, cur) for v, k, n in zip(pixel_money, seen_pixel, pixel, strict=True)]
                onsite_money = [
                    _scaled(v, k, n, cur) for v, k, n in zip(onsite_money, seen_onsite, onsite, strict=True)
                ]
            pixel, onsite = seen_pixel, seen_onsite
        pixel_counts = _windows(*(Decimal(n) for n in pixel))
        onsite_counts = _windows(*(Decimal(n) for n in onsite))
        both = _add(pixel_counts, onsite_counts)
        for action_type, counts in ((pixel_type, pixel_counts), (onsite_type, onsite_counts)):
            if any(counts):
                entries[("actions", action_type)] = counts
        for action_type in totals:
            if any(both):
                entries[("actions", action_type)] = both
        if pixel_money is not None and onsite_money is not None:
            pixel_values = _windows(*pixel_money)
            onsite_values = _windows(*onsite_money)
            both_values = _add(pixel_values, onsite_values)
            for action_type, values in (
                (PIXEL_PURCHASE, pixel_values),
                (ONSITE_PURCHASE, onsite_values),
                ("purchase", both_values),
                ("omni_purchase", both_values),
            ):
                if any(values):
                    entries[("action_values", action_type)] = values

    return AdDayMetrics(
        spend=spend,
        impressions=impressions,
        clicks=clicks,
        inline_link_clicks=link_clicks,
        reach=reach,
        actions=tuple(sorted(entries.items())),
    )


def _scaled(value: Decimal, seen: int, total: int, cur: str) -> Decimal:
    if seen >= total:
        return value
    if not seen:
        return Decimal(0)
    return currency.quantize(value * seen / total, cur)


def _conversions(rng, lam28: float, onsite_share: float) -> tuple[Increments, Increments]:
    """Increments (1d_click, 7d-only, 28d-only, 1d_view) split into (pixel, onsite) counts."""
    if lam28 <= 0:
        return (0, 0, 0, 0), (0, 0, 0, 0)
    c28 = poisson(rng, lam28 * rng.lognormvariate(0.0, 0.2))
    c7 = binomial(rng, c28, 0.85)
    c1 = binomial(rng, c7, 0.7)
    view = poisson(rng, lam28 * 0.18)
    increments = (c1, c7 - c1, c28 - c7, view)
    onsite = tuple(binomial(rng, n, onsite_share) for n in increments)
    pixel = tuple(n - o for n, o in zip(increments, onsite, strict=True))
    return pixel, onsite  # type: ignore[return-value]


# ---- breakdown cells ----------------------------------------------------------------------------------------


def apportion(total: int, weights: list[int], caps: list[int] | None = None) -> list[int]:
    """Split the integer `total` over cells in proportion to integer `weights` (largest remainder), so the parts
    sum to `total` exactly. `caps` bounds each part (e.g. clicks by impressions); cells of weight 0 get nothing
    unless the caps leave no other room."""
    n = len(weights)
    if total <= 0 or n == 0:
        return [0] * n
    w = list(weights)
    if sum(w) <= 0:
        w = [1] * n if caps is None else list(caps)
    wsum = sum(w)
    parts = [total * x // wsum for x in w]
    remainders = [total * x % wsum for x in w]
    if caps is not None:
        if sum(caps) < total:
            raise ValueError(f"cannot fit {total} into caps summing to {sum(caps)}")
        parts = [min(p, c) for p, c in zip(parts, caps, strict=True)]
    left = total - sum(parts)
    while left > 0:
        room = [i for i in range(n) if caps is None or parts[i] < caps[i]]
        preferred = [i for i in room if w[i] > 0] or room
        preferred.sort(key=lambda i: (-remainders[i], -w[i], i))
        for i in preferred[:left]:
            parts[i] += 1
        left = total - sum(parts)
    return parts


def _multinomial(rng, total: int, weights: list[int]) -> list[int]:
    """`total` units dropped one by one into cells with probability proportional to `weights` (sums to `total`)."""
    parts = [0] * len(weights)
    if total <= 0 or not any(weights):
        return apportion(total, weights)
    for i in rng.choices(range(len(weights)), weights=weights, k=total):
        parts[i] += 1
    return parts


def _or(weights: list[int], fallback: list[int]) -> list[int]:
    """`weights`, or `fallback` when they are all zero (never spread a figure over cells without delivery)."""
    return weights if any(weights) else fallback


def family_cells(seed: int, ad: Ad, family: str) -> list[Cell]:
    """Every cell an ad can deliver in, for one breakdown family (fixed per ad)."""
    return list(_family_cells(seed, family, ad.account_id, ad.profile.currency))


# The cells and each cell's lasting weight depend on the ad (its account) and the family only, not on the day: worked
# out once instead of for each of the ad's days (a breakdown report asks for every ad-day of its family).
@lru_cache(maxsize=4096)
def _family_cells(seed: int, family: str, account_id: str, currency_code: str) -> tuple[Cell, ...]:
    if family == "age_gender":
        return tuple((("age", a), ("gender", g)) for a in AGES for g in GENDERS)
    if family == "country":
        home = _HOME_COUNTRY.get(currency_code, "US")
        rng = stable_rng(seed, "countries", account_id)
        others = [c for c in _OTHER_COUNTRIES if c != home]
        chosen = [home, *rng.sample(others, rng.randint(2, 4))]
        return tuple((("country", c),) for c in sorted(chosen))
    if family == "placement":
        return tuple((("publisher_platform", p), ("platform_position", pos)) for p, pos in PLACEMENTS)
    if family == "device":
        return tuple((("device_platform", d),) for d in DEVICES)
    raise ValueError(f"unknown breakdown family {family!r}")


@lru_cache(maxsize=65_536)
def _cell_profile(seed: int, ad_id: str, family: str, cells: int) -> tuple[float | None, ...]:
    """Each cell's lasting weight for the ad (None: a cell it never delivers in), without planted outliers."""
    base = stable_rng(seed, "cell-profile", ad_id, family)
    return tuple(base.lognormvariate(0.0, 1.0) if base.random() >= (0.25 if i else 0.0) else None for i in range(cells))


def _cell_weights(
    seed: int, ad: Ad, day: date, family: str, cells: Sequence[Cell], plan: CellPlan | None = None
) -> list[int]:
    daily = stable_rng(seed, "cell-day", ad.id, family, day.isoformat())
    if plan is None:
        # The same draws as below, the lasting ones from the cache: `base` gives the same sequence every day.
        return [
            int(w * daily.lognormvariate(0.0, 0.3) * 1_000_000) if w is not None else 0
            for w in _cell_profile(seed, ad.id, family, len(cells))
        ]
    base = stable_rng(seed, "cell-profile", ad.id, family)
    weights = []
    for i in range(len(cells)):
        # Some cells never deliver for this ad (an audience it does not target), the rest vary day to day.
        active = base.random() >= (0.25 if i else 0.0)
        if plan.forced(cells[i]):
            active = True  # a planted outlier cell always delivers
        w = base.lognormvariate(0.0, 1.0) * daily.lognormvariate(0.0, 0.3) if active else 0.0
        weights.append(int(w * 1_000_000))
    return weights


def _minor(amount: Decimal, cur: str) -> int:
    return int(amount / currency.quantum(cur))


def _major(units: int, cur: str) -> Decimal:
    return currency.quantize(Decimal(units) * currency.quantum(cur), cur)


def breakdown_cells(
    seed: int,
    ad: Ad,
    day: date,
    m: AdDayMetrics,
    family: str,
    plan: CellPlan | None = None,
    *,
    random_split: bool = False,
) -> list[tuple[Cell, AdDayMetrics]]:
    """The ad-day `m` split into the cells of one breakdown family. Additive figures of the cells sum exactly to
    `m` (spend to the cent, counts, every action figure per window); derived totals (purchase = pixel + onsite)
    hold per cell; reach is not additive (each cell's reach is its own). Cells without impressions are left out.
    `plan` (anomalies.cell_plan): planted outlier cells, which get a smaller share of the conversions.

    Conversion counts are small (a few per ad-day), and a largest-remainder split of a small count hands the units
    to the biggest cells: over weeks a 15% cell gets far fewer conversions than 15%. `random_split` instead draws
    each conversion's cell (a multinomial, keyed like every other draw), so each cell gets its share on average."""
    cells = _family_cells(seed, family, ad.account_id, ad.profile.currency)
    cur = ad.profile.currency
    weights = _cell_weights(seed, ad, day, family, cells, plan)
    impressions = apportion(m.impressions, weights)
    clicks = apportion(m.clicks, impressions, caps=impressions)
    links = apportion(m.inline_link_clicks, clicks, caps=clicks)
    spend = apportion(_minor(m.spend, cur), impressions)
    actions = dict(m.actions)
    per_cell: list[dict[tuple[str, str], Windowed]] = [{} for _ in cells]
    for i, n in enumerate(links):
        if n:
            per_cell[i][("actions", "link_click")] = _click_only(n)
    lpv_total = actions.get(("actions", "landing_page_view"), _ZERO5)[1]
    for i, n in enumerate(apportion(int(lpv_total), links, caps=links)):
        if n:
            per_cell[i][("actions", "landing_page_view")] = _click_only(n)
    by_links, by_impressions = links, impressions
    if plan is not None and plan.conversion_factors:
        # Conversions per click (and per impression) of the outlier cells are lower; the ad-day's total is the same.
        factors = [plan.factor(cell) for cell in cells]
        by_links = [round(n * 1000 * f) for n, f in zip(links, factors, strict=True)]
        by_impressions = [round(n * 1000 * f) for n, f in zip(impressions, factors, strict=True)]
    for action_type in _COMPONENTS:
        counts = actions.get(("actions", action_type))
        if counts is None:
            continue
        split_counts = []
        for k, inc in enumerate(_increments(counts)):
            # Click-through conversions follow link clicks; view-through ones follow impressions.
            weights = _or(by_impressions if k == 3 else by_links, impressions)
            if random_split:
                draw = stable_rng(seed, "cell-split", ad.id, family, day.isoformat(), action_type, k)
                split_counts.append(_multinomial(draw, int(inc), weights))
            else:
                split_counts.append(apportion(int(inc), weights))
        values = actions.get(("action_values", action_type))
        split_values = None
        if values is not None:
            split_values = [
                apportion(_minor(inc, cur), _or(split_counts[k], impressions))
                for k, inc in enumerate(_increments(values))
            ]
        for i in range(len(cells)):
            cell_counts = _windows(*(Decimal(split_counts[k][i]) for k in range(4)))
            if any(cell_counts):
                per_cell[i][("actions", action_type)] = cell_counts
            if split_values is not None:
                cell_values = _windows(*(_major(split_values[k][i], cur) for k in range(4)))
                if any(cell_values):
                    per_cell[i][("action_values", action_type)] = cell_values
    out: list[tuple[Cell, AdDayMetrics]] = []
    ratio = Decimal(m.reach) / Decimal(m.impressions)
    for i, cell in enumerate(cells):
        if not impressions[i]:
            continue
        entries = per_cell[i]
        for total, parts in _DERIVED.items():
            for metric in ("actions", "action_values"):
                if (metric, total) not in actions:
                    continue
                figures = [entries[(metric, p)] for p in parts if (metric, p) in entries]
                if figures:
                    summed = figures[0]
                    for f in figures[1:]:
                        summed = _add(summed, f)
                    if any(summed):
                        entries[(metric, total)] = summed
        reach = max(1, min(impressions[i], int((ratio * impressions[i]).to_integral_value())))
        out.append(
            (
                cell,
                AdDayMetrics(
                    spend=_major(spend[i], cur),
                    impressions=impressions[i],
                    clicks=clicks[i],
                    inline_link_clicks=links[i],
                    reach=reach,
                    actions=tuple(sorted(entries.items())),
                ),
            )
        )
    return out
