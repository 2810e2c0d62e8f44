"""Every fact mart against the Graph API sandbox's truth, to the cent, on any warehouse.

Two tests use it: the demo's DuckDB file (tests/e2e/test_every_mart_equals_truth.py) and the production path on the
BigQuery stand-in (tests/bigquery/test_pipeline_bigquery.py). A warehouse is reached through `Marts`: a way to run a
SELECT and a way to name a mart table (`marts.<table>` on DuckDB, `` `project.<prefix>marts.<table>` `` on
BigQuery), so both run the same checks with the same SQL. The expectations come from the sandbox's own generator
(what Meta would return), never from the pipeline's report specs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from graph_sandbox import Scenario
from graph_sandbox.model import FAMILIES

LEVEL_MARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "account": ("fct_account_insights_daily", ()),
    "campaign": ("fct_campaign_insights_daily", ("campaign_id",)),
    "adset": ("fct_adset_insights_daily", ("campaign_id", "adset_id")),
    "ad": ("fct_ad_insights_daily", ("campaign_id", "adset_id", "ad_id")),
}
FAMILY_MARTS = {
    "age_gender": "fct_ad_insights_daily_by_age_gender",
    "country": "fct_ad_insights_daily_by_country",
    "placement": "fct_ad_insights_daily_by_placement",
    "device": "fct_ad_insights_daily_by_device",
}
ACTIONS_MART = "fct_ad_actions_daily"
FACT_MARTS = frozenset({*(table for table, _ in LEVEL_MARTS.values()), *FAMILY_MARTS.values(), ACTIONS_MART})
FIGURES = ("spend", "impressions", "clicks", "inline_link_clicks", "reach")

Windows = dict[tuple[str, str], tuple[date, date]]


@dataclass(frozen=True)
class Marts:
    """How to read one warehouse's marts: `fetch(sql)` returns the rows of a SELECT as tuples in the select list's
    order; `table(name)` is the SQL name of the mart `name`."""

    fetch: Callable[[str], Sequence[Sequence[Any]]]
    table: Callable[[str], str]


@dataclass(frozen=True)
class Comparison:
    """One mart's rows and the truth's, keyed by the mart's grain."""

    mart: str
    got: dict[tuple, Any]
    expected: dict[tuple, Any]

    @property
    def holds(self) -> bool:
        return bool(self.expected) and self.got == self.expected

    def describe(self, limit: int = 5) -> str:
        """What differs, briefly: the counts, and the first keys missing, unexpected or with other figures."""
        missing = sorted(set(self.expected) - set(self.got), key=repr)
        extra = sorted(set(self.got) - set(self.expected), key=repr)
        differ = sorted(
            (k for k in self.got.keys() & self.expected.keys() if self.got[k] != self.expected[k]), key=repr
        )
        lines = [f"{self.mart}: {len(self.got)} rows, {len(self.expected)} expected"]
        lines += [f"  missing {k}: expected {self.expected[k]}" for k in missing[:limit]]
        lines += [f"  unexpected {k}: {self.got[k]}" for k in extra[:limit]]
        lines += [f"  differs {k}: got {self.got[k]}, expected {self.expected[k]}" for k in differ[:limit]]
        return "\n".join(lines)


def _bare(account_id: str) -> str:
    return account_id.removeprefix("act_")


def currencies(marts: Marts) -> set[str]:
    return {c for (c,) in marts.fetch(f"select distinct account_currency from {marts.table('dim_ad_accounts')}")}


def timezones(scenario: Scenario) -> set[str]:
    """The time zones of every account of every workspace of the scenario."""
    return {scenario.account(a).timezone_name for w in scenario.workspaces() for a in w.account_ids}


def account_windows(marts: Marts, scenario: Scenario, days: int | None = None) -> Windows:
    """(workspace_id, bare account id) -> the [first, last] day the marts hold for it (the night's window). Every
    account of every workspace of the scenario must be there, and no other; with `days`, each window must span
    exactly that many days (the night's restatement window: the scenario's active ads deliver every day)."""
    rows = marts.fetch(
        "select workspace_id, account_id, min(date_day), max(date_day) "
        f"from {marts.table('fct_account_insights_daily')} group by workspace_id, account_id"
    )
    spans = {(w, _bare(a)): (lo, hi) for w, a, lo, hi in rows}
    expected = {(w.workspace_id, _bare(a)) for w in scenario.workspaces() for a in w.account_ids}
    assert set(spans) == expected, f"accounts in the marts {sorted(spans)}, in the scenario {sorted(expected)}"
    if days is not None:
        lengths = {key: (hi - lo).days + 1 for key, (lo, hi) in spans.items()}
        assert all(n == days for n in lengths.values()), f"days per account {lengths}, expected {days} each"
    return spans


def _mart_rows(marts: Marts, table: str, keys: tuple[str, ...]) -> dict[tuple, tuple]:
    cols = ", ".join(("workspace_id", "account_id", "date_day", *keys, *FIGURES))
    out: dict[tuple, tuple] = {}
    for row in marts.fetch(f"select {cols} from {marts.table(table)}"):
        head = (row[0], _bare(row[1]), row[2], *row[3 : 3 + len(keys)])
        assert head not in out, f"{table}: {head} twice"
        out[head] = tuple(Decimal(str(v)) for v in row[3 + len(keys) :])
    return out


def _truth_figures(t) -> tuple:
    return tuple(Decimal(str(getattr(t, f))) for f in FIGURES)


def level(marts: Marts, scenario: Scenario, name: str, windows: Windows) -> Comparison:
    """The level mart `name` (account, campaign, adset, ad) against the truth at that level."""
    table, keys = LEVEL_MARTS[name]
    expected = {}
    for (ws, account), (lo, hi) in windows.items():
        for t in scenario.truth_daily(name, f"act_{account}", lo, hi):
            ids = {"campaign_id": t.campaign_id, "adset_id": t.adset_id, "ad_id": t.ad_id}
            expected[(ws, account, t.date, *(ids[k] for k in keys))] = _truth_figures(t)
    return Comparison(table, _mart_rows(marts, table, keys), expected)


def breakdown(marts: Marts, scenario: Scenario, family: str, windows: Windows) -> Comparison:
    """The ad-level mart of a breakdown family against the truth broken down by the family's dimensions."""
    dims = FAMILIES[family]
    expected = {}
    for (ws, account), (lo, hi) in windows.items():
        for t in scenario.truth("ad", f"act_{account}", lo, hi, breakdowns=dims):
            values = t.breakdowns
            expected[(ws, account, t.date, t.ad_id, *(values[d] for d in dims))] = _truth_figures(t)
    table = FAMILY_MARTS[family]
    return Comparison(table, _mart_rows(marts, table, ("ad_id", *dims)), expected)


def actions(marts: Marts, scenario: Scenario, windows: Windows) -> Comparison:
    """Actions and action values per ad, day, action type and attribution window; zero figures are absent on both
    sides (the truth lists only non-zero ones)."""
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for (ws, account), (lo, hi) in windows.items():
        for t in scenario.truth_daily("ad", f"act_{account}", lo, hi):
            for a in t.actions:
                if a.metric in ("actions", "action_values"):
                    expected[(ws, account, t.date, t.ad_id, a.action_type, a.window, a.metric)] += a.value
    got: dict[tuple, Decimal] = {}
    rows = marts.fetch(
        "select workspace_id, account_id, date_day, ad_id, action_type, attribution_window, actions, action_values "
        f"from {marts.table(ACTIONS_MART)}"
    )
    for ws, account, day, ad, action_type, window, n, value in rows:
        for metric, v in (("actions", n), ("action_values", value)):
            if v is not None and v != 0:
                key = (ws, _bare(account), day, ad, action_type, window, metric)
                assert key not in got, f"{ACTIONS_MART}: {key} twice"
                got[key] = Decimal(str(v))
    return Comparison(ACTIONS_MART, got, {k: v for k, v in expected.items() if v != 0})


def every_fact_mart(marts: Marts, scenario: Scenario, windows: Windows) -> list[Comparison]:
    """The four levels, the four breakdown families and the actions: one comparison per fact mart."""
    return [
        *(level(marts, scenario, name, windows) for name in LEVEL_MARTS),
        *(breakdown(marts, scenario, family, windows) for family in FAMILY_MARTS),
        actions(marts, scenario, windows),
    ]
