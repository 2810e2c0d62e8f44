"""Plain data classes for the sandbox's ad objects and for the ground truth that tests compare with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# Attribution windows in storage order. "value" is the account default (7d_click + 1d_view).
WINDOWS: tuple[str, ...] = ("value", "1d_click", "7d_click", "28d_click", "1d_view")
WINDOW_INDEX = {w: i for i, w in enumerate(WINDOWS)}

# Windows Meta still returns when asked; others are accepted but produce no key
# (7d_view/28d_view since 2026-01).
RETURNED_WINDOWS: tuple[str, ...] = ("1d_click", "7d_click", "28d_click", "1d_view")

LEVELS: tuple[str, ...] = ("account", "campaign", "adset", "ad")

# Breakdown dimension -> the family of cells it is read from. Cells are generated per family; a request for a
# subset of a family's dimensions (e.g. [age]) sums the family's cells.
FAMILIES: dict[str, tuple[str, ...]] = {
    "age_gender": ("age", "gender"),
    "country": ("country",),
    "placement": ("publisher_platform", "platform_position"),
    "device": ("device_platform",),
}
FAMILY_OF = {dim: family for family, dims in FAMILIES.items() for dim in dims}

# The effective_status values of each level (the facebook-business SDK's Ad/AdSet/Campaign.EffectiveStatus enums,
# v26.0.3, copied here: the sandbox imports nothing outside the standard library). A filter on
# `<level>.effective_status` naming a value outside its level's list is refused (100/1487561 "Run Status not valid",
# as Meta refuses it on the campaigns edge: docs/meta-conformance.md).
LEVEL_STATUSES: dict[str, frozenset[str]] = {
    "ad": frozenset(
        {
            "ACTIVE",
            "ADSET_PAUSED",
            "ARCHIVED",
            "CAMPAIGN_PAUSED",
            "DELETED",
            "DISAPPROVED",
            "IN_PROCESS",
            "PAUSED",
            "PENDING_BILLING_INFO",
            "PENDING_REVIEW",
            "PREAPPROVED",
            "WITH_ISSUES",
        }
    ),
    "adset": frozenset({"ACTIVE", "ARCHIVED", "CAMPAIGN_PAUSED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES"}),
    "campaign": frozenset({"ACTIVE", "ARCHIVED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES"}),
}
# Every effective_status value Meta knows (the ad level's list holds the others).
EFFECTIVE_STATUSES = LEVEL_STATUSES["ad"]
# Statuses Meta leaves out of edges and of insights rows at the object's own level unless a filter on that level's
# effective_status names them ("Manage your ad object's status").
HIDDEN_BY_DEFAULT = frozenset({"ARCHIVED", "DELETED"})


@dataclass(frozen=True)
class Account:
    """An ad account. `id` carries the "act_" prefix, `account_id` does not (as in Meta)."""

    id: str
    account_id: str
    name: str
    currency: str
    timezone_name: str
    business_id: str
    business_name: str
    created_time: datetime
    account_status: int = 1
    disable_reason: int = 0  # Meta's code; 0 NONE
    # A spend cap planted to run out this many days (at the last 7 days' spend) after the scenario's now; None: no
    # cap (Meta's "0"). The cap itself depends on what was spent, so the scenario computes it when asked.
    spend_cap_days_left: float | None = None


@dataclass(frozen=True)
class Campaign:
    """A campaign. Budgets are integers in minor units (None when the budget lives on the ad sets)."""

    id: str
    account_id: str
    name: str
    status: str
    effective_status: str
    objective: str
    daily_budget: int | None
    lifetime_budget: int | None
    bid_strategy: str
    buying_type: str
    created_time: datetime
    updated_time: datetime
    start_time: datetime
    stop_time: datetime | None
    # Inclusive last day this campaign lets its ads deliver (None: open-ended).
    delivery_end: date | None


@dataclass(frozen=True)
class AdSet:
    """An ad set. Meta names its end `end_time` (campaigns use `stop_time`)."""

    id: str
    account_id: str
    campaign_id: str
    name: str
    status: str
    effective_status: str
    daily_budget: int | None
    lifetime_budget: int | None
    optimization_goal: str
    billing_event: str
    bid_strategy: str
    created_time: datetime
    updated_time: datetime
    start_time: datetime
    end_time: datetime | None
    delivery_end: date | None
    # learning_stage_info planted by the spec: (status, conversions, days from the last significant edit to the
    # scenario's today). None: an active ad set has left learning (SUCCESS, its edit the last update).
    learning: tuple[str, int, int] | None = None


@dataclass(frozen=True)
class AdProfile:
    """Per-ad parameters the daily metric generator draws around (USD-equivalent amounts)."""

    currency: str
    objective: str
    base_spend_usd: float
    cpm_usd: float
    ctr: float
    link_share: float
    frequency: float
    lpv_rate: float
    purchase_rate: float
    lead_rate: float
    onsite_share: float
    aov_usd: float
    zero_day_prob: float


@dataclass(frozen=True)
class Ad:
    """An ad. `delivery_start`/`delivery_end` bound its days with insights (inclusive; end None = open)."""

    id: str
    account_id: str
    campaign_id: str
    adset_id: str
    name: str
    status: str
    effective_status: str
    creative_id: str
    created_time: datetime
    updated_time: datetime
    delivery_start: date
    delivery_end: date | None
    profile: AdProfile = field(repr=False)


@dataclass(frozen=True)
class Creative:
    """An ad creative's metadata (one per ad in the sandbox). The sandbox has no assets, only a thumbnail link."""

    id: str
    account_id: str
    name: str
    title: str
    body: str
    status: str
    object_type: str = "SHARE"
    call_to_action_type: str | None = None
    url_tags: str | None = None
    thumbnail_url: str | None = None


@dataclass(frozen=True, order=True)
class ActionValue:
    """One figure of an `actions` / `action_values` list entry under one attribution window."""

    metric: str  # "actions" | "action_values"
    action_type: str
    window: str  # one of WINDOWS
    value: Decimal


@dataclass(frozen=True)
class TruthRow:
    """The exact insights figures for one object (at `level`) and one time bucket.

    `account_id` is the bare number ("1001"), like the `account_id` field of Meta's insights rows.
    Ids below the row's level are None. `actions` lists only non-zero figures, sorted by
    (metric, action_type, window order). `breakdown` holds the row's breakdown values in the order they were
    asked for (empty without breakdowns), e.g. (("age", "25-34"), ("gender", "female")).
    """

    level: str
    account_id: str
    campaign_id: str | None
    adset_id: str | None
    ad_id: str | None
    date: date
    date_stop: date
    spend: Decimal
    impressions: int
    clicks: int
    inline_link_clicks: int
    reach: int
    actions: list[ActionValue]
    breakdown: tuple[tuple[str, str], ...] = ()

    @property
    def breakdowns(self) -> dict[str, str]:
        """The breakdown values by dimension ({"age": "25-34", "gender": "female"})."""
        return dict(self.breakdown)

    @property
    def object_id(self) -> str:
        """Id of the object the row describes ("act_<n>" at account level)."""
        return {
            "account": f"act_{self.account_id}",
            "campaign": self.campaign_id,
            "adset": self.adset_id,
            "ad": self.ad_id,
        }[self.level] or ""

    @property
    def frequency(self) -> Decimal:
        """impressions / reach (0 when there is no reach)."""
        return Decimal(self.impressions) / Decimal(self.reach) if self.reach else Decimal(0)

    def action(self, action_type: str, window: str = "value", metric: str = "actions") -> Decimal:
        """The figure for one action type and window (0 when absent)."""
        for a in self.actions:
            if a.metric == metric and a.action_type == action_type and a.window == window:
                return a.value
        return Decimal(0)
