"""A backfill is cut into chunk runs; a chunk that failed, or whose run was killed part-way, is redone by the next
sync of the same backfill, without re-pulling what landed and without duplicates in the marts.

One backfill window serves both ways a chunk can be left undone (a failed run, then a killed run of the same chunk),
so the pipeline runs three times instead of four: the resume after the failure is the killed sync (it skips chunk 1
and redoes chunk 2, or it would not have been killed in chunk 2), and the resume after the kill is the last sync.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from datetime import date

import duckdb
import pytest

from graph_sandbox import GraphError
from tests.e2e.conftest import SENTRUM, make_env

START, END = date(2026, 9, 1), date(2026, 9, 25)  # three chunks of at most 10 days
CHUNK1_SINCE, CHUNK2_SINCE, CHUNK3_SINCE = "2026-09-01", "2026-09-11", "2026-09-21"
SYNC = ["sync", "--workspace", "globex", "--start", str(START), "--end", str(END)]


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)
    e.vars["SENTRUM_BACKFILL_CHUNK_DAYS"] = "10"
    globex = next(w for w in sandbox.scenario.workspaces() if w.workspace_id == "globex")
    r = e.sentrum("workspaces", "add", "globex", "--ad-accounts", ",".join(globex.account_ids), stdin=globex.token)
    assert r.returncode == 0, r.stderr
    return e


def _insights_ranges(records) -> list[str]:
    return [r.params.get("time_range", "") for r in records if r.method == "POST" and r.path.endswith("/insights")]


def _insights_submissions(records, since: str) -> int:
    return sum(1 for r in records if r.path.endswith("/insights") and since in r.params.get("time_range", ""))


def _manifest(path, since: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select report, batch_id from raw.meta_batches where workspace_id = 'globex' and date_start = ?",
            [date.fromisoformat(since)],
        ).fetchall()


def test_a_backfill_resumes_after_a_failed_chunk_and_after_a_sync_killed_mid_chunk(env, sandbox):
    truth = {(t.ad_id, t.date): t.spend for t in sandbox.scenario.truth_ad_daily("act_2001", START, END)}
    assert truth

    # 1. Meta says no to the second chunk, as a crash part-way through the backfill would leave it undone.
    def lose_chunk_two(info):
        if info.insights and CHUNK2_SINCE in info.params.get("time_range", ""):
            return GraphError(200, "(#200) Requires ads_read permission (test fault)")
        return None

    sandbox.reset()
    sandbox.app.fault_hook = lose_chunk_two
    try:
        first = env.sentrum(*SYNC)
    finally:
        sandbox.app.fault_hook = None
    out = first.stdout + first.stderr
    assert first.returncode == 1, out[-3000:]
    assert "chunk 1/3" in out and "chunk 2/3" in out and "chunk 3/3" not in out
    # chunk 1 ran whole: its insights submissions measure how many chunk 2 makes (same days, same reports)
    chunk1_calls = _insights_submissions(sandbox.requests, CHUNK1_SINCE)
    assert chunk1_calls > 0

    # 2. The same backfill again resumes: chunk 1 is skipped and chunk 2 is redone. SIGKILL of the whole `sentrum
    # sync` process group while chunk 2 is half read: some of its report batches are committed, one is being read.
    held, release = threading.Event(), threading.Event()
    seen = {"chunk2": 0}

    def hold_midway(info):
        if not (info.insights and CHUNK2_SINCE in info.params.get("time_range", "")):
            return None
        seen["chunk2"] += 1
        if seen["chunk2"] == max(2, (chunk1_calls * 2) // 3) and not held.is_set():
            held.set()  # two thirds into chunk 2: hold this call until the process is dead
            release.wait(60)
            return GraphError(1, "An unknown error occurred (the client is gone)")
        return None

    sandbox.reset()
    sandbox.app.fault_hook = hold_midway
    proc = subprocess.Popen(
        [SENTRUM, *SYNC], env=env.vars, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        assert held.wait(240), "chunk 2 was not redone after its failure, or never got two thirds through"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        release.set()
        sandbox.app.fault_hook = None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert _insights_submissions(sandbox.requests, CHUNK1_SINCE) == 0, "chunk 1 was pulled again"

    # What the kill left: chunk 1 whole, chunk 2 with some report batches committed and at least one missing.
    chunk1, chunk2 = _manifest(env.duckdb_file, CHUNK1_SINCE), _manifest(env.duckdb_file, CHUNK2_SINCE)
    assert chunk1 and 0 < len(chunk2) < len(chunk1), (chunk1, chunk2)

    # 3. Running the same command again redoes chunk 2 (its runs never succeeded) and chunk 3, never chunk 1, and
    # the marts equal the truth, each ad-day once.
    sandbox.reset()
    again = env.sentrum(*SYNC, timeout=600)
    out = again.stdout + again.stderr
    assert again.returncode == 0, out[-3000:]
    assert f"chunk 1/3 {CHUNK1_SINCE}..2026-09-10: already done by an earlier run, skipped" in out
    ranges = _insights_ranges(sandbox.requests)
    assert ranges and not any(CHUNK1_SINCE in r for r in ranges), "chunk 1 was pulled again"
    assert _insights_submissions(sandbox.requests, CHUNK1_SINCE) == 0
    assert _insights_submissions(sandbox.requests, CHUNK2_SINCE) > 0
    assert any(CHUNK2_SINCE in r for r in ranges) and any(CHUNK3_SINCE in r for r in ranges)

    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        rows = con.execute(
            "select ad_id, date_day, spend from marts.fct_ad_insights_daily "
            "where workspace_id = 'globex' and date_day between ? and ?",
            [START, END],
        ).fetchall()
        every_row = con.execute(
            "select count(*) from marts.fct_ad_insights_daily where workspace_id = 'globex'"
        ).fetchone()[0]
        # each ad-day once in staging, though the killed run's committed batches of chunk 2 stay in raw
        doubled = con.execute(
            "select count(*) from (select ad_id, date_day, count(*) n from staging.stg_meta__insights "
            "where workspace_id = 'globex' and report = 'ad_daily' group by all having n > 1)"
        ).fetchone()[0]
        # the killed run's committed batches stay in raw, superseded by the rerun's: staging shows none of them
        killed = [batch_id for _, batch_id in chunk2]
        marks = ", ".join("?" for _ in killed)
        in_raw = con.execute(f"select count(*) from raw.meta_insights where batch_id in ({marks})", killed).fetchone()
        shown = con.execute(
            f"select count(*) from staging.stg_meta__insights where batch_id in ({marks})", killed
        ).fetchone()
    assert len(rows) == len(truth) == every_row  # no duplicates, and nothing outside the backfill's window
    assert {(ad, day): spend for ad, day, spend in rows} == truth
    assert doubled == 0
    assert in_raw[0] > 0 and shown[0] == 0
