"""The per-workspace access layer on DuckDB: schema `ws_<escaped workspace_id>` with one view per mart, filtered on it.

The shared build passed `sentrum_workspaces` (acme, globex, initech-eu): its on-run-end created the layer. acme and
globex share the ad account act_101, so a filter on account_id instead of workspace_id would leak; the hyphenated
id needs quoting. (Dropping a workspace's schema when it leaves the list: test_incremental.py.)
"""

from __future__ import annotations

import itertools

import pytest

from tests.dbt_project.helpers import q
from tests.dbt_project.marts import MARTS
from tests.dbt_project.scenario import WORKSPACES


def access_schema(workspace_id: str) -> str:
    """The documented naming: `_` written `__`, `-` written `_h` (plain identifiers on every backend)."""
    return "ws_" + workspace_id.replace("_", "__").replace("-", "_h")


def test_every_active_workspace_has_a_view_per_mart(built):
    views = q(
        built.db,
        "select table_schema, table_name, table_type from information_schema.tables where table_schema like 'ws_%'",
    )
    assert {(v["table_schema"], v["table_name"]) for v in views} == {
        (access_schema(w), m) for w in WORKSPACES for m in MARTS
    }
    assert {v["table_type"] for v in views} == {"VIEW"}


@pytest.mark.parametrize("mart", sorted(MARTS))
def test_a_workspace_sees_all_of_its_rows_and_none_of_the_others(built, mart):
    totals = {
        r["workspace_id"]: r["n"]
        for r in q(built.db, f"select workspace_id, count(*) as n from marts.{mart} group by workspace_id")
    }
    for workspace in WORKSPACES:
        seen = q(
            built.db, f"select workspace_id, count(*) as n from {access_schema(workspace)}.{mart} group by workspace_id"
        )
        assert {r["workspace_id"]: r["n"] for r in seen} == (
            {workspace: totals[workspace]} if workspace in totals else {}
        )
    for a, b in itertools.permutations(WORKSPACES, 2):
        leaked = q(built.db, f"select count(*) as n from {access_schema(a)}.{mart} where workspace_id = ?", [b])
        assert leaked[0]["n"] == 0, (a, b, mart)


def test_shared_account_rows_stay_with_their_workspace(built):
    def act_101(workspace: str) -> list[dict]:
        return q(
            built.db,
            f"select distinct workspace_id, spend from {access_schema(workspace)}.fct_ad_insights_daily "
            "where account_id = 'act_101'",
        )

    acme, globex = act_101("acme"), act_101("globex")
    assert {r["workspace_id"] for r in acme} == {"acme"} and {r["workspace_id"] for r in globex} == {"globex"}
    assert [r["spend"] for r in globex] == [11]  # globex's own pull of the shared account, not acme's numbers


def test_views_name_the_marts_without_a_catalog(built):
    sql = q(built.db, "select sql from duckdb_views() where schema_name = 'ws_initech_heu' and view_name = 'dim_ads'")
    text = sql[0]["sql"].lower()
    assert "marts.dim_ads" in text.replace('"', "") and "workspace_id = 'initech-eu'" in text
    assert "warehouse." not in text  # copies of the file, attached under any name, keep working
