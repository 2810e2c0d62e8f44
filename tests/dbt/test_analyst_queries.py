"""Every example query of docs/analysts.md runs on the demo-like build and says what the doc says it shows.

Examples are the fenced blocks opened with ```sql example=<name>. They read the workspace's access path (ws_acme),
as analysts do; each must return rows, and a few statements of the doc are checked on the result.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlglot

from tests.dbt.helpers import REPO, q

DOC = REPO / "docs" / "analysts.md"
EXAMPLE = re.compile(r"^```sql example=([a-z0-9-]+)\n(.*?)^```", re.S | re.M)


def examples() -> dict[str, str]:
    found = EXAMPLE.findall(DOC.read_text())
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), "example names must be unique"
    return dict(found)


def test_the_doc_has_examples_for_every_topic():
    assert set(examples()) == {
        "campaign-month",
        "top-ads",
        "reach-is-not-additive",
        "age-gender",
        "placement-share",
        "attribution-windows",
        "spend-per-currency",
        "maturity",
    }


def _check_campaign_month(rows: list[dict[str, Any]]) -> None:
    # the campaign deleted mid-October (acme/act_103) still spent that month: it is in the report
    assert {r["campaign_name"] for r in rows} == {"Brand awareness", "Spring sale", "Clearance"}
    for r in rows:
        assert r["ctr"] == pytest.approx(r["clicks"] / r["impressions"])


def _check_reach(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 7
    assert all(r["account_reach"] <= r["sum_of_ad_reach_do_not_use"] for r in rows)
    assert any(r["account_reach"] < r["sum_of_ad_reach_do_not_use"] for r in rows)


def _check_placement(rows: list[dict[str, Any]]) -> None:
    assert sum(r["share_of_spend"] for r in rows) == pytest.approx(1.0)


def _check_windows(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 7
    assert all(r["purchases_1d_click"] <= r["purchases_7d_click"] for r in rows if r["purchases_1d_click"] is not None)


def _check_currency(rows: list[dict[str, Any]]) -> None:
    assert {r["account_currency"] for r in rows} == {"USD", "EUR"}
    assert sum(r["spend"] for r in rows if r["account_currency"] == "EUR") == Decimal("4.20")


CHECKS = {
    "campaign-month": _check_campaign_month,
    "reach-is-not-additive": _check_reach,
    "placement-share": _check_placement,
    "attribution-windows": _check_windows,
    "spend-per-currency": _check_currency,
}


@pytest.mark.parametrize("name", sorted(examples()))
def test_example_runs_on_the_workspace_access_path(built, name):
    sql = examples()[name]
    assert "ws_acme." in sql and "marts." not in sql, "examples read the workspace's views, never the marts"
    rows = q(built.db, sql)
    assert rows, f"example {name} returned nothing"
    CHECKS.get(name, lambda _: None)(rows)
    # and it has a BigQuery rendering (the doc notes the two DuckDB-only spellings)
    sqlglot.transpile(sql, read="duckdb", write="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
