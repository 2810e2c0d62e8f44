"""One workspace with a bad token fails alone, visibly, and never shows its token; the others land."""

from __future__ import annotations

import duckdb
import pytest

from secret_store import LocalSecretStore
from tests.e2e.conftest import make_env

BAD_TOKEN = "expired-token-do-not-log-4242"


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)
    # A short nightly window: one workspace failing alone does not depend on how many days the others pull.
    e.vars["SENTRUM_RESTATEMENT_DAYS"] = "3"
    for w in sandbox.scenario.workspaces():
        if w.workspace_id in ("globex", "initech"):
            r = e.sentrum("workspaces", "add", w.workspace_id, "--ad-accounts", ",".join(w.account_ids), stdin=w.token)
            assert r.returncode == 0, r.stderr
    # A bad token is refused by `workspaces add`; "broken" had a good one, revoked since (its secret now holds a
    # token Meta no longer accepts).
    acme = next(w for w in sandbox.scenario.workspaces() if w.workspace_id == "acme")
    r = e.sentrum("workspaces", "add", "broken", "--ad-accounts", "act_1001", stdin=acme.token)
    assert r.returncode == 0, r.stderr
    LocalSecretStore(e.home / "secrets").put("meta-token-broken", BAD_TOKEN)
    return e


def test_sync_of_a_workspace_with_a_bad_token_fails_with_the_reason(env):
    result = env.sentrum("sync", "--workspace", "broken", "--start", "2026-10-01", "--end", "2026-10-03")
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "reconnect needed" in out and "190" in out
    assert BAD_TOKEN not in out


@pytest.fixture(scope="module")
def nightly(env):
    """The night after the failed sync (which ran first, in module order, when its test is selected)."""
    return env.sentrum("nightly")


def test_nightly_lands_the_good_workspaces_and_flags_the_broken_one(env, nightly):
    result = nightly
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]
    assert "ok      globex" in out and "ok      initech" in out
    assert "FAILED  broken [reconnect needed]" in out
    assert BAD_TOKEN not in out
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        counts = dict(
            con.execute("select workspace_id, count(*) from marts.fct_ad_insights_daily group by 1").fetchall()
        )
    assert set(counts) == {"globex", "initech"}
    assert all(n > 0 for n in counts.values())
    # The token is in no file of the state but the encrypted store.
    for path in env.home.rglob("*"):
        if path.is_file() and path.suffix not in {".enc"}:
            assert BAD_TOKEN.encode() not in path.read_bytes(), path


def test_workspace_health_says_who_must_reconnect(env, nightly):
    # after the nightly, whatever order the tests run in: one health row per workspace
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        cur = con.execute("select * from ops.workspace_health order by workspace_id")
        cols = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
    assert set(rows) == {"broken", "globex", "initech"}
    broken = rows["broken"]
    assert broken["status"] == "failed" and broken["reconnect_needed"] is True
    assert broken["last_error_class"] == "stop_workspace" and "190" in broken["last_error"]
    assert broken["last_success_at"] is None and BAD_TOKEN not in broken["last_error"]
    for ws in ("globex", "initech"):
        assert rows[ws]["status"] == "ok" and rows[ws]["last_success_at"] is not None
        assert rows[ws]["rows_last_run"] > 0 and rows[ws]["reconnect_needed"] is False
