"""Synthetic marts for the diagnostics tests: a healthy two-account workspace written into DuckDB schema `marts`
through the warehouse interface, with hooks to plant one anomaly at a time.

Healthy means: steady budgets and rates with small deterministic day-to-day noise, and a deliberately slow
conversion lag on the newest days (30% of a day's conversions are in on day 0, 83% after a week, ~99% after four),
the kind that makes a naive "last 7 vs previous 7" comparison report a CPA rise everywhere.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from warehouse.schema import Table

NIGHT = date(2026, 11, 27)
LAST_DAY = NIGHT - timedelta(days=1)  # each account's newest complete day
HISTORY_DAYS = 42  # maturity 7 + window 7 + trailing 28: the oldest day any window reads
WS = "acme"
# A Meta-shaped access token planted where a careless person might paste it (a campaign name), and in the process
# environment by the OpenAI tests: it must never reach a provider.
FAKE_META_TOKEN = "EAAGm0PX4ZCpsBAFakeTokenForTests0123456789abcdefZZ"


def maturity(age_days: int) -> float:
    """Share of a day's final conversions already reported `age_days` after it (slow, 28-day-click-like lag)."""
    return 1.0 - 0.7 * math.exp(-age_days / 5.0)


@functools.cache
def wiggle(*key: object, spread: float = 0.07) -> float:
    """Deterministic noise in [1 - spread, 1 + spread]."""
    h = int(hashlib.sha256("|".join(map(str, key)).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return 1.0 - spread + 2 * spread * h


@dataclass
class Ad:
    ad_id: str
    name: str
    spend: float  # per day, account currency
    cpm: float
    ctr: float
    cvr: float  # conversions per link click, matured
    aov: float | None  # conversion value per conversion; None: the campaign tracks no value
    link_share: float = 0.7
    effective_status: str = "ACTIVE"
    created: date = LAST_DAY - timedelta(days=120)


@dataclass
class Adset:
    adset_id: str
    name: str
    ads: list[Ad]
    daily_budget: float | None = None
    frequency: float = 1.2  # mean daily frequency, as Meta reports at ad set grain
    effective_status: str = "ACTIVE"
    lifetime_budget: float | None = None
    start: date = LAST_DAY - timedelta(days=120)
    end: date | None = None
    learning_status: str | None = "SUCCESS"
    learning_conversions: float | None = None
    learning_last_edit: date | None = None
    # (valid_from, daily budget) versions; None: one version, the current budget, since long before the lookback
    budget_history: list[tuple[date, float]] | None = None


@dataclass
class Campaign:
    campaign_id: str
    name: str
    objective: str
    adsets: list[Adset]
    daily_budget: float | None = None
    effective_status: str = "ACTIVE"
    lifetime_budget: float | None = None
    start: date = LAST_DAY - timedelta(days=120)
    end: date | None = None
    budget_history: list[tuple[date, float]] | None = None


@dataclass
class Account:
    account_id: str
    name: str
    currency: str
    timezone: str
    campaigns: list[Campaign]
    last_day: date = LAST_DAY
    status: int = 1  # Meta account_status (1 ACTIVE)
    spend_cap: float | None = None
    amount_spent: float | None = None


@dataclass(frozen=True)
class Ctx:
    account: Account
    campaign: Campaign
    adset: Adset
    ad: Ad
    day: date

    @property
    def age(self) -> int:
        return (self.account.last_day - self.day).days

    def in_days(self, newest_age: int, oldest_age: int) -> bool:
        """True on days whose age (days before the account's newest day) is within [newest_age, oldest_age]."""
        return newest_age <= self.age <= oldest_age


# A plant returns multipliers for one ad-day: spend, cpm, ctr, cvr, aov, frequency.
Plant = Callable[[Ctx], dict[str, float]]
# An ad-day: its context, its fact row, the plants' multipliers.
AdRow = tuple[Ctx, dict[str, Any], dict[str, float]]
# A breakdown plant returns a cvr multiplier for one (campaign, cell, day).
CellPlant = Callable[[Ctx, str, tuple[tuple[str, str], ...]], float]


def healthy_accounts() -> list[Account]:
    def ads(prefix: str, n: int, **kw: Any) -> list[Ad]:
        return [Ad(f"{prefix}{i}", f"Ad {prefix}{i}", **kw) for i in range(1, n + 1)]

    sales = {"cpm": 12.0, "ctr": 0.015, "cvr": 0.05, "aov": 60.0}
    retarget = {"cpm": 15.0, "ctr": 0.02, "cvr": 0.06, "aov": 50.0}
    leads = {"cpm": 10.0, "ctr": 0.012, "cvr": 0.08, "aov": None}
    yen = {"cpm": 1500.0, "ctr": 0.012, "cvr": 0.04, "aov": 8000.0}
    return [
        Account(
            "act_1",
            "Acme US",
            "USD",
            "America/New_York",
            [
                Campaign(
                    "c1",
                    "Prospecting | Sales",
                    "OUTCOME_SALES",
                    [
                        Adset("s11", "Broad 25-54", ads("a11", 2, spend=95.0, **sales)),
                        Adset("s12", "Lookalike 1%", ads("a12", 2, spend=95.0, **sales)),
                    ],
                    daily_budget=400.0,
                ),
                Campaign(
                    "c2",
                    "Retargeting",
                    "OUTCOME_SALES",
                    [
                        Adset("s21", "Site visitors 30d", ads("a21", 2, spend=48.0, **retarget), daily_budget=100.0),
                        Adset("s22", "Cart abandoners", ads("a22", 2, spend=48.0, **retarget), daily_budget=100.0),
                    ],
                ),
                Campaign(
                    "c3",
                    "Leads | Webinar",
                    "OUTCOME_LEADS",
                    [
                        Adset("s31", "Interest: SaaS", ads("a31", 2, spend=72.0, **leads)),
                        Adset("s32", "Job titles", ads("a32", 2, spend=72.0, **leads)),
                    ],
                    daily_budget=300.0,
                ),
                # Awareness buys reach, not conversions: zero conversions here is not a finding.
                Campaign(
                    "c5",
                    "Brand awareness",
                    "OUTCOME_AWARENESS",
                    [Adset("s51", "Broad", ads("a51", 1, spend=50.0, cpm=5.0, ctr=0.006, cvr=0.0, aov=None))],
                ),
            ],
        ),
        Account(
            "act_2",
            "Acme Japan",
            "JPY",
            "Asia/Tokyo",
            [
                Campaign(
                    "c4",
                    "JP Sales",
                    "OUTCOME_SALES",
                    [
                        Adset("s41", "Tokyo", ads("a41", 2, spend=12000.0, **yen)),
                        Adset("s42", "Osaka", ads("a42", 2, spend=12000.0, **yen)),
                    ],
                ),
            ],
        ),
    ]


AGE_GENDER = [
    ((("age", a), ("gender", g)), s)
    for (a, g), s in {
        ("25-34", "female"): 0.16,
        ("25-34", "male"): 0.14,
        ("35-44", "female"): 0.14,
        ("35-44", "male"): 0.12,
        ("45-54", "female"): 0.12,
        ("45-54", "male"): 0.10,
        ("55-64", "female"): 0.08,
        ("55-64", "male"): 0.14,
    }.items()
]
PLACEMENT = [
    ((("publisher_platform", "facebook"), ("platform_position", "feed")), 0.45),
    ((("publisher_platform", "instagram"), ("platform_position", "stream")), 0.30),
    ((("publisher_platform", "instagram"), ("platform_position", "story")), 0.15),
    ((("publisher_platform", "audience_network"), ("platform_position", "classic")), 0.10),
]
DEVICE = [((("device_platform", "mobile_app"),), 0.8), ((("device_platform", "desktop"),), 0.2)]
COUNTRY = {
    "act_1": [((("country", "US"),), 0.6), ((("country", "CA"),), 0.25), ((("country", "GB"),), 0.15)],
    "act_2": [((("country", "JP"),), 0.9), ((("country", "KR"),), 0.1)],
}

_ID = (("workspace_id", "string"), ("date_day", "date"), ("account_id", "string"))
_METRICS = (
    ("account_currency", "string"),
    ("spend", "numeric"),
    ("impressions", "int64"),
    ("clicks", "int64"),
    ("inline_link_clicks", "int64"),
    ("reach", "int64"),
    ("conversions", "numeric"),
    ("conversion_value", "numeric"),
    ("ctr", "float64"),
    ("cpc", "float64"),
    ("cpm", "float64"),
    ("cpa", "float64"),
    ("roas", "float64"),
)
_FREQ = (("frequency", "float64"),)


def _fact(name: str, keys: tuple[tuple[str, str], ...], extra: tuple[tuple[str, str], ...] = ()) -> Table:
    return Table(name, (*_ID, *keys, *extra, *_METRICS), schema="marts")


_OBJ = (("campaign_id", "string"), ("adset_id", "string"), ("ad_id", "string"))
FCT_AD = _fact("fct_ad_insights_daily", _OBJ, _FREQ)
FCT_ADSET = _fact("fct_adset_insights_daily", (("campaign_id", "string"), ("adset_id", "string")), _FREQ)
FCT_CAMPAIGN = _fact("fct_campaign_insights_daily", (("campaign_id", "string"),), _FREQ)
BREAKDOWN_TABLES = {
    "age_gender": _fact("fct_ad_insights_daily_by_age_gender", (*_OBJ, ("age", "string"), ("gender", "string"))),
    "country": _fact("fct_ad_insights_daily_by_country", (*_OBJ, ("country", "string"))),
    "placement": _fact(
        "fct_ad_insights_daily_by_placement",
        (*_OBJ, ("publisher_platform", "string"), ("platform_position", "string")),
    ),
    "device": _fact("fct_ad_insights_daily_by_device", (*_OBJ, ("device_platform", "string"))),
}
DIM_ACCOUNTS = Table(
    "dim_ad_accounts",
    (
        ("workspace_id", "string"),
        ("account_id", "string"),
        ("account_name", "string"),
        ("account_currency", "string"),
        ("timezone_name", "string"),
        ("account_status", "int64"),
    ),
    schema="marts",
)
# columns the extraction does not provide yet: written only when a test asks for them
SPEND_CAP_COLUMNS = (("spend_cap", "numeric"), ("amount_spent", "numeric"), ("disable_reason", "int64"))
LEARNING_COLUMNS = (
    ("learning_stage_status", "string"),
    ("learning_stage_conversions", "numeric"),
    ("learning_stage_last_edit_at", "timestamp"),
)
DIM_BUDGET_HISTORY = Table(
    "dim_budget_history",
    (
        ("workspace_id", "string"),
        ("account_id", "string"),
        ("object_level", "string"),
        ("object_id", "string"),
        ("daily_budget", "numeric"),
        ("lifetime_budget", "numeric"),
        ("valid_from", "timestamp"),
        ("valid_to", "timestamp"),
    ),
    schema="marts",
)
DIM_CAMPAIGNS = Table(
    "dim_campaigns",
    (
        ("workspace_id", "string"),
        ("campaign_id", "string"),
        ("account_id", "string"),
        ("campaign_name", "string"),
        ("status", "string"),
        ("effective_status", "string"),
        ("objective", "string"),
        ("account_currency", "string"),
        ("daily_budget", "numeric"),
        ("lifetime_budget", "numeric"),
        ("start_at", "timestamp"),
        ("stop_at", "timestamp"),
    ),
    schema="marts",
)
DIM_ADSETS = Table(
    "dim_adsets",
    (
        ("workspace_id", "string"),
        ("adset_id", "string"),
        ("account_id", "string"),
        ("campaign_id", "string"),
        ("adset_name", "string"),
        ("status", "string"),
        ("effective_status", "string"),
        ("account_currency", "string"),
        ("daily_budget", "numeric"),
        ("lifetime_budget", "numeric"),
        ("start_at", "timestamp"),
        ("end_at", "timestamp"),
        ("optimization_goal", "string"),
    ),
    schema="marts",
)
DIM_ADS = Table(
    "dim_ads",
    (
        ("workspace_id", "string"),
        ("ad_id", "string"),
        ("account_id", "string"),
        ("campaign_id", "string"),
        ("adset_id", "string"),
        ("ad_name", "string"),
        ("status", "string"),
        ("effective_status", "string"),
        ("created_at", "timestamp"),
    ),
    schema="marts",
)


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def _opt_dec(x: float | None) -> Decimal | None:
    return _dec(x) if x is not None else None


def _ts(d: date | None) -> datetime | None:
    # snapshots are taken at night (UTC), after the day they describe
    return datetime.combine(d, time(2, 0), tzinfo=UTC) if d is not None else None


def _with_columns(table: Table, extra: tuple[tuple[str, str], ...]) -> Table:
    return Table(table.name, (*table.columns, *extra), schema=table.schema) if extra else table


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


def _with_ratios(row: dict[str, Any]) -> dict[str, Any]:
    spend, imp, clicks = float(row["spend"]), row["impressions"], row["clicks"]
    conv, value = float(row["conversions"]), float(row["conversion_value"])
    c = _div(1000 * spend, imp)
    return {
        **row,
        "ctr": _div(clicks, imp),
        "cpc": _div(spend, clicks),
        "cpm": c,
        "cpa": _div(spend, conv),
        "roas": _div(value, spend),
    }


@dataclass
class Dataset:
    accounts: list[Account] = field(default_factory=healthy_accounts)
    plants: list[Plant] = field(default_factory=list)
    cell_plants: list[CellPlant] = field(default_factory=list)
    workspace_id: str = WS
    # breakdown dimensions (and other marts) to leave out, as if dbt had not built them yet
    omit: set[str] = field(default_factory=set)
    # fields the extraction does not provide yet (learning_stage_info; spend_cap, amount_spent, disable_reason)
    learning_columns: bool = True
    spend_cap_columns: bool = False

    def plant(self, fn: Plant) -> Dataset:
        self.plants.append(fn)
        return self

    def plant_cell(self, fn: CellPlant) -> Dataset:
        self.cell_plants.append(fn)
        return self

    def adset(self, adset_id: str) -> Adset:
        return next(s for a in self.accounts for c in a.campaigns for s in c.adsets if s.adset_id == adset_id)

    def campaign(self, campaign_id: str) -> Campaign:
        return next(c for a in self.accounts for c in a.campaigns if c.campaign_id == campaign_id)

    # -- generation -------------------------------------------------------------------------------------------------
    def _factors(self, ctx: Ctx) -> dict[str, float]:
        out = {"spend": 1.0, "cpm": 1.0, "ctr": 1.0, "cvr": 1.0, "aov": 1.0, "frequency": 1.0}
        for p in self.plants:
            for k, v in p(ctx).items():
                out[k] *= v
        return out

    def ad_rows(self) -> list[AdRow]:
        out = []
        for account in self.accounts:
            for day_index in range(HISTORY_DAYS):
                day = account.last_day - timedelta(days=day_index)
                for campaign in account.campaigns:
                    for adset in campaign.adsets:
                        for ad in adset.ads:
                            ctx = Ctx(account, campaign, adset, ad, day)
                            f = self._factors(ctx)
                            key = (ad.ad_id, day)
                            spend = ad.spend * f["spend"] * wiggle(*key, "spend")
                            impressions = round(spend / (ad.cpm * f["cpm"]) * 1000 * wiggle(*key, "imp", spread=0.03))
                            clicks = round(impressions * ad.ctr * f["ctr"] * wiggle(*key, "ctr"))
                            link = round(clicks * ad.link_share)
                            matured = link * ad.cvr * f["cvr"] * wiggle(*key, "cvr")
                            conversions = round(matured * maturity(ctx.age), 2)
                            aov = (ad.aov or 0.0) * f["aov"] * wiggle(*key, "aov")
                            freq = adset.frequency * f["frequency"] * wiggle(*key, "freq", spread=0.03)
                            row = {
                                "workspace_id": self.workspace_id,
                                "date_day": day,
                                "account_id": account.account_id,
                                "campaign_id": campaign.campaign_id,
                                "adset_id": adset.adset_id,
                                "ad_id": ad.ad_id,
                                "account_currency": account.currency,
                                "spend": _dec(spend),
                                "impressions": impressions,
                                "clicks": clicks,
                                "inline_link_clicks": link,
                                "reach": round(impressions / freq),
                                "frequency": freq,
                                "conversions": _dec(conversions),
                                "conversion_value": _dec(conversions * aov),
                            }
                            out.append((ctx, row, f))
        return out

    def write(self, wh: Any) -> None:
        """Create the marts (minus `omit`) and insert the rows through the warehouse interface."""
        write_tables(wh, self.tables())

    def tables(self) -> dict[Table, list[dict[str, Any]]]:
        ad_rows = self.ad_rows()
        facts = [_with_ratios(r) for _, r, _ in ad_rows]
        tables: dict[Table, list[dict[str, Any]]] = {FCT_AD: facts}
        tables[FCT_ADSET] = self._rollup(ad_rows, "adset")
        tables[FCT_CAMPAIGN] = self._rollup(ad_rows, "campaign")
        breakdowns = self._breakdowns(ad_rows)
        for dimension, table in BREAKDOWN_TABLES.items():
            tables[table] = breakdowns[dimension]
        accounts_table = _with_columns(DIM_ACCOUNTS, SPEND_CAP_COLUMNS if self.spend_cap_columns else ())
        tables[accounts_table] = [
            {
                "workspace_id": self.workspace_id,
                "account_id": a.account_id,
                "account_name": a.name,
                "account_currency": a.currency,
                "timezone_name": a.timezone,
                "account_status": a.status,
                **(
                    {
                        "spend_cap": _opt_dec(a.spend_cap),
                        "amount_spent": _opt_dec(a.amount_spent),
                        "disable_reason": 0,
                    }
                    if self.spend_cap_columns
                    else {}
                ),
            }
            for a in self.accounts
        ]
        tables[DIM_CAMPAIGNS] = [
            {
                "workspace_id": self.workspace_id,
                "campaign_id": c.campaign_id,
                "account_id": a.account_id,
                "campaign_name": c.name,
                "status": "ACTIVE",
                "effective_status": c.effective_status,
                "objective": c.objective,
                "account_currency": a.currency,
                "daily_budget": _opt_dec(c.daily_budget),
                "lifetime_budget": _opt_dec(c.lifetime_budget),
                "start_at": _ts(c.start),
                "stop_at": _ts(c.end),
            }
            for a in self.accounts
            for c in a.campaigns
        ]
        adsets_table = _with_columns(DIM_ADSETS, LEARNING_COLUMNS if self.learning_columns else ())
        tables[adsets_table] = [
            {
                "workspace_id": self.workspace_id,
                "adset_id": s.adset_id,
                "account_id": a.account_id,
                "campaign_id": c.campaign_id,
                "adset_name": s.name,
                "status": "ACTIVE",
                "effective_status": s.effective_status,
                "account_currency": a.currency,
                "daily_budget": _opt_dec(s.daily_budget),
                "lifetime_budget": _opt_dec(s.lifetime_budget),
                "start_at": _ts(s.start),
                "end_at": _ts(s.end),
                "optimization_goal": "OFFSITE_CONVERSIONS",
                **(
                    {
                        "learning_stage_status": s.learning_status,
                        "learning_stage_conversions": _opt_dec(s.learning_conversions),
                        "learning_stage_last_edit_at": _ts(s.learning_last_edit),
                    }
                    if self.learning_columns
                    else {}
                ),
            }
            for a in self.accounts
            for c in a.campaigns
            for s in c.adsets
        ]
        tables[DIM_ADS] = [
            {
                "workspace_id": self.workspace_id,
                "ad_id": ad.ad_id,
                "account_id": a.account_id,
                "campaign_id": c.campaign_id,
                "adset_id": s.adset_id,
                "ad_name": ad.name,
                "status": "ACTIVE",
                "effective_status": ad.effective_status,
                "created_at": _ts(ad.created),
            }
            for a in self.accounts
            for c in a.campaigns
            for s in c.adsets
            for ad in s.ads
        ]
        tables[DIM_BUDGET_HISTORY] = self._budget_history()
        return {t: rows for t, rows in tables.items() if t.name not in self.omit}

    def _budget_history(self) -> list[dict[str, Any]]:
        """One version per budget since long before the lookback, or the versions a test plants."""
        rows = []
        for a in self.accounts:
            owners = [("campaign", c.campaign_id, c) for c in a.campaigns]
            owners += [("adset", s.adset_id, s) for c in a.campaigns for s in c.adsets]
            for level, object_id, obj in owners:
                if obj.daily_budget is None and obj.lifetime_budget is None:
                    continue
                versions = obj.budget_history or [(LAST_DAY - timedelta(days=120), obj.daily_budget)]
                for i, (valid_from, budget) in enumerate(versions):
                    valid_to = versions[i + 1][0] if i + 1 < len(versions) else None
                    rows.append(
                        {
                            "workspace_id": self.workspace_id,
                            "account_id": a.account_id,
                            "object_level": level,
                            "object_id": object_id,
                            "daily_budget": _opt_dec(budget),
                            "lifetime_budget": _opt_dec(obj.lifetime_budget),
                            "valid_from": _ts(valid_from),
                            "valid_to": _ts(valid_to),
                        }
                    )
        return rows

    def _rollup(self, ad_rows: list[AdRow], level: str) -> list[dict[str, Any]]:
        """Adset/campaign facts: additive sums of the ads, frequency as Meta would report it at that grain."""
        key_cols = ("campaign_id", "adset_id") if level == "adset" else ("campaign_id",)
        groups: dict[tuple[Any, ...], list[AdRow]] = {}
        for ad_row in ad_rows:
            r = ad_row[1]
            groups.setdefault((r["account_id"], r["date_day"], *(r[k] for k in key_cols)), []).append(ad_row)
        out = []
        for key, members in groups.items():
            r = members[0][1]
            g = {
                "workspace_id": r["workspace_id"],
                "date_day": r["date_day"],
                "account_id": r["account_id"],
                **{k: r[k] for k in key_cols},
                "account_currency": r["account_currency"],
            }
            for m, zero in _ADDITIVE:
                g[m] = sum((r[m] for _, r, _ in members), zero)
            # as reported for the group's last ad (its ad set's frequency, its plants)
            ctx, _, f = members[-1]
            base = ctx.adset.frequency if level == "adset" else ctx.adset.frequency * 1.05
            g["frequency"] = base * f["frequency"] * wiggle(key, "freq", spread=0.03)
            g["reach"] = round(g["impressions"] / g["frequency"])
            out.append(_with_ratios(g))
        return out

    def _breakdowns(self, ad_rows: list[AdRow]) -> dict[str, list[dict[str, Any]]]:
        """Each breakdown's rows: every ad-day split into the dimension's cells."""
        out: dict[str, list[dict[str, Any]]] = {dimension: [] for dimension in BREAKDOWN_TABLES}
        for ctx, r, _ in ad_rows:
            # the cells' figures depend on the amounts as floats only (see _breakdown_rows), which hash much faster
            # than Decimals
            ad_row = (
                *(r[k] for k in _AD_ROW_IDS),
                float(r["spend"]),
                r["impressions"],
                r["clicks"],
                r["inline_link_clicks"],
                r["reach"],
                float(r["conversions"]),
                float(r["conversion_value"]),
            )
            for dimension, rows in out.items():
                cells = _cells(dimension, ctx.account.account_id)
                perfs = _cell_perfs(ctx.campaign.campaign_id, dimension, ctx.account.account_id)
                if self.cell_plants:
                    planted = []
                    for cell, perf in zip(cells.keys, perfs, strict=True):
                        for p in self.cell_plants:
                            perf *= p(ctx, dimension, cell)
                        planted.append(perf)
                    perfs = tuple(planted)
                # fresh dicts: a test may edit the rows it writes
                rows.extend(map(dict.copy, _breakdown_rows(dimension, perfs, ad_row)))
        return out


@dataclass(frozen=True)
class _Cells:
    keys: tuple[tuple[tuple[str, str], ...], ...]  # each cell as ((column, value), ...)
    shares: tuple[float, ...]  # each cell's share of the ad's delivery


@functools.cache
def _cells(dimension: str, account_id: str) -> _Cells:
    cells = {"age_gender": AGE_GENDER, "placement": PLACEMENT, "device": DEVICE}.get(dimension)
    if cells is None:
        cells = COUNTRY[account_id]
    return _Cells(tuple(cell for cell, _ in cells), tuple(share for _, share in cells))


@functools.cache
def _cell_perfs(campaign_id: str, dimension: str, account_id: str) -> tuple[float, ...]:
    # each cell converts a little differently, all within +-15% of the ad (healthy)
    return tuple(wiggle(campaign_id, cell, "perf", spread=0.15) for cell in _cells(dimension, account_id).keys)


_ADDITIVE = (
    ("spend", Decimal(0)),
    ("impressions", 0),
    ("clicks", 0),
    ("inline_link_clicks", 0),
    ("conversions", Decimal(0)),
    ("conversion_value", Decimal(0)),
)
_AD_ROW_IDS = ("workspace_id", "date_day", "account_id", "campaign_id", "adset_id", "ad_id", "account_currency")


# Every world a test builds is the clean one but for a few planted ad-days: the cells of each ad-day are worked out
# once per process and copied. Bounded: the clean world needs ~3,000 entries.
@functools.lru_cache(maxsize=8192)
def _breakdown_rows(dimension: str, perfs: tuple[float, ...], ad_row: tuple[Any, ...]) -> tuple[dict[str, Any], ...]:
    """One ad-day's rows of a breakdown (`ad_row`: its ids, then spend, impressions, clicks, link clicks, reach,
    conversions and conversion value; `perfs`: each cell's conversion rate relative to the ad's)."""
    ids = dict(zip(_AD_ROW_IDS, ad_row[: len(_AD_ROW_IDS)], strict=True))
    spend, impressions, clicks, link, reach, conv, value = ad_row[len(_AD_ROW_IDS) :]
    cells = _cells(dimension, ids["account_id"])
    value_per = value / conv if conv else 0
    out = []
    for cell, share, perf in zip(cells.keys, cells.shares, perfs, strict=True):
        conversions = conv * share * perf
        out.append(
            _with_ratios(
                {
                    **ids,
                    **dict(cell),
                    "spend": _dec(spend * share),
                    "impressions": round(impressions * share),
                    "clicks": round(clicks * share),
                    "inline_link_clicks": round(link * share),
                    "reach": round(reach * share),
                    "conversions": _dec(conversions),
                    "conversion_value": _dec(conversions * value_per),
                }
            )
        )
    return tuple(out)


def write_tables(wh: Any, tables: dict[Table, list[dict[str, Any]]]) -> None:
    """Create and fill the tables in one DuckDB transaction: one commit (and sync to disk) for the world instead of
    two per table."""
    wh.execute("begin transaction")
    try:
        for table, rows in tables.items():
            wh.ensure_table(table)
            wh.append_rows(table, rows)
    except BaseException:
        wh.execute("rollback")
        raise
    wh.execute("commit")


# -- planted anomalies: one per detector, each with the finding it must produce --------------------------------------
def _current(ctx: Ctx) -> bool:
    return ctx.in_days(0, 6)  # the last 7 days


def _matured_current(ctx: Ctx) -> bool:
    return ctx.in_days(7, 13)  # the last 7 days that are `maturity_days` (7) old


@dataclass(frozen=True)
class Expected:
    finding_type: str
    level: str
    entity_id: str
    severity: str
    breakdown: dict[str, str] | None = None


def _set_budget(adset_id: str, budget: float) -> Callable[[Dataset], Dataset]:
    def apply(ds: Dataset) -> Dataset:
        ds.adset(adset_id).daily_budget = budget
        return ds

    return apply


PLANTS: dict[str, tuple[Callable[[Dataset], Dataset], Expected]] = {
    # lead-gen ad set (no conversion value): conversion rate down 55% in the matured week -> CPA x2.2
    "cpa_increase": (
        lambda ds: ds.plant(lambda c: {"cvr": 0.45} if c.adset.adset_id == "s31" and _matured_current(c) else {}),
        Expected("cpa_increase", "adset", "s31", "high"),
    ),
    # sales ad set: value per conversion down 55% in the matured week, conversions unchanged
    "roas_decrease": (
        lambda ds: ds.plant(lambda c: {"aov": 0.45} if c.adset.adset_id == "s11" and _matured_current(c) else {}),
        Expected("roas_decrease", "adset", "s11", "high"),
    ),
    # one ad's CTR down 60% in the last 7 days
    "ctr_drop": (
        lambda ds: ds.plant(lambda c: {"ctr": 0.4} if c.ad.ad_id == "a211" and _current(c) else {}),
        Expected("ctr_drop", "ad", "a211", "high"),
    ),
    # ad set frequency 1.2 -> 2.9 a day while its CTR falls 35%
    "creative_fatigue": (
        lambda ds: ds.plant(
            lambda c: {"frequency": 2.4, "ctr": 0.65} if c.adset.adset_id == "s12" and _current(c) else {}
        ),
        Expected("creative_fatigue", "adset", "s12", "high"),
    ),
    # an ad set keeps spending with no conversion at all in the last 7 days
    "zero_conversions": (
        lambda ds: ds.plant(lambda c: {"cvr": 0.0} if c.adset.adset_id == "s22" and _current(c) else {}),
        Expected("zero_conversions", "adset", "s22", "high"),
    ),
    # the JPY account's conversions stop for the 3 newest days while clicks continue
    "tracking_breakage": (
        lambda ds: ds.plant(lambda c: {"cvr": 0.0} if c.account.account_id == "act_2" and c.in_days(0, 2) else {}),
        Expected("tracking_breakage", "account", "act_2", "high"),
    ),
    # an ad set's daily budget raised to 400 while it delivers ~96 a day
    "budget_pacing": (_set_budget("s21", 400.0), Expected("budget_pacing", "adset", "s21", "high")),
    # one of the JPY account's two ad sets takes 90% of its spend in the last 7 days
    "concentration": (
        lambda ds: ds.plant(lambda c: {"spend": 9.0} if c.adset.adset_id == "s41" and _current(c) else {}),
        Expected("concentration", "adset", "s41", "warning"),
    ),
    # in campaign c1, men 55-64 convert at a quarter of the rate of everyone else
    "breakdown_outlier": (
        lambda ds: ds.plant_cell(
            lambda c, dim, cell: (
                0.25
                if dim == "age_gender"
                and c.campaign.campaign_id == "c1"
                and dict(cell) == {"age": "55-64", "gender": "male"}
                else 1.0
            )
        ),
        Expected("breakdown_outlier", "campaign", "c1", "high", {"age": "55-64", "gender": "male"}),
    ),
}


# -- plants of the delivery, state, budget-schedule, measurement and market detectors ---------------------------------
def _ad(ds: Dataset, ad_id: str) -> Ad:
    return next(ad for a in ds.accounts for c in a.campaigns for s in c.adsets for ad in s.ads if ad.ad_id == ad_id)


def _account(ds: Dataset, account_id: str) -> Account:
    return next(a for a in ds.accounts if a.account_id == account_id)


def _disapproved(ds: Dataset) -> Dataset:
    # rejected four days ago: it stopped delivering; it carried half of its ad set's spend before
    _ad(ds, "a311").effective_status = "DISAPPROVED"
    return ds.plant(lambda c: {"spend": 0.0} if c.ad.ad_id == "a311" and c.in_days(0, 3) else {})


def _with_issues(ds: Dataset) -> Dataset:
    _ad(ds, "a421").effective_status = "WITH_ISSUES"
    return ds


def _stalled(ds: Dataset) -> Dataset:
    # the awareness ad set's only ad: no impressions on the three newest days although it is ACTIVE
    return ds.plant(lambda c: {"spend": 0.0} if c.ad.ad_id == "a511" and c.in_days(0, 2) else {})


def _status(account_id: str, status: int) -> Callable[[Dataset], Dataset]:
    def apply(ds: Dataset) -> Dataset:
        _account(ds, account_id).status = status
        return ds

    return apply


def _spend_cap(ds: Dataset) -> Dataset:
    # act_1 spends ~900 a day; about a day and a half of it is left under the cap
    ds.spend_cap_columns = True
    account = _account(ds, "act_1")
    account.spend_cap, account.amount_spent = 100_000.0, 98_700.0
    return ds


def _learning(ds: Dataset) -> Dataset:
    adset = ds.adset("s32")
    adset.learning_status, adset.learning_conversions = "FAIL", 4.0
    return ds


def _lifetime(ds: Dataset) -> Dataset:
    # ~24,000 JPY a day for 31 days, 30 days to go: about a quarter of a 6,000,000 budget will be spent
    adset = ds.adset("s42")
    adset.lifetime_budget, adset.start, adset.end = 6_000_000.0, LAST_DAY - timedelta(days=30), LAST_DAY + timedelta(30)
    return ds


PLANTS.update(
    {
        # one ad of an ad set that converts spends a week without a conversion
        "zero_conversions_ad": (
            lambda ds: ds.plant(lambda c: {"cvr": 0.0} if c.ad.ad_id == "a321" and _current(c) else {}),
            Expected("zero_conversions", "ad", "a321", "high"),
        ),
        # one ad (not its sibling) shown more and more often to the same people while its CTR falls
        "creative_fatigue_ad": (
            lambda ds: ds.plant(
                lambda c: {"frequency": 2.4, "ctr": 0.65} if c.ad.ad_id == "a221" and _current(c) else {}
            ),
            Expected("creative_fatigue", "ad", "a221", "high"),
        ),
        "ad_disapproved": (_disapproved, Expected("ad_disapproved", "ad", "a311", "high")),
        "ad_with_issues": (_with_issues, Expected("ad_with_issues", "ad", "a421", "warning")),
        "ad_not_delivering": (_stalled, Expected("ad_not_delivering", "ad", "a511", "high")),
        "account_disabled": (_status("act_2", 2), Expected("account_disabled", "account", "act_2", "high")),
        "account_unpaid": (_status("act_1", 3), Expected("account_unpaid", "account", "act_1", "high")),
        "spend_cap": (_spend_cap, Expected("spend_cap", "account", "act_1", "high")),
        "learning_limited": (_learning, Expected("learning_limited", "adset", "s32", "high")),
        "lifetime_budget_pacing": (_lifetime, Expected("lifetime_budget_pacing", "adset", "s42", "high")),
        # the purchase value stops arriving for campaign c1's newest three days; purchases keep being counted
        "value_tracking_break": (
            lambda ds: ds.plant(lambda c: {"aov": 0.02} if c.campaign.campaign_id == "c1" and c.in_days(0, 2) else {}),
            Expected("value_tracking_break", "campaign", "c1", "high"),
        ),
        # act_2 pays 80% more per thousand impressions on its three newest days
        "auction_cost_spike": (
            lambda ds: ds.plant(lambda c: {"cpm": 1.8} if c.account.account_id == "act_2" and c.in_days(0, 2) else {}),
            Expected("auction_cost_spike", "account", "act_2", "high"),
        ),
    }
)
