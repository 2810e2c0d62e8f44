"""Every SQL block of docs/analysts.md on the dbt tests' build, with the edge cases the demo does not have.

The test of record runs the blocks on the demo's warehouse (tests/e2e/test_analyst_examples.py); this build's raw
data (tests/dbt_project/scenario.py) adds what a demo night cannot show: a campaign deleted mid-window that still
spent, an ad account shared by two workspaces, fixed figures to compare with. The queries anchor on the newest day
loaded, so they run on this build's October-November 2026 history as they run on the demo's last 29 days.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dbt_project.helpers import q
from tests.support.analyst_examples import CHECKS, check_block, sql_blocks, unmarked_duckdb_spellings


def test_the_doc_has_examples_for_every_topic():
    assert set(CHECKS) <= set(sql_blocks()), set(CHECKS) - set(sql_blocks())
    assert {
        "campaign-results",
        "top-ads",
        "reach-is-not-additive",
        "age-gender",
        "placement-share",
        "attribution-windows",
        "spend-per-currency",
        "campaign-week-over-week",
        "campaign-month-over-month",
        "maturity",
    } <= set(CHECKS)


def test_every_duckdb_only_spelling_is_marked_with_its_bigquery_form():
    unmarked = {name: lines for name, sql in sql_blocks().items() if (lines := unmarked_duckdb_spellings(sql))}
    assert not unmarked
    # the marker finds what it must: an unmarked date subtraction and date_trunc
    assert unmarked_duckdb_spellings("select max(date_day) - 27, date_trunc('month', d)\nfrom t") == [
        "select max(date_day) - 27, date_trunc('month', d)"
    ]


@pytest.mark.parametrize("name", sorted(sql_blocks()))
def test_example_runs_on_the_workspace_access_path(built, name):
    check_block(name, sql_blocks()[name], lambda sql: q(built.db, sql))


def _rows(built, name):
    return q(built.db, sql_blocks()[name])


def test_a_campaign_deleted_in_the_window_still_shows_with_its_spend(built):
    # acme/act_103's campaign c_1033 was deleted after delivering until 2026-10-20, inside the 28 days ending on the
    # newest day loaded (2026-11-03)
    rows = {r["campaign_name"]: r for r in _rows(built, "campaign-results")}
    deleted = q(built.db, "select campaign_name from marts.dim_campaigns where campaign_id = 'c_1033'")[0]
    assert rows[deleted["campaign_name"]]["spend"] > 0


def test_the_shared_account_counts_once_per_workspace(built):
    # act_101 is connected to acme and globex: acme's examples hold acme's rows of it, never globex's
    def per_currency(where: str) -> dict[str, Decimal]:
        rows = q(
            built.db,
            f"select account_currency, sum(spend) as spend from marts.fct_account_insights_daily where {where} "
            "group by account_currency",
        )
        return {r["account_currency"]: r["spend"] for r in rows}

    spend: dict[str, Decimal] = {}
    for r in _rows(built, "spend-per-currency"):
        spend[r["account_currency"]] = spend.get(r["account_currency"], Decimal(0)) + r["spend"]
    assert spend == per_currency("workspace_id = 'acme'")
    with_globex_101 = per_currency("workspace_id = 'acme' or (workspace_id = 'globex' and account_id = 'act_101')")
    assert spend != with_globex_101  # globex's rows of act_101 have spend of their own: they stayed out
    assert spend["EUR"] == Decimal("4.20")


def test_week_over_week_compares_whole_weeks_of_the_history(built):
    rows = _rows(built, "campaign-week-over-week")
    # act_103's history runs 2026-10-01 (a Thursday) .. 2026-11-03: the whole weeks are those of Oct 5, 12, 19, 26
    assert sorted({r["week_start"].isoformat() for r in rows}) == [
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    ]
    assert any(r["spend_week_before"] is not None for r in rows)
