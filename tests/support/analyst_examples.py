"""The SQL blocks of docs/analysts.md and the statements the page makes about their results.

Two tests run every block: on the warehouse `sentrum demo` builds (tests/e2e/test_analyst_examples.py, the test of
record: what a reader of the page runs after `make demo`) and on the dbt tests' build
(tests/dbt_project/test_analyst_queries.py, whose raw data holds edge cases the demo does not: deleted campaigns
that spent, a shared ad account).

Every ```sql fence is a block, tagged or not: an untagged block is named by its line. Each check recomputes what the
page says from the marts themselves (not from the example's own SQL), on the same warehouse.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
# An opening fence whose info string starts with `sql` (any case, optional space), up to the closing fence.
FENCE = re.compile(r"^```[ \t]*sql\b([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M | re.I)
TAG = re.compile(r"\bexample=([a-z0-9-]+)")
WORKSPACE = "acme"

Rows = list[dict[str, Any]]
Query = Callable[[str], Rows]


def sql_blocks(text: str | None = None) -> dict[str, str]:
    """Every ```sql block of the page: {name: sql}, named by its `example=` tag, else `line-<n>`."""
    text = DOC.read_text() if text is None else text
    blocks: dict[str, str] = {}
    for match in FENCE.finditer(text):
        tag = TAG.search(match.group(1))
        name = tag.group(1) if tag else f"line-{text.count(chr(10), 0, match.start()) + 1}"
        assert name not in blocks, f"two blocks are named {name}"
        blocks[name] = match.group(2)
    return blocks


def sql_fence_count(text: str | None = None) -> int:
    """Opening fences that name SQL, counted line by line (a guard on FENCE: none may be missed)."""
    text = DOC.read_text() if text is None else text
    opening = [line for line in text.splitlines() if re.match(r"^```[ \t]*sql\b", line, re.I)]
    return len(opening)


def check_access_path_and_bigquery(sql: str) -> None:
    """Examples read the workspace's views, never the marts; and each parses as BigQuery SQL once transpiled (the page
    marks the spellings that differ)."""
    assert f"ws_{WORKSPACE}." in sql and "marts." not in sql, "examples read the workspace's views, never the marts"
    sqlglot.transpile(sql, read="duckdb", write="bigquery", error_level=sqlglot.ErrorLevel.RAISE)


# DuckDB spellings BigQuery writes otherwise (the page's table): date minus days, days between dates, date_trunc's
# argument order, a date minus an interval, and an expression continued on a line of its own starting with `-`.
DUCKDB_ONLY = re.compile(
    r"date_trunc\('|\bmax\(date_day\) - \d|\b\w+\.\w+ - (\d|\w+\.\w+|interval)|^\s*- (greatest|least)\(", re.I
)


def unmarked_duckdb_spellings(sql: str) -> list[str]:
    """Lines using a DuckDB-only spelling without a `-- BigQuery:` comment on them or on one of the two lines above."""
    lines = sql.splitlines()
    return [
        line.strip()
        for n, line in enumerate(lines)
        if DUCKDB_ONLY.search(line.split("--")[0])
        and not any("-- BigQuery:" in m for m in lines[max(0, n - 2) : n + 1])
    ]


# ---- what the marts hold, read independently of the examples


def _loaded(query: Query) -> dict[str, tuple[date, date]]:
    """Per ad account: the first and newest day loaded (account fact)."""
    rows = query(
        f"select account_id, min(date_day) as first_day, max(date_day) as last_day "
        f"from marts.fct_account_insights_daily where workspace_id = '{WORKSPACE}' group by account_id"
    )
    return {r["account_id"]: (r["first_day"], r["last_day"]) for r in rows}


def _newest_day(query: Query) -> date:
    return max(last for _, last in _loaded(query).values())


def _per_currency(query: Query, table: str, metric: str, since: date | None = None) -> dict[str, Decimal]:
    where = f" and date_day >= date '{since}'" if since else ""
    rows = query(
        f"select account_currency, sum({metric}) as total from marts.{table} "
        f"where workspace_id = '{WORKSPACE}'{where} group by account_currency"
    )
    return {r["account_currency"]: r["total"] for r in rows}


def _sum_by(rows: Rows, key: str, metric: str) -> dict[str, Any]:
    out: dict[str, Any] = defaultdict(int)
    for r in rows:
        out[r[key]] += r[metric]
    return dict(out)


def _campaign_days(query: Query) -> list[dict[str, Any]]:
    return query(
        "select account_id, campaign_id, date_day, spend, conversions, conversion_value "
        f"from marts.fct_campaign_insights_daily where workspace_id = '{WORKSPACE}'"
    )


# ---- the page's statements, one function per block


def _campaign_results(rows: Rows, query: Query) -> None:
    for r in rows:
        assert r["campaign_name"], r  # names from the dimension
        assert float(r["ctr"]) == pytest.approx(r["clicks"] / r["impressions"])  # ratios from the sums
        if r["conversions"]:
            assert float(r["cpa"]) == pytest.approx(float(r["spend"] / r["conversions"]))
    # the last 28 days loaded, every campaign: campaigns add up to their accounts
    since = _newest_day(query) - timedelta(days=27)
    assert _sum_by(rows, "account_currency", "spend") == _per_currency(
        query, "fct_account_insights_daily", "spend", since
    )


def _top_ads(rows: Rows, query: Query) -> None:
    assert len(rows) <= 10
    assert all(r["spend"] > 0 for r in rows)
    roas = [r["roas"] for r in rows]
    assert roas == sorted(roas, reverse=True)


def _reach(rows: Rows, query: Query) -> None:
    newest = _newest_day(query)
    assert {r["date_day"] for r in rows} <= {newest - timedelta(days=n) for n in range(7)}
    assert all(r["account_reach"] <= r["sum_of_ad_reach_do_not_use"] for r in rows)
    assert any(r["account_reach"] < r["sum_of_ad_reach_do_not_use"] for r in rows)  # the sum over-counts people


def _age_gender(rows: Rows, query: Query) -> None:
    # cells add up to the ad-days: impressions per currency equal the ad fact's over the same 28 days
    since = _newest_day(query) - timedelta(days=27)
    assert _sum_by(rows, "account_currency", "impressions") == _per_currency(
        query, "fct_ad_insights_daily", "impressions", since
    )


def _placement(rows: Rows, query: Query) -> None:
    shares = _sum_by(rows, "account_currency", "share_of_spend")
    assert shares and all(total == pytest.approx(1.0) for total in shares.values()), shares


def _windows(rows: Rows, query: Query) -> None:
    newest = _newest_day(query)
    days = [r["date_day"] for r in rows]
    assert len(days) == len(set(days)) and set(days) <= {newest - timedelta(days=n) for n in range(7)}
    for r in rows:
        if r["purchases_1d_click"] is not None and r["purchases_7d_click"] is not None:
            assert r["purchases_1d_click"] <= r["purchases_7d_click"], r  # a wider window holds the narrower


def _spend_per_currency(rows: Rows, query: Query) -> None:
    assert all(r["month_start"].day == 1 for r in rows)
    assert _sum_by(rows, "account_currency", "spend") == _per_currency(query, "fct_ad_insights_daily", "spend")


def _maturing(days_with_data: list[date], newest_of_account: date) -> bool:
    return max(days_with_data) >= newest_of_account - timedelta(days=27)


def _week_over_week(rows: Rows, query: Query) -> None:
    loaded = _loaded(query)
    weeks: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    account_of: dict[str, str] = {}
    for d in _campaign_days(query):
        weeks[(d["campaign_id"], d["date_day"] - timedelta(days=d["date_day"].weekday()))].append(d)
        account_of[d["campaign_id"]] = d["account_id"]

    def whole(campaign_id: str, start: date) -> bool:
        first, last = loaded[account_of[campaign_id]]
        return first <= start and start + timedelta(days=6) <= last

    expected = {key for key in weeks if whole(*key)}
    assert {(r["campaign_id"], r["week_start"]) for r in rows} == expected  # every whole week, no partial one
    for r in rows:
        assert r["week_start"].weekday() == 0  # Monday
        days = weeks[(r["campaign_id"], r["week_start"])]
        assert r["spend"] == sum(d["spend"] for d in days)
        assert r["conversions"] == sum(d["conversions"] for d in days)
        assert r["maturing"] == _maturing([d["date_day"] for d in days], loaded[account_of[r["campaign_id"]]][1])
        before = (r["campaign_id"], r["week_start"] - timedelta(days=7))
        if before in expected:
            assert r["spend_week_before"] == sum(d["spend"] for d in weeks[before])
            if r["spend_week_before"]:
                assert float(r["spend_change"]) == pytest.approx(float(r["spend"] / r["spend_week_before"] - 1))
        else:
            assert r["spend_week_before"] is None


def _month_over_month(rows: Rows, query: Query) -> None:
    loaded = _loaded(query)
    months: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    account_of: dict[str, str] = {}
    for d in _campaign_days(query):
        months[(d["campaign_id"], d["date_day"].replace(day=1))].append(d)
        account_of[d["campaign_id"]] = d["account_id"]
    assert {(r["campaign_id"], r["month_start"]) for r in rows} == set(months)

    def days_loaded(campaign_id: str, start: date) -> int:
        first, last = loaded[account_of[campaign_id]]
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        return (min(last, end) - max(first, start)).days + 1

    for r in rows:
        days = months[(r["campaign_id"], r["month_start"])]
        assert r["days_loaded"] == days_loaded(r["campaign_id"], r["month_start"])
        assert r["spend"] == sum(d["spend"] for d in days)
        assert float(r["spend_per_day"]) == pytest.approx(float(r["spend"]) / r["days_loaded"])
        assert r["maturing"] == _maturing([d["date_day"] for d in days], loaded[account_of[r["campaign_id"]]][1])
        previous = (r["month_start"] - timedelta(days=1)).replace(day=1)
        if (r["campaign_id"], previous) in months:
            spent = sum(d["spend"] for d in months[(r["campaign_id"], previous)])
            per_day = float(spent) / days_loaded(r["campaign_id"], previous)
            assert float(r["spend_per_day_month_before"]) == pytest.approx(per_day)
        else:
            assert r["spend_per_day_month_before"] is None


def _maturity(rows: Rows, query: Query) -> None:
    loaded = _loaded(query)
    for r in rows:
        last = loaded[r["account_id"]][1]
        assert r["days_old"] == (last - r["date_day"]).days
        assert 0 <= r["days_old"] < 28


CHECKS: dict[str, Callable[[Rows, Query], None]] = {
    "campaign-results": _campaign_results,
    "top-ads": _top_ads,
    "reach-is-not-additive": _reach,
    "age-gender": _age_gender,
    "placement-share": _placement,
    "attribution-windows": _windows,
    "spend-per-currency": _spend_per_currency,
    "campaign-week-over-week": _week_over_week,
    "campaign-month-over-month": _month_over_month,
    "maturity": _maturity,
}


def check_block(name: str, sql: str, query: Query) -> Rows:
    """Run one block: it reads the access path, parses for BigQuery, returns rows, and what the page says of it holds
    (where CHECKS has a check: every tagged example, see `test_every_example_has_a_check`)."""
    check_access_path_and_bigquery(sql)
    rows = query(sql)
    assert rows, f"the example {name} returned no rows"
    if name in CHECKS:
        CHECKS[name](rows, query)
    return rows
