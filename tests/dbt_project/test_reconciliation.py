"""The singular tests catch what they must, and only that: marts of a copy of the shared build are tampered with,
then `dbt test --select test_type:singular` runs once, with the window D1..D3 (as the nightly would).

The untouched build passed every one of these tests (test_dbt_project.py), including on acme/act_103 D3, where the
device report is not visible: a report not pulled for a date is a gap, not a mismatch.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from tests.dbt_project.helpers import failed
from tests.dbt_project.scenario import D1, D2, D3

TAMPER = [
    # breakdown cell money off by 0.02 (> 0.01): caught
    """update marts.fct_ad_insights_daily_by_country set spend = spend + 0.02
       where (workspace_id, ad_id, date_day, country) = ('acme', 'ad_1', date '2026-11-02', 'US')""",
    # breakdown cell count off by one: caught (counts are exact)
    """update marts.fct_ad_insights_daily_by_placement set impressions = impressions + 1
       where (workspace_id, ad_id, date_day, platform_position) = ('acme', 'ad_103111', date '2026-11-01', 'feed')""",
    # an ad missing from a breakdown on a date the report is visible: caught (compared with zeros)
    """delete from marts.fct_ad_insights_daily_by_device
       where (workspace_id, ad_id, date_day) = ('acme', 'ad_103212', date '2026-11-02')""",
    # money within the 0.01 tolerance (rounding): passes
    """update marts.fct_ad_insights_daily_by_age_gender set spend = spend + 0.005
       where (workspace_id, ad_id, date_day, age, gender) = ('acme', 'ad_1', date '2026-11-02', '25-34', 'female')""",
    # far off, but outside the run's window: rows outside were tested when built; passes
    """update marts.fct_ad_insights_daily_by_age_gender set spend = spend + 5
       where workspace_id = 'acme' and date_day = date '2026-10-10'""",
    # the account row no longer equals its ads
    """update marts.fct_account_insights_daily set impressions = impressions + 1
       where (workspace_id, account_id, date_day) = ('acme', 'act_101', date '2026-11-02')""",
    # a row without a workspace
    """insert into marts.dim_creatives (workspace_id, creative_id, account_id) values (null, 'cr_orphan', 'act_x')""",
]

EXPECTED_FAILURES = {
    "assert_breakdown_country_sums_to_ad_daily": 1,
    "assert_breakdown_placement_sums_to_ad_daily": 1,
    "assert_breakdown_device_sums_to_ad_daily": 1,
    "assert_ads_sum_to_accounts": 1,
    "assert_marts_have_workspace_id": 1,
}
EXPECTED_PASSES = {
    "assert_breakdown_age_gender_sums_to_ad_daily",
    "assert_ads_sum_to_campaigns",
    "assert_ads_sum_to_adsets",
}


WINDOW = (D1, D3)


@pytest.fixture(scope="module")
def results(after_build_runs):
    """`dbt test --select test_type:singular --store-failures` on the tampered copy, started right after the shared
    build (tests/dbt_project/runs.py: start_reconciliation)."""
    started = after_build_runs["test_reconciliation"]
    proc = started["run"].result()
    assert proc.returncode == 1, failed(proc)  # failing tests make `dbt test` exit 1, not crash
    return started["db"], {r["unique_id"].split(".")[2]: r for r in started["run"].run_results()["results"]}


def test_each_tampering_is_caught_by_its_test(results):
    _, results = results
    got = {name: r["failures"] for name, r in results.items() if r["status"] == "fail"}
    assert got == EXPECTED_FAILURES


def test_tolerance_and_window_let_the_rest_pass(results):
    _, results = results
    assert {name for name, r in results.items() if r["status"] == "pass"} == EXPECTED_PASSES


def test_the_failing_rows_name_the_tampered_keys(results):
    db, _ = results
    with duckdb.connect(str(db), read_only=True) as con:

        def stored(test: str) -> list[tuple]:
            cur = con.execute(f"select * from dbt_test__audit.{test}")
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

        (country,) = stored("assert_breakdown_country_sums_to_ad_daily")
        assert (country["ad_id"], country["date_day"]) == ("ad_1", D2)
        assert country["child_spend"] - country["parent_spend"] == Decimal("0.02")
        (device,) = stored("assert_breakdown_device_sums_to_ad_daily")
        assert (device["ad_id"], device["date_day"], device["child_impressions"]) == ("ad_103212", D2, 0)
        assert device["parent_impressions"] > 0
        (placement,) = stored("assert_breakdown_placement_sums_to_ad_daily")
        assert placement["child_impressions"] - placement["parent_impressions"] == 1
        (account,) = stored("assert_ads_sum_to_accounts")
        assert (account["account_id"], account["date_day"]) == ("act_101", D2)
        assert account["parent_impressions"] - account["child_impressions"] == 1
        assert stored("assert_marts_have_workspace_id") == [{"model_name": "dim_creatives"}]
