"""Deterministic sandbox scenarios: tokens, ad accounts, campaigns, ad sets, ads, and their exact insights.

A `Scenario` is built from (name, seed); the same pair gives identical objects and metrics in any process.
The truth methods (`truth`, `truth_daily`, `truth_ad_daily`) are what the sandbox API serves and what tests
compare the warehouse with.

Where the parts live: the shapes (`specs.py`) and the named ones (`catalogue.py`), building the objects of a shape
(`world.py`), looking them up (`queries.py`, the base of `Scenario`), the numbers (`truth.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from graph_sandbox.aggregate import TimeIncrement
from graph_sandbox.anomalies import Cell
from graph_sandbox.catalogue import spec_for
from graph_sandbox.metrics import AdDayMetrics
from graph_sandbox.model import LEVELS, Ad, TruthRow
from graph_sandbox.queries import ObjectQueries
from graph_sandbox.specs import DEFAULT_ANCHOR, ScenarioSpec, Workspace, generate_spec
from graph_sandbox.truth import GroundTruth
from graph_sandbox.world import build_world

# "today" or "today-N": relative to each account's own today.
_RELATIVE_AS_OF = re.compile(r"today(?:-(\d{1,3}))?")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Scenario(ObjectQueries):
    """A deterministic world of ad accounts and their insights.

    `Scenario("demo", 42)` builds a registered shape; `Scenario.generate(...)` builds one of any size.
    `clock` (returning an aware datetime) sets "now": no insights exist after the account's today.
    `as_of` (a date, "today", "today-N", or None) is the last day whose activity the numbers include (as they
    stand at its end): conversions of the 28 days before it are still arriving, so a day D restates from one
    `as_of` to the next up to `as_of` = D + 28 (Meta: insights "do not change after 28 days of being reported"),
    and no day after it has data. "today" follows each account's own today, "today-1" its yesterday (what a nightly
    run early in the morning sees); None serves every day fully matured. It may be changed at any time
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
            spec = spec_for(name, seed)
        self.name = name
        self.seed = seed
        self.spec = spec
        self._world = spec.world or name
        fixed_now = spec.now
        self._clock = clock or ((lambda: fixed_now) if fixed_now is not None else _utc_now)
        world = build_world(spec, seed, self._world)
        super().__init__(world, spec.workspaces, spec.token_specs())
        self.as_of = as_of
        self._truth = GroundTruth(seed, world, random_cell_split=spec.random_cell_split)
        # (account, its today) -> amount spent, major units (state_fields.amount_spent)
        self.amount_spent_cache: dict[tuple[str, date], Decimal] = {}

    @property
    def as_of(self) -> date | str | None:
        return self._as_of

    @as_of.setter
    def as_of(self, value: date | str | None) -> None:
        if isinstance(value, str):
            value = value.strip()
            match = _RELATIVE_AS_OF.fullmatch(value)
            if match is None:
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"as_of must be YYYY-MM-DD, 'today' or 'today-N', not {value!r}") from None
            elif match.group(1) in (None, "0"):
                value = "today"
        if value is not None and not isinstance(value, (date, str)):
            raise ValueError(f"as_of must be a date, 'today', 'today-N' or None, not {value!r}")
        self._as_of = value

    def as_of_for(self, account_id: str) -> date | None:
        """The as-of date in effect for the account (None: fully matured numbers)."""
        if isinstance(self._as_of, str):
            match = _RELATIVE_AS_OF.fullmatch(self._as_of)
            back = int(match.group(1) or 0) if match else 0
            return self.today(account_id) - timedelta(days=back)
        return self._as_of

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

    def ad_day(self, ad: Ad | str, day: date) -> AdDayMetrics | None:
        """One ad's metrics on one day (None when it did not deliver), as of `as_of`. Ignores "today"."""
        ad_obj = self.ad(ad) if isinstance(ad, str) else ad
        return self._truth.metrics(ad_obj.id, day, self.as_of_for(ad_obj.account_id))

    def ad_day_spend(self, ad_id: str, day: date) -> Decimal:
        """The spend an ad-day reports (0 when it has no row), from its first draws only: cheap enough to add up an
        account's whole history (`amount_spent`). Spend does not depend on `as_of`."""
        return self._truth.spend(ad_id, day)

    def ad_day_cells(self, ad: Ad | str, day: date, family: str) -> list[tuple[Cell, AdDayMetrics]]:
        """One ad-day split into the cells of a breakdown family ("age_gender", "country", "placement", "device");
        the cells' additive metrics sum exactly to `ad_day(ad, day)`."""
        ad_obj = self.ad(ad) if isinstance(ad, str) else ad
        return self._truth.cells(ad_obj.id, day, family, self.as_of_for(ad_obj.account_id))

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
        return self._truth.rows(
            level,
            account,
            selected,
            since,
            until,
            last_day=last_day,
            as_of=as_of,
            time_increment=time_increment,
            breakdowns=tuple(breakdowns or ()),
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
