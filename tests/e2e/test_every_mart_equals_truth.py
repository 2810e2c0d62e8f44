"""After `sentrum demo` (three workspaces, accounts in several currencies and timezones), every fact mart equals the
Graph API sandbox's truth to the cent: the four levels, the four breakdown families and the action figures under each
attribution window. The expectations come from the sandbox's own generator (what Meta would return), never from the
pipeline's report specs; the comparisons live in tests/support/mart_truth.py (the BigQuery path runs them too)."""

from __future__ import annotations

import duckdb
import pytest

from graph_sandbox import Scenario
from tests.support import mart_truth


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario("demo", 42)  # what `sentrum demo` serves (same name and seed, today's dates)


@pytest.fixture(scope="module")
def marts(demo):
    with duckdb.connect(str(demo.duckdb_file), read_only=True) as con:
        yield mart_truth.Marts(fetch=lambda sql: con.execute(sql).fetchall(), table=lambda name: f"marts.{name}")


@pytest.fixture(scope="module")
def windows(marts, scenario) -> mart_truth.Windows:
    return mart_truth.account_windows(marts, scenario)


def test_the_demo_covers_several_currencies_and_timezones(marts, scenario):
    currencies = mart_truth.currencies(marts)
    timezones = mart_truth.timezones(scenario)
    assert len(currencies) >= 2 and len(timezones) >= 2, (currencies, timezones)
    assert len(scenario.workspaces()) >= 3


@pytest.mark.parametrize("level", list(mart_truth.LEVEL_MARTS))
def test_each_level_mart_equals_the_truth(marts, scenario, windows, level):
    c = mart_truth.level(marts, scenario, level, windows)
    assert c.holds, c.describe()


@pytest.mark.parametrize("family", list(mart_truth.FAMILY_MARTS))
def test_each_breakdown_mart_equals_the_truth(marts, scenario, windows, family):
    c = mart_truth.breakdown(marts, scenario, family, windows)
    assert c.holds, c.describe()


def test_the_actions_mart_equals_the_truth_under_every_window(marts, scenario, windows):
    c = mart_truth.actions(marts, scenario, windows)
    assert c.holds, c.describe()
