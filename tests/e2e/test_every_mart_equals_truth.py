"""After `sentrum demo` (three workspaces, accounts in several currencies and timezones), every fact mart equals the
Graph API sandbox's truth to the cent: the four levels, the four breakdown families and the action figures under each
attribution window. The expectations come from the sandbox's own generator (what Meta would return), never from the
pipeline's report specs."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest

from graph_sandbox import Scenario
from graph_sandbox.model import FAMILIES

LEVEL_MARTS = {
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
FIGURES = ("spend", "impressions", "clicks", "inline_link_clicks", "reach")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario("demo", 42)  # what `sentrum demo` serves (same name and seed, today's dates)


@pytest.fixture(scope="module")
def con(demo):
    with duckdb.connect(str(demo.duckdb_file), read_only=True) as c:
        yield c


def _bare(account_id: str) -> str:
    return account_id.removeprefix("act_")


def _windows(con, scenario):
    """(workspace_id, account_id) -> the [first, last] day the marts hold for it (the night's window)."""
    rows = con.execute(
        "select workspace_id, account_id, min(date_day), max(date_day) from marts.fct_account_insights_daily "
        "group by all"
    ).fetchall()
    spans = {(w, _bare(a)): (lo, hi) for w, a, lo, hi in rows}
    expected = {(w.workspace_id, _bare(a)) for w in scenario.workspaces() for a in w.account_ids}
    assert set(spans) == expected  # every account of every workspace, none other
    return spans


def _mart(con, table: str, keys: tuple[str, ...]) -> dict[tuple, tuple]:
    cols = ", ".join(("workspace_id", "account_id", "date_day", *keys, *FIGURES))
    out = {}
    for row in con.execute(f"select {cols} from marts.{table}").fetchall():
        head = (row[0], _bare(row[1]), row[2], *row[3 : 3 + len(keys)])
        assert head not in out, f"{table}: {head} twice"
        out[head] = tuple(Decimal(str(v)) for v in row[3 + len(keys) :])
    return out


def _truth_figures(t) -> tuple:
    return tuple(Decimal(str(getattr(t, f))) for f in FIGURES)


def test_the_demo_covers_several_currencies_and_timezones(con, scenario):
    currencies = {c for (c,) in con.execute("select distinct account_currency from marts.dim_ad_accounts").fetchall()}
    timezones = {scenario.account(a).timezone_name for w in scenario.workspaces() for a in w.account_ids}
    assert len(currencies) >= 2 and len(timezones) >= 2, (currencies, timezones)
    assert len(scenario.workspaces()) >= 3


@pytest.mark.parametrize("level", list(LEVEL_MARTS))
def test_each_level_mart_equals_the_truth(con, scenario, level):
    table, keys = LEVEL_MARTS[level]
    expected = {}
    for (ws, account), (lo, hi) in _windows(con, scenario).items():
        for t in scenario.truth_daily(level, f"act_{account}", lo, hi):
            ids = {"campaign_id": t.campaign_id, "adset_id": t.adset_id, "ad_id": t.ad_id}
            expected[(ws, account, t.date, *(ids[k] for k in keys))] = _truth_figures(t)
    got = _mart(con, table, keys)
    assert expected and got == expected


@pytest.mark.parametrize("family", list(FAMILY_MARTS))
def test_each_breakdown_mart_equals_the_truth(con, scenario, family):
    dims = FAMILIES[family]
    keys = ("ad_id", *dims)
    expected = {}
    for (ws, account), (lo, hi) in _windows(con, scenario).items():
        for t in scenario.truth("ad", f"act_{account}", lo, hi, breakdowns=dims):
            values = t.breakdowns
            expected[(ws, account, t.date, t.ad_id, *(values[d] for d in dims))] = _truth_figures(t)
    got = _mart(con, FAMILY_MARTS[family], keys)
    assert expected and got == expected


def test_the_actions_mart_equals_the_truth_under_every_window(con, scenario):
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for (ws, account), (lo, hi) in _windows(con, scenario).items():
        for t in scenario.truth_daily("ad", f"act_{account}", lo, hi):
            for a in t.actions:
                if a.metric in ("actions", "action_values"):
                    expected[(ws, account, t.date, t.ad_id, a.action_type, a.window, a.metric)] += a.value
    got: dict[tuple, Decimal] = {}
    rows = con.execute(
        "select workspace_id, account_id, date_day, ad_id, action_type, attribution_window, actions, action_values "
        "from marts.fct_ad_actions_daily"
    ).fetchall()
    for ws, account, day, ad, action_type, window, actions, values in rows:
        for metric, v in (("actions", actions), ("action_values", values)):
            if v is not None and v != 0:
                key = (ws, _bare(account), day, ad, action_type, window, metric)
                assert key not in got, key
                got[key] = Decimal(str(v))
    assert expected and got == {k: v for k, v in expected.items() if v != 0}
