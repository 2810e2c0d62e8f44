"""Building a scenario's world from its shape: every account, campaign, ad set, ad and creative with ids, names,
dates, budgets and delivery profiles drawn from (seed, world key), then the planted anomalies resolved to the ads
they touch and, if the spec asks, budgets paced to what their ads spend.

Keys are hashed (`rng.stable_rng`), never `hash()`: the same (spec, seed, key) gives the same world in any process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from graph_sandbox import currency
from graph_sandbox.anomalies import BUDGET_FOLLOWS, Anomaly, PlantedAnomaly
from graph_sandbox.model import Account, Ad, AdProfile, AdSet, Campaign, Creative
from graph_sandbox.rng import numeric_id, stable_rng
from graph_sandbox.specs import OBJECTIVES, REVIEW_STATUSES, AdSetSpec, CampaignSpec, ScenarioSpec

# Nothing delivers before this day.
EARLIEST_DATA = date(2023, 1, 1)
# Archived and deleted objects change status between these many days before the anchor (27 and 5: 2026-10-05 and
# 2026-10-27 for the default anchor), and deleted ones go on delivering for 1-5 days after.
HIDDEN_CHANGE_DAYS = (27, 5)

# What names, budgets, bid strategies and creatives are drawn from.
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
class World:
    """Every object of a scenario by account (archived and deleted included) and by id, and the planted anomalies
    with the ads each one touches."""

    accounts: dict[str, Account] = field(default_factory=dict)
    campaigns: dict[str, list[Campaign]] = field(default_factory=dict)
    adsets: dict[str, list[AdSet]] = field(default_factory=dict)
    ads: dict[str, list[Ad]] = field(default_factory=dict)
    creatives: dict[str, list[Creative]] = field(default_factory=dict)
    objects: dict[str, Account | Campaign | AdSet | Ad | Creative] = field(default_factory=dict)
    planted: list[PlantedAnomaly] = field(default_factory=list)
    anomalies_of: dict[str, tuple[Anomaly, ...]] = field(default_factory=dict)  # ad id -> its anomalies


def build_world(spec: ScenarioSpec, seed: int, key: str) -> World:
    """The objects of `spec` for `seed`; `key` is the name ids and draws are keyed by (the spec's `world`, else the
    scenario's name)."""
    return _Builder(spec, seed, key).build()


class _Builder:
    def __init__(self, spec: ScenarioSpec, seed: int, key: str) -> None:
        self.spec = spec
        self.seed = seed
        self._key = key
        self._index = World()
        self._used_ids: set[str] = set()
        self._anomalies_of: dict[str, tuple[Anomaly, ...]] = {}

    def build(self) -> World:
        self._build()
        planted = self._resolve_anomalies()
        for p in planted:
            for ad_id in p.ad_ids:
                self._anomalies_of[ad_id] = (*self._anomalies_of.get(ad_id, ()), p.anomaly)
        if self.spec.paced_budgets:
            self._pace_budgets()
        self._index.planted = planted
        self._index.anomalies_of = self._anomalies_of
        return self._index

    def _new_id(self, prefix: str, *parts: object) -> str:
        attempt = 0
        while True:
            candidate = numeric_id(prefix, 17, self.seed, self._key, *parts, attempt)
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
            rng = stable_rng(self.seed, self._key, "account", number)
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
                account_status=a_spec.account_status,
                disable_reason=a_spec.disable_reason,
                spend_cap_days_left=a_spec.spend_cap_days_left,
            )
            self._index.accounts[account.id] = account
            self._index.objects[account.id] = account
            for key in ("campaigns", "adsets", "ads", "creatives"):
                getattr(self._index, key)[account.id] = []
            for ci, c_spec in enumerate(a_spec.campaigns):
                self._build_campaign(account, tz, ci, c_spec, anchor, history)

    def _local(self, rng, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59), rng.randint(0, 59)), tz)

    def _status_change(self, rng, start: date, anchor: date, recent: bool = False) -> date:
        low, high = start + timedelta(days=20), anchor - timedelta(days=3)
        if recent:
            # Archived and deleted objects change status in the four weeks before the anchor (the tests' October
            # window), so their spend lies inside it: an extractor that lets Meta hide them loses that spend.
            low, high = (
                max(low, anchor - timedelta(days=HIDDEN_CHANGE_DAYS[0])),
                anchor - timedelta(days=HIDDEN_CHANGE_DAYS[1]),
            )
        if low >= high:
            return low
        return low + timedelta(days=rng.randint(0, (high - low).days))

    def _lifecycle(self, rng, status: str, start: date, anchor: date) -> tuple[date | None, date | None]:
        """(day the status changed, last delivery day implied by the status) for a configured status."""
        if status == "ACTIVE":
            return None, None
        changed = self._status_change(rng, start, anchor, recent=status in ("ARCHIVED", "DELETED"))
        if status == "DELETED":
            # Deleted objects keep accruing for a few days after deletion.
            return changed, changed + timedelta(days=rng.randint(1, 5))
        return changed, changed

    def _build_campaign(
        self, account: Account, tz: ZoneInfo, ci: int, c_spec: CampaignSpec, anchor: date, history: int
    ) -> None:
        rng = stable_rng(self.seed, self._key, "campaign", account.account_id, ci)
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
        rng = stable_rng(self.seed, self._key, "adset", campaign.id, si)
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
            learning=s_spec.learning,
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
        rng = stable_rng(self.seed, self._key, "ad", adset.id, ai)
        ad_id = self._new_id("2385", "ad", adset.id, ai)
        creative_id = self._new_id("1202", "creative", adset.id, ai)
        created_day = min(adset.created_time.date() + timedelta(days=rng.randint(0, 10)), anchor - timedelta(days=20))
        created = max(adset.created_time, self._local(rng, created_day, tz))
        delivery_start = max(adset.start_time.date(), created.date() + timedelta(days=rng.randint(0, 1)))
        # a review outcome is no configured status: the ad is ACTIVE and its effective status says the review
        review = status if status in REVIEW_STATUSES else None
        status = "ACTIVE" if review else status
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
            effective_status=review or _effective([status, adset.status, campaign.status]),
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
        base = stable_rng(self.seed, self._key, "campaign-economics", campaign.id)
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
        own = stable_rng(self.seed, self._key, "ad-economics", ad_id)
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
        """Daily budgets sized to their delivering ads' expected spend, at 80-90% pacing (Meta spends close to a
        daily budget on average; with headroom, the day and week caps of `budget_cap.py` rarely bind, so a week's
        random upswing is not cut off in most ad sets). Lifetime budgets are left as drawn."""
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
                    pacing = stable_rng(self.seed, self._key, "pacing", obj.id).uniform(0.80, 0.90)
                    step = Decimal(1) if currency.offset(account.currency) == 100 else Decimal(100)
                    budget = max(step, (spend / Decimal(f"{pacing:.4f}") / step).to_integral_value() * step)
                    paced = replace(obj, daily_budget=currency.to_minor(budget, account.currency))
                    objects[i] = paced
                    self._index.objects[obj.id] = paced
