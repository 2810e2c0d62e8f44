"""A backfill is cut into chunk runs; one killed part-way resumes without re-pulling what landed, and without
duplicates in the marts."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from graph_sandbox import GraphError
from tests.e2e.conftest import make_env

START, END = date(2026, 9, 1), date(2026, 9, 25)  # three chunks of at most 10 days
CHUNK2_SINCE = "2026-09-11"


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox)
    e.vars["SENTRUM_BACKFILL_CHUNK_DAYS"] = "10"
    globex = next(w for w in sandbox.scenario.workspaces() if w.workspace_id == "globex")
    r = e.sentrum("workspaces", "add", "globex", "--ad-accounts", ",".join(globex.account_ids), stdin=globex.token)
    assert r.returncode == 0, r.stderr
    return e


def _insights_ranges(records) -> list[str]:
    return [r.params.get("time_range", "") for r in records if r.method == "POST" and r.path.endswith("/insights")]


def test_backfill_resumes_after_a_failed_chunk(env, sandbox):
    def lose_chunk_two(info):
        # Meta says no to the second chunk, as a crash part-way through the backfill would leave it undone.
        if info.insights and CHUNK2_SINCE in info.params.get("time_range", ""):
            return GraphError(200, "(#200) Requires ads_read permission (test fault)")
        return None

    sandbox.app.fault_hook = lose_chunk_two
    try:
        first = env.sentrum("sync", "--workspace", "globex", "--start", str(START), "--end", str(END))
    finally:
        sandbox.app.fault_hook = None
    out = first.stdout + first.stderr
    assert first.returncode == 1, out[-3000:]
    assert "chunk 1/3" in out and "chunk 2/3" in out and "chunk 3/3" not in out

    sandbox.reset()
    second = env.sentrum("sync", "--workspace", "globex", "--start", str(START), "--end", str(END))
    out = second.stdout + second.stderr
    assert second.returncode == 0, out[-3000:]
    assert "chunk 1/3 2026-09-01..2026-09-10: already done by an earlier run, skipped" in out
    ranges = _insights_ranges(sandbox.requests)
    assert ranges and not any("2026-09-01" in r for r in ranges), "chunk 1 was pulled again"
    assert any(CHUNK2_SINCE in r for r in ranges) and any("2026-09-21" in r for r in ranges)

    truth = {(t.ad_id, t.date): t.spend for t in sandbox.scenario.truth_ad_daily("act_2001", START, END)}
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        rows = con.execute(
            "select ad_id, date_day, spend from marts.fct_ad_insights_daily where workspace_id = 'globex'"
        ).fetchall()
    assert len(rows) == len(truth)  # no duplicates
    assert {(ad, day): spend for ad, day, spend in rows} == truth
