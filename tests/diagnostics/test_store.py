"""`diagnostics.diagnostics_findings` on DuckDB: the layout, re-runs replace (never duplicate), an empty re-run clears
the night, other nights and workspaces are untouched, and the run survives a narrator that raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from diagnostics import FINDINGS_TABLE, OfflineNarrator, run_diagnostics
from tests.diagnostics.synthetic import NIGHT, PLANTS, WS, Dataset

REF = "diagnostics.diagnostics_findings"


def _planted() -> Dataset:
    ds = Dataset()
    for name in ("cpa_increase", "zero_conversions", "breakdown_outlier"):
        PLANTS[name][0](ds)
    return ds


def _rows(wh, night=NIGHT, ws=WS):
    return wh.query(f"select * from {REF} where workspace_id = @ws and night = @night", {"ws": ws, "night": night})


def test_table_layout():
    assert FINDINGS_TABLE.schema == "diagnostics"
    assert FINDINGS_TABLE.column_names[:2] == ["workspace_id", "night"]
    assert FINDINGS_TABLE.partition_by == "night"
    assert FINDINGS_TABLE.cluster_by == ["workspace_id", "account_id"]


def test_rows_carry_finding_narrative_and_provenance(wh):
    _planted().write(wh)
    now = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    result = run_diagnostics(wh, WS, NIGHT, now=now)
    rows = _rows(wh)
    assert result.findings == result.rows_written == len(rows) == 3
    assert result.by_severity == {"high": 3} and result.providers == {"offline": 3}
    assert result.llm_requests == 0 and result.tokens_used == 0 and result.fallbacks == 0
    cols = wh.query(
        "select column_name from information_schema.columns where table_schema = 'diagnostics' "
        "and table_name = 'diagnostics_findings' order by ordinal_position"
    )
    assert [c["column_name"] for c in cols] == FINDINGS_TABLE.column_names
    by_type = {r["finding_type"]: r for r in rows}
    cpa = by_type["cpa_increase"]
    assert (cpa["entity_level"], cpa["entity_id"], cpa["entity_name"], cpa["campaign_id"]) == (
        "adset",
        "s31",
        "Interest: SaaS",
        "c3",
    )
    assert cpa["account_currency"] == "USD" and cpa["severity"] == "high"
    assert cpa["period_end"] == NIGHT - timedelta(days=1 + 7)  # matured window
    evidence = json.loads(cpa["evidence"])
    assert evidence[0]["metric"] == "cpa" and evidence[0]["current"] > evidence[0]["previous"]
    assert json.loads(cpa["context"])["maturity_days"] == 7
    assert json.loads(by_type["breakdown_outlier"]["breakdown"]) == {"age": "55-64", "gender": "male"}
    for r in rows:
        assert r["provider"] == "offline" and r["model"] == "offline-template" and r["fallback_reason"] is None
        assert r["summary"] and json.loads(r["likely_causes"]) and json.loads(r["recommended_actions"])
        assert r["confidence"] in ("low", "medium", "high") and len(r["input_hash"]) == 64
        assert r["llm_cached"] is False and r["llm_input_tokens"] == 0
        assert r["created_at"] == now


def test_rerun_replaces_the_night_and_leaves_other_nights_and_workspaces(wh):
    _planted().write(wh)
    PLANTS["tracking_breakage"][0](Dataset(workspace_id="globex")).write(wh)
    earlier = run_diagnostics(wh, WS, NIGHT - timedelta(days=1))
    run_diagnostics(wh, "globex", NIGHT)
    first = run_diagnostics(wh, WS, NIGHT)
    ids = sorted(r["finding_id"] for r in _rows(wh))
    again = run_diagnostics(wh, WS, NIGHT)
    assert again.rows_written == first.rows_written
    assert sorted(r["finding_id"] for r in _rows(wh)) == ids  # same ids, no duplicates
    assert len(ids) == len(set(ids)) == 3
    # the earlier night (its windows end a day earlier) keeps its own rows
    assert earlier.rows_written > 0 and len(_rows(wh, NIGHT - timedelta(days=1))) == earlier.rows_written
    assert [r["finding_type"] for r in _rows(wh, ws="globex")] == ["tracking_breakage"]
    total = wh.query(f"select count(*) as n from {REF}")[0]["n"]
    assert total == 3 + earlier.rows_written + 1


def test_rerun_that_finds_nothing_clears_the_night(wh):
    _planted().write(wh)
    run_diagnostics(wh, WS, NIGHT)
    assert len(_rows(wh)) == 3
    # the marts are rebuilt (e.g. late data restated the numbers) and the anomalies are gone
    wh.execute("drop schema marts cascade")
    Dataset().write(wh)
    result = run_diagnostics(wh, WS, NIGHT)
    assert result.findings == 0 and result.rows_written == 0
    assert _rows(wh) == []


def test_a_narrator_that_raises_does_not_fail_the_night(wh):
    class Broken(OfflineNarrator):
        kind = "broken"

        def narrate(self, findings, cache=None):
            raise RuntimeError("boom")

    _planted().write(wh)
    result = run_diagnostics(wh, WS, NIGHT, narrator=Broken())
    assert result.findings == 3 and result.fallbacks == 3 and result.fallback_reasons == {"narrator_error": 3}
    rows = _rows(wh)
    assert {r["provider"] for r in rows} == {"offline-fallback"}
    assert all(r["summary"] and "boom" in r["fallback_reason"] for r in rows)


def test_without_the_primary_fact_the_stored_night_is_left_alone(wh):
    _planted().write(wh)
    run_diagnostics(wh, WS, NIGHT)
    wh.execute("drop table marts.fct_ad_insights_daily")  # e.g. dbt is rebuilding it
    result = run_diagnostics(wh, WS, NIGHT)
    assert result.rows_written == 0 and "fct_ad_insights_daily" in result.skipped
    assert len(_rows(wh)) == 3  # not cleared: nothing could be judged
