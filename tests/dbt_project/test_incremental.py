"""The incremental path equals a full refresh inside the window and leaves everything outside it untouched.

From the shared build: raw data changes inside the window D2..D3 (restatements, a date restated to nothing, a gap
filled) and outside it (D1, October). Then, on two copies of the same raw data, concurrently:
- `dbt build` with the window vars (incremental: deletes the window's dates, inserts them again);
- `dbt build --full-refresh`.
Every fact must be equal row for row inside the window; outside it, the incremental facts must still equal the
original build (the outside changes are NOT picked up: that is the contract of a trailing window).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.dbt_project.helpers import failed, q
from tests.dbt_project.marts import INCREMENTAL_FACTS
from tests.dbt_project.raw_data import ALL_REPORTS, RawWriter, ad_day, derive, generated_days
from tests.dbt_project.scenario import ACME_103_ADS, D1, D2, D3, INITECH_ADS, acme_101_pull_b
from warehouse import DuckDBWarehouse

WINDOW = (D2, D3)


def change_raw(db) -> None:
    with DuckDBWarehouse(db) as wh:
        w = RawWriter(wh)
        # inside the window
        restated = [d for d in acme_101_pull_b() if d.ad_id != "ad_3"]  # ad_3 restated to nothing on D2 and D3
        restated = [
            ad_day("ad_1", D3, "20.00", 2000, 40, 30, 1500) if (d.ad_id, d.day) == ("ad_1", D3) else d for d in restated
        ]
        w.pull("acme", "act_101", D2, D3, restated)
        w.pull("globex", "act_201", D2, D2, [])  # the whole date restated to nothing, in every report
        initech = generated_days("initech-eu/act_301 restated", INITECH_ADS, D2, D2)
        w.pull("initech-eu", "act_301", D2, D2, initech)
        # the device report of acme/act_103 D3 finally served (the gap is filled)
        acme_d3 = [d for d in generated_days("acme/act_103", ACME_103_ADS, date(2026, 10, 1), D3) if d.day == D3]
        w.pull("acme", "act_103", D3, D3, acme_d3, reports=["ad_daily_device"])
        # outside the window: a later re-pull that only a full refresh (or a window covering it) picks up
        w.pull("acme", "act_101", D1, D1, [ad_day("ad_1", D1, "99.99", 9999, 99, 99, 9000)])
        october = generated_days("acme/act_103 restated", ACME_103_ADS, date(2026, 10, 15), date(2026, 10, 15))
        w.pull("acme", "act_103", date(2026, 10, 15), date(2026, 10, 15), october, reports=ALL_REPORTS)


def rows(db, fact: str, where: str) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(r.values()) for r in q(db, f"select * from marts.{fact} where {where}")),
        key=lambda t: tuple(str(v) for v in t),
    )


@pytest.fixture(scope="module")
def runs(after_build_runs, built):
    """The two builds, started right after the shared build (tests/dbt_project/runs.py: start_incremental)."""
    started = after_build_runs["test_incremental"]
    inc_proc, full_proc = started["inc"].result(), started["full"].result()
    assert inc_proc.returncode == 0, failed(inc_proc)
    assert full_proc.returncode == 0, failed(full_proc)
    return {
        "inc": started["inc_db"],
        "full": started["full_db"],
        "before": built.db,
        "inc_results": started["inc"].run_results(),
    }


IN_WINDOW = f"date_day between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
OUTSIDE = f"not ({IN_WINDOW})"


@pytest.mark.parametrize("fact", INCREMENTAL_FACTS)
def test_window_equals_full_refresh_and_outside_is_untouched(runs, fact):
    inside_inc = rows(runs["inc"], fact, IN_WINDOW)
    assert inside_inc == rows(runs["full"], fact, IN_WINDOW)
    assert inside_inc != rows(runs["before"], fact, IN_WINDOW)  # the window did change
    assert rows(runs["inc"], fact, OUTSIDE) == rows(runs["before"], fact, OUTSIDE)
    # the outside changes are real: a full refresh picks them up, the nightly window does not
    assert rows(runs["full"], fact, OUTSIDE) != rows(runs["before"], fact, OUTSIDE)


def test_restated_rows_are_replaced_and_dates_restated_to_nothing_are_emptied(runs):
    def spend(db, where: str) -> dict[tuple, Decimal]:
        return {
            (r["workspace_id"], r["account_id"], r["ad_id"], r["date_day"]): r["spend"]
            for r in q(db, f"select * from marts.fct_ad_insights_daily where {where}")
        }

    inc = spend(runs["inc"], "account_id in ('act_101', 'act_201')")
    assert inc[("acme", "act_101", "ad_1", D3)] == Decimal("20.00")
    assert ("acme", "act_101", "ad_3", D2) not in inc and ("acme", "act_101", "ad_3", D3) not in inc
    assert ("globex", "act_201", "ad_201", D2) not in inc  # the date restated to nothing lost its old rows
    assert inc[("globex", "act_201", "ad_201", D1)] == Decimal("1500")
    assert inc[("acme", "act_101", "ad_1", D1)] == Decimal("10.00")  # outside the window: as built before
    for fact in INCREMENTAL_FACTS:
        left = q(
            runs["inc"],
            f"select count(*) as n from marts.{fact} where workspace_id = 'globex' and account_id = 'act_201' "
            "and date_day = ?",
            [D2],
        )
        assert left[0]["n"] == 0, fact
    # the filled gap: the device cells of acme/act_103 D3 add up to the ad-days
    device = q(
        runs["inc"],
        "select sum(spend) as spend from marts.fct_ad_insights_daily_by_device "
        "where account_id = 'act_103' and date_day = ?",
        [D3],
    )
    ads = q(
        runs["inc"],
        "select sum(spend) as spend from marts.fct_ad_insights_daily where account_id = 'act_103' and date_day = ?",
        [D3],
    )
    assert device[0]["spend"] == ads[0]["spend"] > 0
    # the account row of acme/act_101 D2 is re-derived from the restated ads (ad_3 gone)
    acc = q(
        runs["inc"],
        "select spend, reach from marts.fct_account_insights_daily where workspace_id = 'acme' "
        "and account_id = 'act_101' and date_day = ?",
        [D2],
    )
    expected = derive("account_daily", [d for d in acme_101_pull_b() if d.ad_id == "ad_1" and d.day == D2])
    assert (acc[0]["spend"], acc[0]["reach"]) == (expected[0]["spend"], expected[0]["reach"])


def test_incremental_run_tests_only_the_window_and_passes(runs):
    statuses = {r["unique_id"]: r["status"] for r in runs["inc_results"]["results"]}
    assert statuses and not {k: v for k, v in statuses.items() if v not in ("success", "pass")}
    # the facts were built incrementally (their compiled SQL reads only the window)
    compiled = {
        r["unique_id"].split(".")[-1]: r.get("compiled_code") or ""
        for r in runs["inc_results"]["results"]
        if r["unique_id"].startswith("model.")
    }
    for fact in INCREMENTAL_FACTS:
        assert f"date_day between date '{WINDOW[0]}' and date '{WINDOW[1]}'" in compiled[fact], fact


def test_access_layer_follows_the_workspace_list(runs):
    schemas = {
        r["schema_name"]
        for r in q(runs["inc"], "select schema_name from information_schema.schemata where schema_name like 'ws%'")
    }
    # globex was left out of sentrum_workspaces: its access schema is gone; the others are kept and current
    assert schemas == {"ws_acme", "ws_initech_heu"}
    via_view = q(
        runs["inc"],
        "select spend from \"ws_acme\".fct_ad_insights_daily where ad_id = 'ad_1' and account_id = 'act_101' "
        "and date_day = ?",
        [D3],
    )
    assert via_view == [{"spend": Decimal("20.00")}]
