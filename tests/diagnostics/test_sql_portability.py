"""The SQL the package sends, checked for the BigQuery backend without BigQuery: every statement parses as BigQuery
SQL (with `@name` parameters), names tables only through `table_ref`, and bounds every fact read with constant
date parameters so BigQuery can prune the date partitions instead of scanning a fact's whole history."""

from __future__ import annotations

import re
from typing import Any

import sqlglot

from diagnostics import run_diagnostics
from tests.diagnostics.synthetic import NIGHT, PLANTS, WS, Dataset


class RecordingWarehouse:
    """The DuckDB warehouse, with every statement and its parameters recorded."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.statements: list[tuple[str, dict[str, Any]]] = []

    def query(self, sql, params=None, *, labels=None):
        self.statements.append((sql, dict(params or {})))
        return self._inner.query(sql, params, labels=labels)

    def execute(self, sql, params=None, *, labels=None):
        self.statements.append((sql, dict(params or {})))
        return self._inner.execute(sql, params, labels=labels)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_every_statement_parses_as_bigquery_and_fact_reads_are_partition_bounded(wh):
    ds = Dataset()
    for apply, _ in PLANTS.values():
        apply(ds)
    ds.write(wh)
    rec = RecordingWarehouse(wh)
    run_diagnostics(rec, WS, NIGHT)
    wh.execute("drop schema marts cascade")
    Dataset().write(wh)
    run_diagnostics(rec, WS, NIGHT)  # a night without findings: the clearing delete
    kinds = set()
    for sql, params in rec.statements:
        sqlglot.parse_one(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
        assert params.get("ws") == WS  # every statement is scoped to the workspace
        # table names only as `schema.table` from table_ref (a BigQuery backend renders them with its prefix)
        for ref in re.findall(r"\b(?:from|join)\s+([\w.`\"]+)", sql):
            assert ref in ("w", "e") or re.fullmatch(r"(marts|diagnostics)\.\w+", ref), ref
        facts = re.findall(r"marts\.(fct_\w+)", sql)
        if facts:
            kinds.add(facts[0])
            assert re.search(r"date_day between @(lo|since) and @(hi|as_of)", sql), sql
    assert {"fct_ad_insights_daily", "fct_adset_insights_daily", "fct_ad_insights_daily_by_device"} <= kinds
    assert any(sql.startswith("delete from diagnostics.diagnostics_findings") for sql, _ in rec.statements)


def test_an_account_known_only_to_the_dims_is_recorded_as_skipped(wh):
    ds = Dataset()
    ds.write(wh)
    wh.execute("delete from marts.fct_ad_insights_daily where account_id = 'act_2'")
    from diagnostics import detect

    findings, skipped = detect(wh, WS, NIGHT)
    assert "stale" in skipped["account:act_2"]
    assert not [f for f in findings if f.account_id == "act_2"]
