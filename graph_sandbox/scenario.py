"""Deterministic sandbox scenarios: tokens, ad accounts, campaigns, ad sets, ads, and their exact insights.

A `Scenario` is built from (name, seed); the same pair gives identical objects and metrics in any process.
The truth methods (`truth`, `truth_daily`, `truth_ad_daily`) are what the sandbox API serves and what tests
compare the warehouse with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from graph_sandbox import currency
from graph_sandbox.aggregate import TimeIncrement, aggregate
from graph_sandbox.anomalies import BUDGET_FOLLOWS, Anomaly, PlantedAnomaly, cell_plan, effect_on
from graph_sandbox.metrics import AdDayMetrics, Cell, ad_day_metrics, breakdown_cells
from graph_sandbox.model import (
    LEVELS,
    Account,
    Ad,
    AdProfile,
    AdSet,
    Campaign,
    Creative,
    TruthRow,
)
from graph_sandbox.rng import numeric_id, stable_rng

# Object dates are laid out relative to this fixed day, so a scenario does not change from day to day.
DEFAULT_ANCHOR = date(2026, 11, 1)
# Nothing delivers before this day.
EARLIEST_DATA = date(2023, 1, 1)

OBJECTIVES = ("OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC")
STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED")
_OPTIMIZATION_GOALS = {
    "OUTCOME_SALES": ("OFFSITE_CONVERSIONS", "VALUE"),
    "OUTCOME_LEADS": ("LEAD_GENERATION", "OFFSITE_CONVERSIONS"),
    "OUTCOME_TRAFFIC": ("LINK_CLICKS", "LANDING_PAGE_VIEWS"),
}
_BID_STRATEGIES = (
    "LOWEST_COST_WITHOUT_CAP",
    "LOWEST_COST_WITHOUT_CAP",
    "COST_CAP",
    "LOWEST_COST_WITH_BID_CAP",
)
_DAILY_BUDGETS_USD = (20, 30, 50, 75, 100, 150, 250, 400)
_THEMES = ("Prospecting", "Retargeting", "Lookalike", "Broad", "Advantage+", "Brand", "Seasonal", "Evergreen")
_OFFERS = ("Summer Sale", "New Arrivals", "Free Shipping", "Spring Drop", "Webinar", "Demo Request", "Bundle")
_FORMATS = ("Video", "Carousel", "Image", "Reel", "Collection")
_OBJECT_TYPES = {"Video": "VIDEO", "Reel": "VIDEO", "Image": "PHOTO", "Carousel": "SHARE", "Collection": "SHARE"}
_CALLS_TO_ACTION = {"OUTCOME_SALES": "SHOP_NOW", "OUTCOME_LEADS": "SIGN_UP", "OUTCOME_TRAFFIC": "LEARN_MORE"}
_AUDIENCES = ("US 25-54", "EU Broad", "Interest Stack", "LAL 1%", "Site Visitors 30d", "Engagers 90d")

# Currencies and time zones the parametrised generator cycles through.
_LOCALES = (
    ("USD", "America/Los_Angeles"),
    ("EUR", "Europe/Berlin"),
    ("JPY", "Asia/Tokyo"),
    ("GBP", "Europe/London"),
    ("CAD", "America/Toronto"),
    ("AUD", "Australia/Sydney"),
    ("KRW", "Asia/Seoul"),
    ("BRL", "America/Sao_Paulo"),
)


# ----------------------------------------------------------------------------------------------------
# Specs: the shape of a scenario (what exists, configured statuses); ids, dates, numbers come from the seed.


@dataclass(frozen=True)
class AdSetSpec:
    status: str = "ACTIVE"
    ads: tuple[str, ...] = ("ACTIVE", "ACTIVE")


@dataclass(frozen=True)
class CampaignSpec:
    status: str = "ACTIVE"
    objective: str | None = None  # None: drawn from the seed
    adsets: tuple[AdSetSpec, ...] = (AdSetSpec(), AdSetSpec())
    # None: drawn from the seed (campaign or ad set budgets, daily or lifetime). "campaign": a daily budget on the
    # campaign (budget optimisation); "adset": a daily budget on each ad set.
    budget: str | None = None
    # None: drawn from the seed. Otherwise the campaign's spend scale: each ad's base spend per day in USD is this
    # times its own lognormal draw.
    spend_usd: float | None = None


@dataclass(frozen=True)
class AccountSpec:
    number: int
    name: str
    currency: str
    timezone_name: str
    business_id: str
    business_name: str
    campaigns: tuple[CampaignSpec, ...]


@dataclass(frozen=True)
class Workspace:
    """A token and the accounts it reaches, with a suggested workspace id/name for registering it."""

    workspace_id: str
    name: str
    token: str
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class ScenarioSpec:
    accounts: tuple[AccountSpec, ...]
    workspaces: tuple[Workspace, ...]
    anchor: date = DEFAULT_ANCHOR
    history_days: int = 180
    # Planted anomalies (anomalies.py), applied to the daily metrics of the ads under their targets.
    anomalies: tuple[Anomaly, ...] = ()
    # Daily budgets sized to what their ads spend (88-98% pacing), as on Meta, instead of drawn independently.
    paced_budgets: bool = False
    # The scenario's "now" when no clock is passed (None: the wall clock).
    now: datetime | None = None
    # The name ids and draws are keyed by (None: the scenario's name). Two scenarios with the same world, seed and
    # shape have the same objects and numbers, apart from their anomalies.
    world: str | None = None
    # Breakdown cells get their conversions by a random (multinomial) split rather than a largest-remainder one,
    # which hands a small count to the biggest cells (metrics.breakdown_cells).
    random_cell_split: bool = False
    # None: every ad draws its own rates (CPM, CTR, conversion rates, order value: CPAs of one campaign's ads can
    # differ tenfold). A number: the campaign draws them once and each ad varies from them by lognormal(0, spread).
    ad_spread: float | None = None


def _ads(*statuses: str) -> tuple[str, ...]:
    return tuple(statuses)


# fmt: off
def _demo(seed: int) -> ScenarioSpec:
    del seed  # the demo's shape is fixed; the seed drives ids, dates and numbers
    acme_biz, globex_biz, initech_biz = "5550001001", "5550002001", "5550003001"
    accounts = (
        AccountSpec(
            1001, "Acme US", "USD", "America/Los_Angeles", acme_biz, "Acme Corp",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "PAUSED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "DELETED", "ARCHIVED")),
                )),
                CampaignSpec("ACTIVE", "OUTCOME_LEADS", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("PAUSED", _ads("ACTIVE", "ACTIVE")),
                )),
                CampaignSpec("ARCHIVED", "OUTCOME_TRAFFIC", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "ACTIVE")),
                )),
            ),
        ),
        AccountSpec(
            1002, "Acme EU", "EUR", "Europe/Berlin", acme_biz, "Acme Corp",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "DELETED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ARCHIVED")),
                )),
                CampaignSpec("PAUSED", "OUTCOME_LEADS", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("DELETED", _ads("ACTIVE", "ACTIVE")),
                )),
            ),
        ),
        AccountSpec(
            2001, "Globex Japan", "JPY", "Asia/Tokyo", globex_biz, "Globex Corporation",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "ACTIVE")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED")),
                )),
                CampaignSpec("ACTIVE", "OUTCOME_TRAFFIC", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "DELETED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "ARCHIVED")),
                )),
                CampaignSpec("DELETED", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("ACTIVE", _ads("PAUSED", "ACTIVE")),
                )),
            ),
        ),
        AccountSpec(
            3001, "Initech UK", "GBP", "Europe/London", initech_biz, "Initech Ltd",
            (
                CampaignSpec("ACTIVE", "OUTCOME_LEADS", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "DELETED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED", "ARCHIVED")),
                )),
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("ARCHIVED", _ads("ACTIVE", "ACTIVE")),
                )),
            ),
        ),
    )
    workspaces = (
        Workspace("acme", "Acme Corp", "sandbox-token-acme", ("act_1001", "act_1002")),
        Workspace("globex", "Globex Corporation", "sandbox-token-globex", ("act_2001",)),
        Workspace("initech", "Initech Ltd", "sandbox-token-initech", ("act_3001",)),
    )
    return ScenarioSpec(accounts=accounts, workspaces=workspaces, history_days=180)


def _small(seed: int) -> ScenarioSpec:
    del seed
    accounts = (
        AccountSpec(
            1101, "Small US", "USD", "America/New_York", "5551101001", "Small Co",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED")),
                    AdSetSpec("ACTIVE", _ads("ARCHIVED", "DELETED")),
                )),
            ),
        ),
        AccountSpec(
            1102, "Small EU", "EUR", "Europe/Paris", "5551101001", "Small Co",
            (
                CampaignSpec("ACTIVE", "OUTCOME_LEADS", (AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),)),
                CampaignSpec("ARCHIVED", "OUTCOME_SALES", (AdSetSpec("ACTIVE", _ads("ACTIVE")),)),
            ),
        ),
        AccountSpec(
            1201, "Tiny JP", "JPY", "Asia/Tokyo", "5551201001", "Tiny KK",
            (
                CampaignSpec("ACTIVE", "OUTCOME_TRAFFIC", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("DELETED", _ads("ACTIVE")),
                )),
            ),
        ),
    )
    workspaces = (
        Workspace("small-a", "Small Co", "sandbox-token-small-a", ("act_1101", "act_1102")),
        Workspace("small-b", "Tiny KK", "sandbox-token-small-b", ("act_1201",)),
    )
    return ScenarioSpec(accounts=accounts, workspaces=workspaces, history_days=120)
# fmt: on


def generate_spec(
    name: str,
    seed: int,
    *,
    accounts: int = 3,
    campaigns_per_account: int = 3,
    adsets_per_campaign: int = 2,
    ads_per_adset: int = 3,
    tokens: int | None = None,
    anchor: date = DEFAULT_ANCHOR,
    history_days: int = 180,
) -> ScenarioSpec:
    """A scenario shape of the given size. Every account with >= 4 ads gets PAUSED, ARCHIVED and DELETED ads;
    the first account's last campaign is ARCHIVED and one ad set is DELETED (when there are enough
    objects)."""
    if min(accounts, campaigns_per_account, adsets_per_campaign, ads_per_adset) < 1:
        raise ValueError("every count must be at least 1")
    rng = stable_rng(seed, name, "spec")
    n_tokens = max(1, min(accounts, tokens if tokens is not None else 3))
    account_specs: list[AccountSpec] = []
    for i in range(accounts):
        cur, tz = _LOCALES[i % len(_LOCALES)]
        campaigns: list[CampaignSpec] = []
        for c in range(campaigns_per_account):
            c_status = "ACTIVE" if c == 0 else rng.choices(("ACTIVE", "PAUSED", "ARCHIVED"), (80, 10, 10))[0]
            adsets: list[AdSetSpec] = []
            for s in range(adsets_per_campaign):
                s_status = "ACTIVE" if s == 0 else rng.choices(("ACTIVE", "PAUSED", "DELETED"), (85, 10, 5))[0]
                ad_statuses = [rng.choices(STATUSES, (78, 10, 6, 6))[0] for _ in range(ads_per_adset)]
                adsets.append(AdSetSpec(s_status, tuple(ad_statuses)))
            campaigns.append(CampaignSpec(c_status, rng.choice(OBJECTIVES), tuple(adsets)))
        campaigns = _force_status_mix(campaigns, first_account=(i == 0))
        account_specs.append(
            AccountSpec(
                number=10001 + i,
                name=f"{name.title()} Account {i + 1}",
                currency=cur,
                timezone_name=tz,
                business_id=str(5560000001 + (i % n_tokens) * 1000),
                business_name=f"{name.title()} Business {i % n_tokens + 1}",
                campaigns=tuple(campaigns),
            )
        )
    workspaces = tuple(
        Workspace(
            workspace_id=f"{name}-{k + 1}",
            name=f"{name.title()} Business {k + 1}",
            token=f"sandbox-token-{name}-{k + 1}",
            account_ids=tuple(f"act_{a.number}" for j, a in enumerate(account_specs) if j % n_tokens == k),
        )
        for k in range(n_tokens)
    )
    return ScenarioSpec(tuple(account_specs), workspaces, anchor=anchor, history_days=history_days)


def _force_status_mix(campaigns: list[CampaignSpec], *, first_account: bool) -> list[CampaignSpec]:
    """Guarantee the statuses tests rely on, whatever the draws were."""
    first = campaigns[0]
    slots = [(s, a) for s, adset in enumerate(first.adsets) for a in range(len(adset.ads))]
    if len(slots) >= 4:
        adsets = [list(adset.ads) for adset in first.adsets]
        for (s, a), status in zip(slots[1:4], ("PAUSED", "ARCHIVED", "DELETED"), strict=True):
            adsets[s][a] = status
        new_adsets = tuple(AdSetSpec("ACTIVE", tuple(ads)) for ads in adsets)
        campaigns[0] = CampaignSpec("ACTIVE", first.objective, new_adsets)
    if first_account and len(campaigns) >= 2:
        last = campaigns[-1]
        campaigns[-1] = CampaignSpec("ARCHIVED", last.objective, last.adsets)
        target = 1 if len(campaigns) >= 3 else 0
        chosen = campaigns[target]
        if len(chosen.adsets) >= 2:
            adsets = list(chosen.adsets)
            adsets[-1] = AdSetSpec("DELETED", adsets[-1].ads)
            campaigns[target] = CampaignSpec(chosen.status, chosen.objective, tuple(adsets))
    return campaigns


def _bench(seed: int) -> ScenarioSpec:
    return generate_spec(
        "bench",
        seed,
        accounts=20,
        campaigns_per_account=10,
        adsets_per_campaign=4,
        ads_per_adset=5,
        tokens=5,
        history_days=400,
    )


ScenarioBuilder = Callable[[int], ScenarioSpec]

# Builders by name, so `--scenario NAME` works. Add one with `register_scenario`.
SCENARIOS: dict[str, ScenarioBuilder] = {"demo": _demo, "small": _small, "bench": _bench}


def register_scenario(name: str, builder: ScenarioBuilder) -> None:
    """Make a scenario shape available by name."""
    SCENARIOS[name] = builder


# ----------------------------------------------------------------------------------------------------


def meta_time(dt: datetime) -> str:
    """Meta's object timestamp format: "2026-03-12T15:02:47-0700"."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S%z")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _effective(chain: list[str]) -> str:
    """Effective status from [own, parent, grandparent] configured statuses."""
    if "DELETED" in chain:
        return "DELETED"
    if "ARCHIVED" in chain:
        return "ARCHIVED"
    if chain[0] == "PAUSED":
        return "PAUSED"
    if chain[-1] == "PAUSED" and len(chain) > 1:
        return "CAMPAIGN_PAUSED"
    if len(chain) == 3 and chain[1] == "PAUSED":
        return "ADSET_PAUSED"
    return "ACTIVE"


def _short(objective: str) -> str:
    return objective.removeprefix("OUTCOME_").title()


def _min_date(*days: date | None) -> date | None:
    present = [d for d in days if d is not None]
    return min(present) if present else None


@dataclass
class _Index:
    accounts: dict[str, Account] = field(default_factory=dict)
    campaigns: dict[str, list[Campaign]] = field(default_factory=dict)
    adsets: dict[str, list[AdSet]] = field(default_factory=dict)
    ads: dict[str, list[Ad]] = field(default_factory=dict)
    creatives: dict[str, list[Creative]] = field(default_factory=dict)
    objects: dict[str, Account | Campaign | AdSet | Ad | Creative] = field(default_factory=dict)


class Scenario:
    """A deterministic world of ad accounts and their insights.

    `Scenario("demo", 42)` builds a registered shape; `Scenario.generate(...)` builds one of any size.
    `clock` (returning an aware datetime) sets "now": no insights exist after the account's today.
    `as_of` (a date, "today", or None) is the night the numbers are served as of: conversions of the 28 days
    before it are still arriving (so they restate from one `as_of` to the next) and no day after it has data.
    "today" follows each account's own today; None serves every day fully matured. It may be changed at any time
    (`scenario.as_of = date(...)`), e.g. to simulate the next night.
    """

    def __init__(
        self,
        name: str = "demo",
        seed: int = 42,
        *,
        spec: ScenarioSpec | None = None,
        clock: Callable[[], datetime] | None = None,
        as_of: date | str | None = None,
    ) -> None:
        if spec is None:
            try:
                builder = SCENARIOS[name]
            except KeyError:
                raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}") from None
            spec = builder(seed)
        self.name = name
        self.seed = seed
        self.spec = spec
        self._world = spec.world or name
        fixed_now = spec.now
        self._clock = clock or ((lambda: fixed_now) if fixed_now is not None else _utc_now)
        self._index = _Index()
        self._used_ids: set[str] = set()
        self._build()
        self._planted = self._resolve_anomalies()
        self._anomalies_of: dict[str, tuple[Anomaly, ...]] = {}
        for planted in self._planted:
            for ad_id in planted.ad_ids:
                self._anomalies_of[ad_id] = (*self._anomalies_of.get(ad_id, ()), planted.anomaly)
        if spec.paced_budgets:
            self._pace_budgets()
        self.tokens: dict[str, list[str]] = {w.token: list(w.account_ids) for w in spec.workspaces}
        self.as_of = as_of
        self._metrics = lru_cache(maxsize=262_144)(self._metrics_uncached)
        self._cells = lru_cache(maxsize=131_072)(self._cells_uncached)

    @property
    def as_of(self) -> date | str | None:
        return self._as_of

    @as_of.setter
    def as_of(self, value: date | str | None) -> None:
        if isinstance(value, str) and value != "today":
            value = date.fromisoformat(value)
        if value is not None and not isinstance(value, (date, str)):
            raise ValueError(f"as_of must be a date, 'today' or None, not {value!r}")
        self._as_of = value

    def as_of_for(self, account_id: str) -> date | None:
        """The as-of date in effect for the account (None: fully matured numbers)."""
        if self._as_of == "today":
            return self.today(account_id)
        return self._as_of  # type: ignore[return-value]

    @classmethod
    def generate(
        cls,
        name: str,
        seed: int,
        *,
        accounts: int = 3,
        campaigns_per_account: int = 3,
        adsets_per_campaign: int = 2,
        ads_per_adset: int = 3,
        tokens: int | None = None,
        anchor: date = DEFAULT_ANCHOR,
        history_days: int = 180,
        clock: Callable[[], datetime] | None = None,
        as_of: date | str | None = None,
    ) -> Scenario:
        """A scenario of the given size (e.g. 20 accounts x 200 ads for benchmarks)."""
        spec = generate_spec(
            name,
            seed,
            accounts=accounts,
            campaigns_per_account=campaigns_per_account,
            adsets_per_campaign=adsets_per_campaign,
            ads_per_adset=ads_per_adset,
            tokens=tokens,
            anchor=anchor,
            history_days=history_days,
        )
        return cls(name, seed, spec=spec, clock=clock, as_of=as_of)

    def __repr__(self) -> str:
        return f"Scenario(name={self.name!r}, seed={self.seed}, accounts={len(self._index.accounts)})"

    # ---- building -----------------------------------------------------------------------------------------

    def _new_id(self, prefix: str, *parts: object) -> str:
        attempt = 0
        while True:
            candidate = numeric_id(prefix, 17, self.seed, self._world, *parts, attempt)
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate
            attempt += 1

    def _build(self) -> None:
        spec = self.spec
        anchor = spec.anchor
        history = max(spec.history_days, 60)
        for a_spec in spec.accounts:
            tz = ZoneInfo(a_spec.timezone_name)
            number = str(a_spec.number)
            rng = stable_rng(self.seed, self._world, "account", number)
            account_created = max(EARLIEST_DATA, anchor - timedelta(days=history + rng.randint(30, 400)))
            account = Account(
                id=f"act_{number}",
                account_id=number,
                name=a_spec.name,
                currency=a_spec.currency,
                timezone_name=a_spec.timezone_name,
                business_id=a_spec.business_id,
                business_name=a_spec.business_name,
                created_time=self._local(rng, account_created, tz),
            )
            self._index.accounts[account.id] = account
            self._index.objects[account.id] = account
            for key in ("campaigns", "adsets", "ads", "creatives"):
                getattr(self._index, key)[account.id] = []
            for ci, c_spec in enumerate(a_spec.campaigns):
                self._build_campaign(account, tz, ci, c_spec, anchor, history)

    def _local(self, rng, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59), rng.randint(0, 59)), tz)

    def _status_change(self, rng, start: date, anchor: date) -> date:
        low, high = start + timedelta(days=20), anchor - timedelta(days=3)
        if low >= high:
            return low
        return low + timedelta(days=rng.randint(0, (high - low).days))

    def _lifecycle(self, rng, status: str, start: date, anchor: date) -> tuple[date | None, date | None]:
        """(day the status changed, last delivery day implied by the status) for a configured status."""
        if status == "ACTIVE":
            return None, None
        changed = self._status_change(rng, start, anchor)
        if status == "DELETED":
            # Deleted objects keep accruing for a few days after deletion.
            return changed, changed + timedelta(days=rng.randint(1, 5))
        return changed, changed

    def _build_campaign(
        self, account: Account, tz: ZoneInfo, ci: int, c_spec: CampaignSpec, anchor: date, history: int
    ) -> None:
        rng = stable_rng(self.seed, self._world, "campaign", account.account_id, ci)
        cid = self._new_id("2385", "campaign", account.account_id, ci)
        objective = c_spec.objective or rng.choice(OBJECTIVES)
        created_day = max(EARLIEST_DATA, anchor - timedelta(days=rng.randint(min(40, history), history)))
        created = self._local(rng, created_day, tz)
        start = created + timedelta(minutes=rng.randint(5, 36 * 60))
        rate = currency.usd_rate(account.currency)
        daily_usd = Decimal(rng.choice(_DAILY_BUDGETS_USD))
        daily_budget = lifetime_budget = None
        stop = None
        campaign_budget = rng.random() < 0.5
        if c_spec.budget is not None:  # fixed by the spec (the draws above and below happen all the same)
            campaign_budget = c_spec.budget == "campaign"
        if campaign_budget:
            if rng.random() < 0.3 and c_spec.budget is None:
                days = rng.randint(60, 240)
                stop = start + timedelta(days=days)
                lifetime_budget = currency.to_minor(
                    currency.quantize(daily_usd * rate, account.currency) * days, account.currency
                )
            else:
                daily_budget = currency.to_minor(
                    currency.quantize(daily_usd * rate, account.currency), account.currency
                )
        changed, status_end = self._lifecycle(rng, c_spec.status, start.date(), anchor)
        updated_day = changed or created_day + timedelta(days=rng.randint(0, max(0, (anchor - created_day).days // 2)))
        theme = rng.choice(_THEMES)
        campaign = Campaign(
            id=cid,
            account_id=account.account_id,
            name=f"{account.name} | {_short(objective)} | {theme} {ci + 1:02d}",
            status=c_spec.status,
            effective_status=_effective([c_spec.status]),
            objective=objective,
            daily_budget=daily_budget,
            lifetime_budget=lifetime_budget,
            bid_strategy=rng.choice(_BID_STRATEGIES),
            buying_type="AUCTION",
            created_time=created,
            updated_time=self._local(rng, updated_day, tz),
            start_time=start,
            stop_time=stop,
            delivery_end=_min_date(status_end, stop.date() if stop else None),
        )
        self._index.campaigns[account.id].append(campaign)
        self._index.objects[cid] = campaign
        scale = rng.lognormvariate(3.2, 0.6)  # campaign-level spend scale in USD per ad-day
        if c_spec.spend_usd is not None:
            scale = c_spec.spend_usd
        daily_only = c_spec.budget is not None
        for si, s_spec in enumerate(c_spec.adsets):
            self._build_adset(account, tz, campaign, si, s_spec, campaign_budget, scale, anchor, daily_only=daily_only)

    def _build_adset(
        self,
        account: Account,
        tz: ZoneInfo,
        campaign: Campaign,
        si: int,
        s_spec: AdSetSpec,
        campaign_budget: bool,
        scale: float,
        anchor: date,
        *,
        daily_only: bool = False,
    ) -> None:
        rng = stable_rng(self.seed, self._world, "adset", campaign.id, si)
        sid = self._new_id("2385", "adset", campaign.id, si)
        created_day = min(campaign.created_time.date() + timedelta(days=rng.randint(0, 7)), anchor - timedelta(days=25))
        created = max(campaign.created_time, self._local(rng, created_day, tz))
        start = max(campaign.start_time, created + timedelta(minutes=rng.randint(1, 600)))
        daily_budget = lifetime_budget = None
        end = None
        if not campaign_budget:
            daily_usd = Decimal(rng.choice(_DAILY_BUDGETS_USD)) / 2
            amount = currency.quantize(daily_usd * currency.usd_rate(account.currency), account.currency)
            if rng.random() < 0.25 and not daily_only:
                days = rng.randint(30, 180)
                end = start + timedelta(days=days)
                lifetime_budget = currency.to_minor(amount * days, account.currency)
            else:
                daily_budget = currency.to_minor(amount, account.currency)
        changed, status_end = self._lifecycle(rng, s_spec.status, start.date(), anchor)
        updated_day = changed or created_day + timedelta(days=rng.randint(0, max(0, (anchor - created_day).days // 2)))
        adset = AdSet(
            id=sid,
            account_id=account.account_id,
            campaign_id=campaign.id,
            name=f"{rng.choice(_AUDIENCES)} | {_short(campaign.objective)} | AS{si + 1:02d}",
            status=s_spec.status,
            effective_status=_effective([s_spec.status, campaign.status]),
            daily_budget=daily_budget,
            lifetime_budget=lifetime_budget,
            optimization_goal=rng.choice(_OPTIMIZATION_GOALS[campaign.objective]),
            billing_event="IMPRESSIONS",
            bid_strategy=campaign.bid_strategy,
            created_time=created,
            updated_time=self._local(rng, updated_day, tz),
            start_time=start,
            end_time=end,
            delivery_end=_min_date(campaign.delivery_end, status_end, end.date() if end else None),
        )
        self._index.adsets[account.id].append(adset)
        self._index.objects[sid] = adset
        for ai, status in enumerate(s_spec.ads):
            self._build_ad(account, tz, campaign, adset, ai, status, scale, anchor)

    def _build_ad(
        self,
        account: Account,
        tz: ZoneInfo,
        campaign: Campaign,
        adset: AdSet,
        ai: int,
        status: str,
        scale: float,
        anchor: date,
    ) -> None:
        rng = stable_rng(self.seed, self._world, "ad", adset.id, ai)
        ad_id = self._new_id("2385", "ad", adset.id, ai)
        creative_id = self._new_id("1202", "creative", adset.id, ai)
        created_day = min(adset.created_time.date() + timedelta(days=rng.randint(0, 10)), anchor - timedelta(days=20))
        created = max(adset.created_time, self._local(rng, created_day, tz))
        delivery_start = max(adset.start_time.date(), created.date() + timedelta(days=rng.randint(0, 1)))
        changed, status_end = self._lifecycle(rng, status, delivery_start, anchor)
        updated_day = changed or created_day + timedelta(days=rng.randint(0, max(0, (anchor - created_day).days // 2)))
        fmt, offer = rng.choice(_FORMATS), rng.choice(_OFFERS)
        name = f"AD{ai + 1:02d} - {fmt} - {offer}"
        objective = campaign.objective
        profile = AdProfile(
            currency=account.currency,
            objective=objective,
            base_spend_usd=min(250.0, max(3.0, scale * rng.lognormvariate(0.0, 0.5))),
            cpm_usd=rng.uniform(6.0, 22.0),
            ctr=rng.uniform(0.006, 0.028),
            link_share=rng.uniform(0.55, 0.9),
            frequency=rng.uniform(1.02, 1.5),
            lpv_rate=rng.uniform(0.5, 0.85),
            purchase_rate={"OUTCOME_SALES": rng.uniform(0.02, 0.07), "OUTCOME_LEADS": 0.0}.get(
                objective, rng.uniform(0.003, 0.012)
            ),
            lead_rate={"OUTCOME_LEADS": rng.uniform(0.05, 0.14), "OUTCOME_SALES": 0.0}.get(
                objective, rng.uniform(0.002, 0.01)
            ),
            onsite_share=rng.uniform(0.1, 0.35),
            aov_usd=rng.uniform(25.0, 140.0),
            zero_day_prob=rng.uniform(0.02, 0.12),
        )
        if self.spec.ad_spread is not None:
            profile = replace(profile, **self._campaign_economics(campaign, ad_id, self.spec.ad_spread))
        ad = Ad(
            id=ad_id,
            account_id=account.account_id,
            campaign_id=campaign.id,
            adset_id=adset.id,
            name=name,
            status=status,
            effective_status=_effective([status, adset.status, campaign.status]),
            creative_id=creative_id,
            created_time=created,
            updated_time=self._local(rng, updated_day, tz),
            delivery_start=delivery_start,
            delivery_end=_min_date(adset.delivery_end, status_end),
            profile=profile,
        )
        creative = Creative(
            id=creative_id,
            account_id=account.account_id,
            name=f"{name} creative",
            title=offer,
            body=f"{offer} - {fmt.lower()} for {account.name}",
            status="ACTIVE" if status != "DELETED" else "DELETED",
            object_type=_OBJECT_TYPES[fmt],
            call_to_action_type=_CALLS_TO_ACTION[objective],
            url_tags="utm_source=facebook&utm_medium=paid_social&utm_campaign={{campaign.name}}&utm_content={{ad.id}}",
            thumbnail_url=f"https://scontent.sandbox.invalid/v/t45.1600-4/{creative_id}_thumb.jpg",
        )
        self._index.ads[account.id].append(ad)
        self._index.creatives[account.id].append(creative)
        self._index.objects[ad_id] = ad
        self._index.objects[creative_id] = creative

    def _campaign_economics(self, campaign: Campaign, ad_id: str, spread: float) -> dict[str, float]:
        """An ad's rates as its campaign's (one draw per campaign) times its own lognormal(0, spread) factor each."""
        base = stable_rng(self.seed, self._world, "campaign-economics", campaign.id)
        objective = campaign.objective
        rates = {
            "cpm_usd": base.uniform(6.0, 22.0),
            "ctr": base.uniform(0.006, 0.028),
            "link_share": base.uniform(0.55, 0.9),
            "lpv_rate": base.uniform(0.5, 0.85),
            "purchase_rate": {"OUTCOME_SALES": base.uniform(0.02, 0.07), "OUTCOME_LEADS": 0.0}.get(
                objective, base.uniform(0.003, 0.012)
            ),
            "lead_rate": {"OUTCOME_LEADS": base.uniform(0.05, 0.14), "OUTCOME_SALES": 0.0}.get(
                objective, base.uniform(0.002, 0.01)
            ),
            "aov_usd": base.uniform(25.0, 140.0),
        }
        own = stable_rng(self.seed, self._world, "ad-economics", ad_id)
        out = {k: v * own.lognormvariate(0.0, spread) for k, v in rates.items()}
        out["link_share"] = min(0.95, out["link_share"])
        out["lpv_rate"] = min(0.95, out["lpv_rate"])
        return out

    def _resolve_anomalies(self) -> list[PlantedAnomaly]:
        """Each anomaly of the spec with its target object and the ads under it (by spec position)."""
        out: list[PlantedAnomaly] = []
        for anomaly in self.spec.anomalies:
            act = f"act_{anomaly.account}"
            if act not in self._index.accounts:
                raise ValueError(f"anomaly {anomaly.kind}: no account {anomaly.account} in the scenario")
            ads = self._index.ads[act]
            campaign_id = adset_id = None
            object_id = act
            try:
                if anomaly.campaign is not None:
                    campaign_id = object_id = self._index.campaigns[act][anomaly.campaign].id
                    ads = [a for a in ads if a.campaign_id == campaign_id]
                if anomaly.adset is not None:
                    adsets = [s for s in self._index.adsets[act] if s.campaign_id == campaign_id]
                    adset_id = object_id = adsets[anomaly.adset].id
                    ads = [a for a in ads if a.adset_id == adset_id]
                if anomaly.ad is not None:
                    ads = [ads[anomaly.ad]]
                    object_id = ads[0].id
            except IndexError:
                raise ValueError(f"anomaly {anomaly.kind}: its target is not in the spec: {anomaly}") from None
            out.append(
                PlantedAnomaly(
                    anomaly=anomaly,
                    level=anomaly.level,
                    object_id=object_id,
                    account_id=act,
                    campaign_id=campaign_id,
                    adset_id=adset_id,
                    ad_ids=tuple(a.id for a in ads),
                )
            )
        return out

    def _expected_daily_spend(self, ad: Ad) -> Decimal:
        """What an ad spends on an average day (account currency), with the delivery of anomalies that move their
        budget along (a budget raised into a concentration) and are still going on."""
        p = ad.profile
        usd = p.base_spend_usd * 1.046 * (1.0 - p.zero_day_prob)  # E[lognormal(0, 0.3)] = e^0.045
        for anomaly in self._anomalies_of.get(ad.id, ()):
            if anomaly.kind in BUDGET_FOLLOWS and anomaly.end is None:
                usd *= anomaly.factor
        return Decimal(f"{usd:.6f}") * currency.usd_rate(p.currency)

    def _pace_budgets(self) -> None:
        """Daily budgets sized to their delivering ads' expected spend, at 88-98% pacing (Meta spends close to a
        daily budget on average). Lifetime budgets are left as drawn."""
        for account in self._index.accounts.values():
            open_ads = [a for a in self._index.ads[account.id] if a.delivery_end is None]
            for key, parent in (("campaigns", "campaign_id"), ("adsets", "adset_id")):
                objects: list[Any] = getattr(self._index, key)[account.id]
                for i, obj in enumerate(objects):
                    if obj.daily_budget is None:
                        continue
                    spend = sum(
                        (self._expected_daily_spend(a) for a in open_ads if getattr(a, parent) == obj.id), Decimal(0)
                    )
                    if not spend:
                        continue
                    pacing = stable_rng(self.seed, self._world, "pacing", obj.id).uniform(0.88, 0.98)
                    step = Decimal(1) if currency.offset(account.currency) == 100 else Decimal(100)
                    budget = max(step, (spend / Decimal(f"{pacing:.4f}") / step).to_integral_value() * step)
                    paced = replace(obj, daily_budget=currency.to_minor(budget, account.currency))
                    objects[i] = paced
                    self._index.objects[obj.id] = paced

    # ---- objects ------------------------------------------------------------------------------------------

    @staticmethod
    def _act(account_id: str) -> str:
        return account_id if account_id.startswith("act_") else f"act_{account_id}"

    def accounts(self) -> list[Account]:
        """All ad accounts, in spec order."""
        return list(self._index.accounts.values())

    def account(self, account_id: str) -> Account:
        """The account ("act_1001" or "1001"); KeyError when unknown."""
        return self._index.accounts[self._act(account_id)]

    def has_account(self, account_id: str) -> bool:
        return self._act(account_id) in self._index.accounts

    def campaigns(self, account_id: str) -> list[Campaign]:
        """All campaigns of the account, archived and deleted included."""
        return list(self._index.campaigns[self._act(account_id)])

    def adsets(self, account_id: str) -> list[AdSet]:
        """All ad sets of the account, archived and deleted included."""
        return list(self._index.adsets[self._act(account_id)])

    def ads(self, account_id: str) -> list[Ad]:
        """All ads of the account, archived and deleted included."""
        return list(self._index.ads[self._act(account_id)])

    def creatives(self, account_id: str) -> list[Creative]:
        return list(self._index.creatives[self._act(account_id)])

    def campaign(self, campaign_id: str) -> Campaign:
        """A campaign by id; KeyError when unknown."""
        return self._typed(campaign_id, Campaign)

    def adset(self, adset_id: str) -> AdSet:
        """An ad set by id; KeyError when unknown."""
        return self._typed(adset_id, AdSet)

    def ad(self, ad_id: str) -> Ad:
        """An ad by id (archived and deleted included); KeyError when unknown."""
        return self._typed(ad_id, Ad)

    def _typed(self, object_id: str, kind: type) -> Any:
        obj = self._index.objects.get(object_id)
        if not isinstance(obj, kind):
            raise KeyError(object_id)
        return obj

    def get_object(self, object_id: str) -> Account | Campaign | AdSet | Ad | Creative | None:
        """Any object by id (accounts by "act_<n>"), or None."""
        return self._index.objects.get(object_id)

    def accounts_for_token(self, token: str) -> list[str]:
        """Account ids ("act_<n>") the token can read; empty for an unknown token."""
        return list(self.tokens.get(token, []))

    def workspaces(self) -> list[Workspace]:
        """One suggested workspace per token."""
        return list(self.spec.workspaces)

    def anomalies(self) -> list[PlantedAnomaly]:
        """The planted anomalies (spec order), each with the object it targets and the ads it touches."""
        return list(self._planted)

    # ---- time ---------------------------------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], datetime]:
        """The callable giving "now" (pass it to another Scenario to share the same time)."""
        return self._clock

    def now(self) -> datetime:
        """The scenario's current time (aware, UTC)."""
        return self._clock().astimezone(UTC)

    def today(self, account_id: str) -> date:
        """Today's date in the account's time zone: the last day that can have insights."""
        return self.now().astimezone(ZoneInfo(self.account(account_id).timezone_name)).date()

    def timezone_offset_hours(self, account_id: str) -> float:
        """The account time zone's current UTC offset in hours (Meta's timezone_offset_hours_utc)."""
        offset = self.now().astimezone(ZoneInfo(self.account(account_id).timezone_name)).utcoffset()
        hours = (offset or timedelta(0)).total_seconds() / 3600
        return int(hours) if hours.is_integer() else hours

    # ---- metrics and truth --------------------------------------------------------------------------------

    def _metrics_uncached(self, ad_id: str, day: date, as_of: date | None) -> AdDayMetrics | None:
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        planted = self._anomalies_of.get(ad_id)
        if planted:
            return ad_day_metrics(self.seed, ad, day, as_of, effect_on(planted, day))
        return ad_day_metrics(self.seed, ad, day, as_of)

    def _cells_uncached(
        self, ad_id: str, day: date, family: str, as_of: date | None
    ) -> list[tuple[Cell, AdDayMetrics]]:
        m = self._metrics(ad_id, day, as_of)
        if m is None:
            return []
        ad = self._index.objects[ad_id]
        assert isinstance(ad, Ad)
        planted = self._anomalies_of.get(ad_id)
        if planted or self.spec.random_cell_split:
            plan = cell_plan(planted, family, day) if planted else None
            return breakdown_cells(self.seed, ad, day, m, family, plan, random_split=self.spec.random_cell_split)
        return breakdown_cells(self.seed, ad, day, m, family)

    def ad_day(self, ad: Ad | str, day: date) -> AdDayMetrics | None:
        """One ad's metrics on one day (None when it did not deliver), as of `as_of`. Ignores "today"."""
        ad_obj = self.ad(ad) if isinstance(ad, str) else ad
        return self._metrics(ad_obj.id, day, self.as_of_for(ad_obj.account_id))

    def ad_day_cells(self, ad: Ad | str, day: date, family: str) -> list[tuple[Cell, AdDayMetrics]]:
        """One ad-day split into the cells of a breakdown family ("age_gender", "country", "placement", "device");
        the cells' additive metrics sum exactly to `ad_day(ad, day)`."""
        ad_obj = self.ad(ad) if isinstance(ad, str) else ad
        return self._cells(ad_obj.id, day, family, self.as_of_for(ad_obj.account_id))

    def truth(
        self,
        level: str,
        account_id: str,
        since: date,
        until: date,
        *,
        time_increment: TimeIncrement = 1,
        ad_filter: Callable[[Ad], bool] | None = None,
        ads: Iterable[Ad] | None = None,
        breakdowns: Iterable[str] | None = None,
    ) -> list[TruthRow]:
        """Exact insights rows of the account at `level` for [since, until] (account-timezone dates).

        Includes archived and deleted ads (insights cover everything that delivered). `ad_filter` or `ads`
        restricts the ads that count. `breakdowns` (one family's dimensions: ["age", "gender"], ["age"],
        ["country"], ["publisher_platform", "platform_position"], ["device_platform"], ...) splits each row by
        those values (`row.breakdown`). Rows are sorted by (date, campaign_id, adset_id, ad_id, breakdown).
        """
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        account = self.account(account_id)
        selected = self.ads(account.id) if ads is None else list(ads)
        if ad_filter is not None:
            selected = [ad for ad in selected if ad_filter(ad)]
        as_of = self.as_of_for(account.id)
        last_day = self.today(account.id) if as_of is None else min(as_of, self.today(account.id))
        return aggregate(
            seed=self.seed,
            metrics_of=lambda ad, day: self._metrics(ad.id, day, as_of),
            level=level,
            account=account,
            ads=selected,
            since=since,
            until=until,
            last_day=last_day,
            time_increment=time_increment,
            breakdowns=tuple(breakdowns or ()),
            cells_of=lambda ad, day, family: self._cells(ad.id, day, family, as_of),
        )

    def truth_daily(self, level: str, account_id: str, since: date, until: date) -> list[TruthRow]:
        """Daily rows at `level` (account | campaign | adset | ad)."""
        return self.truth(level, account_id, since, until, time_increment=1)

    def truth_ad_daily(self, account_id: str, since: date, until: date) -> list[TruthRow]:
        """Daily ad-level rows: what `level=ad, time_increment=1` insights return."""
        return self.truth("ad", account_id, since, until, time_increment=1)


def demo_workspaces(scenario: Scenario | None = None) -> list[Workspace]:
    """The demo's workspaces (acme, globex, initech) with their tokens and account ids."""
    return (scenario or Scenario("demo")).workspaces()
