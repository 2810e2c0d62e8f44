"""Scenario shapes: what exists (accounts, campaigns, ad sets, ads, their configured statuses) and which token
reaches which accounts. Ids, dates and numbers are not here: `world.py` draws them from the seed.

`generate_spec` builds a shape of any size; the named shapes are in `catalogue.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from graph_sandbox.anomalies import Anomaly
from graph_sandbox.rng import stable_rng

# Object dates are laid out relative to this fixed day, so a scenario does not change from day to day.
DEFAULT_ANCHOR = date(2026, 11, 1)

OBJECTIVES = ("OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC")
STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED")

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


# Ad "statuses" a spec may name that are review outcomes rather than configured statuses: the ad is configured
# ACTIVE and its effective_status is the named one (it delivers unless an anomaly stops it).
REVIEW_STATUSES = ("DISAPPROVED", "WITH_ISSUES")


@dataclass(frozen=True)
class AdSetSpec:
    status: str = "ACTIVE"
    ads: tuple[str, ...] = ("ACTIVE", "ACTIVE")
    # learning_stage_info to serve: (LEARNING | SUCCESS | FAIL, conversions, days since the last significant edit)
    learning: tuple[str, int, int] | None = None


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
    account_status: int = 1  # Meta's code: 2 DISABLED, 3 UNSETTLED, 9 IN_GRACE_PERIOD, ...
    disable_reason: int = 0
    spend_cap_days_left: float | None = None  # a spend cap that runs out this many days from now (None: no cap)


@dataclass(frozen=True)
class Workspace:
    """A token and the accounts it reaches, with a suggested workspace id/name for registering it."""

    workspace_id: str
    name: str
    token: str
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class TokenSpec:
    """What `GET /debug_token` and `GET /me/permissions` say about a token, and which accounts it reads.

    `kind` is debug_token's `type` (SYSTEM_USER or USER). Expiry in whole days from the scenario's today (UTC
    midnight): None never expires (`expires_at` 0); a negative `expires_in_days` is a token that has expired (every
    call with it fails 190/463). Without `ads_read` among `scopes`, calls about ad accounts fail with 200.
    """

    token: str
    account_ids: tuple[str, ...]
    kind: str = "SYSTEM_USER"
    expires_in_days: int | None = None
    data_access_expires_in_days: int | None = None
    scopes: tuple[str, ...] = ("ads_read", "business_management")
    declined: tuple[str, ...] = ()

    @property
    def expired(self) -> bool:
        return self.expires_in_days is not None and self.expires_in_days < 0


def workspace_token(ws: Workspace) -> TokenSpec:
    """A workspace's own token: a system user's, never expiring, reading every account of the workspace."""
    return TokenSpec(ws.token, ws.account_ids)


def token_variants(ws: Workspace) -> tuple[TokenSpec, ...]:
    """The kinds of token a customer may hand over, all for `ws`'s accounts: a user token expiring in 10 days, one
    whose data access expires in 5 days, one without `ads_read`, a system user's that reads only the first account,
    and one that expired 3 days ago. Named `<ws.token>-user`, `-data-access`, `-no-ads-read`, `-partial`,
    `-expired`."""
    return (
        TokenSpec(f"{ws.token}-user", ws.account_ids, "USER", 10, 80),
        TokenSpec(f"{ws.token}-data-access", ws.account_ids, "USER", 50, 5),
        TokenSpec(
            f"{ws.token}-no-ads-read",
            ws.account_ids,
            "USER",
            50,
            80,
            scopes=("public_profile",),
            declined=("ads_read",),
        ),
        TokenSpec(f"{ws.token}-partial", ws.account_ids[:1]),
        TokenSpec(f"{ws.token}-expired", ws.account_ids, "USER", -3, 60),
    )


@dataclass(frozen=True)
class ScenarioSpec:
    accounts: tuple[AccountSpec, ...]
    workspaces: tuple[Workspace, ...]
    anchor: date = DEFAULT_ANCHOR
    history_days: int = 180
    # Planted anomalies (anomalies.py), applied to the daily metrics of the ads under their targets.
    anomalies: tuple[Anomaly, ...] = ()
    # Daily budgets sized to what their ads spend (80-90% pacing), as on Meta, instead of drawn independently.
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
    # Tokens besides the workspaces' own (which are system users' tokens that never expire). None: the variants of
    # the first workspace's token (`token_variants`).
    extra_tokens: tuple[TokenSpec, ...] | None = None

    def token_specs(self) -> tuple[TokenSpec, ...]:
        """Every token of the scenario: the workspaces' own, then the extra ones."""
        extra = self.extra_tokens
        if extra is None:
            extra = token_variants(self.workspaces[0]) if self.workspaces else ()
        return (*(workspace_token(w) for w in self.workspaces), *extra)


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
    the first account's last campaign is ARCHIVED, the one before it DELETED (with 4 or more campaigns) and one ad
    set is DELETED (when there are enough objects). Archived and deleted objects change status in the weeks before
    the anchor (`world.HIDDEN_CHANGE_DAYS`), so their spend lies in the October window of the tests."""
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
        if len(campaigns) >= 4:
            before = campaigns[-2]
            campaigns[-2] = CampaignSpec("DELETED", before.objective, before.adsets)
        target = 1 if len(campaigns) >= 3 else 0
        chosen = campaigns[target]
        if len(chosen.adsets) >= 2:
            adsets = list(chosen.adsets)
            adsets[-1] = AdSetSpec("DELETED", adsets[-1].ads)
            campaigns[target] = CampaignSpec(chosen.status, chosen.objective, tuple(adsets))
    return campaigns
