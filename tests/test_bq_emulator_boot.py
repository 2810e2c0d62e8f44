"""The BigQuery stand-in's parse cache (tests/support/bq_emulator_boot.py): a cached text parses to the tree it
parsed to the first time, each caller gets its own copy, and a text that does not parse still raises."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError

from tests.support.bq_emulator_boot import cache_parses

SQL = "select workspace_id, sum(spend) from `p.marts.fct_ad_insights_daily` where date_day >= '2026-11-01' group by 1"


@pytest.fixture
def cached():
    original = Dialect.parse
    cache_parses()
    yield
    Dialect.parse = original


def test_a_cached_parse_is_the_same_tree_and_each_caller_s_own(cached):
    first = sqlglot.parse_one(SQL, read="bigquery")
    first.find(sqlglot.exp.Where).pop()  # a caller changes its tree
    second = sqlglot.parse_one(SQL, read="bigquery")
    third = sqlglot.parse_one(SQL, read="bigquery")
    assert second is not third and second == third
    assert second.find(sqlglot.exp.Where) is not None
    bigquery = Dialect.get_or_raise("bigquery")
    assert second == bigquery.parser().parse(bigquery.tokenize(SQL), SQL)[0]  # what an uncached parse gives
    # another dialect's parse of the same text is its own entry
    assert sqlglot.parse_one("select 1 as x", read="duckdb") == sqlglot.parse_one("select 1 as x", read="duckdb")


def test_a_text_that_does_not_parse_raises_every_time(cached):
    for _ in range(2):
        with pytest.raises(ParseError):
            sqlglot.parse_one("select from where (", read="bigquery")
