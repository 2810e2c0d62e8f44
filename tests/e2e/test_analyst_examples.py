"""Every SQL block of docs/analysts.md, run on the warehouse `make demo` builds (the test of record for the page).

One `sentrum demo` per session (conftest: `demo`), today's dates: each block returns rows and what the page says of
its result holds (tests/support/analyst_examples.py). The README's query runs there too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import duckdb
import pytest

from tests.e2e.conftest import Demo
from tests.support.analyst_examples import CHECKS, DOC, check_block, sql_blocks, sql_fence_count

README = DOC.parents[1] / "README.md"


@pytest.fixture(scope="module")
def query(demo: Demo) -> Iterator:
    con = duckdb.connect(str(demo.duckdb_file), read_only=True)

    def run(sql: str) -> list[dict]:
        cur = con.cursor()
        try:
            cur.execute(sql)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        finally:
            cur.close()

    yield run
    con.close()


def test_every_sql_fence_is_a_block_and_every_example_has_a_check():
    blocks = sql_blocks()
    assert len(blocks) == sql_fence_count() >= len(CHECKS)
    assert set(CHECKS) <= set(blocks), set(CHECKS) - set(blocks)


@pytest.mark.parametrize("name", sorted(sql_blocks()))
def test_example_returns_rows_on_the_demo(query, name):
    check_block(name, sql_blocks()[name], query)


def test_the_demo_has_what_the_examples_compare(query):
    """The demo loads the 29 days ending yesterday (each account's own): whatever the date, that holds three whole
    weeks at least, so week over week compares something, every one of them still maturing; and the maturity example
    shows the last 28 days of each account."""
    weeks = query(sql_blocks()["campaign-week-over-week"])
    assert any(r["spend_week_before"] is not None for r in weeks)
    assert all(r["maturing"] for r in weeks)
    days = Counter(r["account_id"] for r in query(sql_blocks()["maturity"]))
    assert days == {"act_1001": 28, "act_1002": 28}


def test_the_readme_query_reads_the_workspace_access_path(query):
    text = README.read_text()
    found = re.findall(r"\.sql\('([^']+)'\)", text)
    assert found, "the README shows a query"
    for sql in found:
        assert "ws_acme." in sql and "marts." not in sql, sql
        assert query(sql), sql
