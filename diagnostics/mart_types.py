"""What the mart readers produce and the detectors read: window sums, accounts and their windows, entity statistics,
object state (the dims), and `MartData`, one workspace's night. Plain data, shared by `marts.py` (the aggregates)
and `marts_state.py` (the dims), which both fill a `MartData`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from dates import Window
from diagnostics.config import DiagnosticsConfig

ADDITIVE = ("spend", "impressions", "clicks", "inline_link_clicks", "conversions", "conversion_value")
# delivery windows (spend, impressions, clicks settle within a day or two)
DELIVERY_WINDOWS = ("cur", "prev", "trail")
# matured windows for conversion metrics, and the newest days for tracking breakage
CONVERSION_WINDOWS = ("ccur", "cprev", "ctrail")
ALL_WINDOWS = (*DELIVERY_WINDOWS, *CONVERSION_WINDOWS, "recent")

# Meta's ad account statuses (AdAccount.account_status) as dim_ad_accounts names them.
ACCOUNT_STATUS = {
    1: "ACTIVE",
    2: "DISABLED",
    3: "UNSETTLED",
    7: "PENDING_RISK_REVIEW",
    8: "PENDING_SETTLEMENT",
    9: "IN_GRACE_PERIOD",
    100: "PENDING_CLOSURE",
    101: "CLOSED",
    201: "ANY_ACTIVE",
    202: "ANY_CLOSED",
}


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class AccountDim:
    account_id: str
    name: str | None
    currency: str | None
    timezone: str | None
    status: int | None  # Meta's account_status code
    disable_reason: int | None = None  # Meta's disable_reason code (not extracted yet)
    spend_cap: float | None = None  # major units; 0 or None: no cap (not extracted yet)
    amount_spent: float | None = None  # major units, lifetime spend counted against the cap (not extracted yet)

    @property
    def status_name(self) -> str | None:
        return ACCOUNT_STATUS.get(self.status) if self.status is not None else None


@dataclass(frozen=True)
class CampaignDim:
    campaign_id: str
    account_id: str | None
    name: str | None
    objective: str | None
    status: str | None
    effective_status: str | None
    daily_budget: float | None
    lifetime_budget: float | None = None
    start_day: date | None = None
    end_day: date | None = None  # stop_time


@dataclass(frozen=True)
class AdsetDim:
    adset_id: str
    campaign_id: str | None
    name: str | None
    status: str | None
    effective_status: str | None
    daily_budget: float | None
    lifetime_budget: float | None = None
    start_day: date | None = None
    end_day: date | None = None
    optimization_goal: str | None = None
    # learning_stage_info.status: LEARNING | SUCCESS | FAIL (FAIL is "Learning limited" in Ads Manager)
    learning_status: str | None = None
    learning_conversions: float | None = None  # learning_stage_info.conversions: optimisation events counted
    learning_last_edit_day: date | None = None  # learning_stage_info.last_sig_edit_ts


@dataclass(frozen=True)
class AdDim:
    ad_id: str
    account_id: str | None
    campaign_id: str | None
    adset_id: str | None
    name: str | None
    status: str | None
    effective_status: str | None
    created_day: date | None


@dataclass(frozen=True)
class BudgetVersion:
    """One budget of an entity, in force from `valid_from` (the first snapshot that showed it, a UTC day) to
    `valid_to` (the first snapshot that showed the next one), or still in force (None)."""

    daily_budget: float | None
    lifetime_budget: float | None
    valid_from: date
    valid_to: date | None


@dataclass
class Sums:
    """Additive metrics of one window; ratios recomputed from the sums (never averaged)."""

    spend: float = 0.0
    impressions: float = 0.0
    clicks: float = 0.0
    inline_link_clicks: float = 0.0
    conversions: float = 0.0
    conversion_value: float = 0.0

    def add(self, other: Sums) -> None:
        for m in ADDITIVE:
            setattr(self, m, getattr(self, m) + getattr(other, m))

    def minus(self, other: Sums) -> Sums:
        return Sums(**{m: getattr(self, m) - getattr(other, m) for m in ADDITIVE})

    @property
    def ctr(self) -> float | None:
        return _ratio(self.clicks, self.impressions)

    @property
    def cpa(self) -> float | None:
        return _ratio(self.spend, self.conversions)

    @property
    def roas(self) -> float | None:
        return _ratio(self.conversion_value, self.spend)

    @property
    def cvr(self) -> float | None:
        """Conversions per link click (all clicks when the account reports no link clicks)."""
        return _ratio(self.conversions, self.link_clicks)

    @property
    def link_clicks(self) -> float:
        return self.inline_link_clicks or self.clicks


@dataclass(frozen=True)
class AccountWindows:
    account_id: str
    last_day: date
    windows: dict[str, Window]

    @classmethod
    def build(cls, account_id: str, last_day: date, config: DiagnosticsConfig) -> AccountWindows:
        w, t = config.window_days, config.trailing_days
        cur = Window.ending(last_day, w)
        prev = cur.shifted(w)
        trail = Window(cur.start - timedelta(days=t), cur.start - timedelta(days=1))
        m = config.maturity_days
        windows = {
            "cur": cur,
            "prev": prev,
            "trail": trail,
            "ccur": cur.shifted(m),
            "cprev": prev.shifted(m),
            "ctrail": trail.shifted(m),
            "recent": Window.ending(last_day, config.tracking_window_days),
        }
        # each day of the current window, as its own one-day window ("d0" the oldest)
        for i in range(w):
            day = cur.start + timedelta(days=i)
            windows[f"d{i}"] = Window(day, day)
        return cls(account_id, last_day, windows)

    @property
    def lookback(self) -> Window:
        return Window(min(w.start for w in self.windows.values()), self.last_day)


@dataclass
class Account:
    account_id: str
    name: str | None
    currency: str | None
    timezone: str | None
    windows: AccountWindows


@dataclass
class EntityStats:
    """Window sums of one account, campaign, ad set or ad (ad rows rolled up: additive metrics only)."""

    level: str
    id: str
    account_id: str
    campaign_id: str | None = None
    adset_id: str | None = None
    name: str | None = None
    sums: dict[str, Sums] = field(default_factory=lambda: {w: Sums() for w in ALL_WINDOWS})
    first_spend_day: date | None = None  # within the current window
    last_spend_day: date | None = None
    # each day of the current window, oldest first (additive: a parent's day is the sum of its ads')
    daily: list[Sums] = field(default_factory=list)
    # mean daily frequency in cur / prev as Meta fetched it at this entity's own grain (ads only: never rolled up)
    frequency: dict[str, float | None] = field(default_factory=dict)

    def absorb(self, other: EntityStats) -> None:
        for w in ALL_WINDOWS:
            self.sums[w].add(other.sums[w])
        if not self.daily:
            self.daily = [Sums() for _ in other.daily]
        for mine, theirs in zip(self.daily, other.daily, strict=True):
            mine.add(theirs)
        if other.first_spend_day and (self.first_spend_day is None or other.first_spend_day < self.first_spend_day):
            self.first_spend_day = other.first_spend_day
        if other.last_spend_day and (self.last_spend_day is None or other.last_spend_day > self.last_spend_day):
            self.last_spend_day = other.last_spend_day


@dataclass(frozen=True)
class FrequencyStats:
    """From an adset/campaign fact: mean of the daily frequency as fetched (days with impressions), and the CTR
    sums at that same grain. Frequency is never summed or derived from children."""

    level: str
    id: str
    account_id: str
    frequency: dict[str, float | None]  # cur, prev
    sums: dict[str, Sums]  # cur, prev (impressions, clicks)


@dataclass(frozen=True)
class BreakdownCell:
    dimension: str
    account_id: str
    campaign_id: str
    cell: tuple[tuple[str, str], ...]
    sums: Sums  # the matured current window


@dataclass
class MartData:
    workspace_id: str
    accounts: dict[str, Account] = field(default_factory=dict)
    ads: dict[str, EntityStats] = field(default_factory=dict)
    adsets: dict[str, EntityStats] = field(default_factory=dict)
    campaigns: dict[str, EntityStats] = field(default_factory=dict)
    account_stats: dict[str, EntityStats] = field(default_factory=dict)
    frequency: dict[str, dict[str, FrequencyStats]] = field(default_factory=lambda: {"adset": {}, "campaign": {}})
    campaign_dims: dict[str, CampaignDim] = field(default_factory=dict)
    adset_dims: dict[str, AdsetDim] = field(default_factory=dict)
    ad_dims: dict[str, AdDim] = field(default_factory=dict)  # ads in a state worth judging (active, rejected)
    account_dims: dict[str, AccountDim] = field(default_factory=dict)  # every account, stale ones included
    breakdowns: dict[str, list[BreakdownCell]] = field(default_factory=dict)
    # account -> day -> sums over the whole lookback (the auction-cost baseline and the account charts)
    account_daily: dict[str, dict[date, Sums]] = field(default_factory=dict)
    # (level, id) -> budget versions, oldest first; empty when the budget history mart is not built
    budget_history: dict[tuple[str, str], list[BudgetVersion]] = field(default_factory=dict)
    has_budget_history: bool = False
    # (level, id) -> spend since the entity's start (entities with a lifetime budget only)
    lifetime_spend: dict[tuple[str, str], float] = field(default_factory=dict)
    as_of: date | None = None  # night - 1: the newest complete day any account can have
    # what could not be read and why (a mart not built yet, a stale account)
    skipped: dict[str, str] = field(default_factory=dict)

    def stats(self, level: str) -> dict[str, EntityStats]:
        return {"account": self.account_stats, "campaign": self.campaigns, "adset": self.adsets, "ad": self.ads}[level]

    def is_conversion_campaign(self, campaign_id: str | None, objectives: Iterable[str]) -> bool:
        dim = self.campaign_dims.get(campaign_id or "")
        return dim is None or dim.objective is None or dim.objective in set(objectives)


class StateReader(Protocol):
    """What reading the dims needs of the reader (`marts.MartReader`)."""

    def present(self, table: str) -> bool: ...

    def has_column(self, table: str, column: str) -> bool: ...

    def select_columns(self, table: str, columns: Iterable[str], alias: str = "") -> str: ...

    def query(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def ref(self, table: str) -> str: ...
