"""Token health and a failing workspace end to end, on one night of five workspaces.

- `sentrum workspaces add` asks Meta about the token before storing anything: a bad token or an unreadable account is
  refused with exit 2 and leaves the registry and the secret store as they were.
- Each night records the token's expiry and data-access expiry in ops.workspace_health, and `workspaces list` shows
  who must reconnect.
- One workspace whose token was revoked after it was added fails alone, visibly, and never shows its token; the
  others land.

Both stories share one night, as a real night has both kinds of workspace: a whole night costs ~30 s of CPU here.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from secret_store import LocalSecretStore
from tests.e2e.conftest import make_env

ACME_ACCOUNTS = "act_1001,act_1002"
BAD_TOKEN = "expired-token-do-not-log-4242"
LANDING = ("acme", "acme-data", "globex", "initech")
# Tokens that must be in no file of the state but the encrypted store.
SECRETS = (BAD_TOKEN, "sandbox-token-acme-user", "sandbox-token-globex")


def _state(home: Path) -> dict[str, bytes | None]:
    files = [home / "workspaces.yaml", home / "secrets" / "store.enc", home / "secrets" / "store.key"]
    return {str(f): f.read_bytes() if f.exists() else None for f in files}


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)
    # A short nightly window: a token's health is asked of Meta once per workspace, and one workspace failing alone
    # does not depend on how many days the others pull.
    e.vars["SENTRUM_RESTATEMENT_DAYS"] = "3"
    for ws, token, accounts in (
        ("acme", "sandbox-token-acme-user", ACME_ACCOUNTS),  # a user token: expires in 10 days
        ("acme-data", "sandbox-token-acme-data-access", ACME_ACCOUNTS),  # data access expires in 5 days
        ("globex", "sandbox-token-globex", "act_2001"),  # a system user's: never expires
        ("initech", "sandbox-token-initech", "act_3001"),
        ("broken", "sandbox-token-acme", "act_1001"),
    ):
        added = e.sentrum("workspaces", "add", ws, "--ad-accounts", accounts, stdin=token)
        assert added.returncode == 0, added.stderr
    # A bad token is refused by `workspaces add`; "broken" had a good one, revoked since (its secret now holds a
    # token Meta no longer accepts).
    LocalSecretStore(e.home / "secrets").put("meta-token-broken", BAD_TOKEN)
    return e


@pytest.fixture(scope="module")
def nightly(env):
    return env.sentrum("nightly")


@pytest.mark.parametrize(
    ("token", "accounts", "problem"),
    [
        ("not-a-meta-token-4242", ACME_ACCOUNTS, "the token is not valid: Meta error 190"),
        ("sandbox-token-acme-expired", ACME_ACCOUNTS, "the token is not valid: Meta error 190/463"),
        ("sandbox-token-acme-no-ads-read", ACME_ACCOUNTS, "has not been granted ads_read"),
        ("sandbox-token-acme-partial", ACME_ACCOUNTS, "cannot read ad account act_1002: Meta error 100/33"),
        ("sandbox-token-acme", "act_1001,act_2001", "cannot read ad account act_2001"),
    ],
)
def test_a_bad_token_or_an_unreadable_account_is_refused_and_nothing_is_stored(env, token, accounts, problem):
    before = _state(env.home)
    result = env.sentrum("workspaces", "add", "newcomer", "--ad-accounts", accounts, stdin=token)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and "nothing stored" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and token not in result.stdout + result.stderr
    assert _state(env.home) == before  # registry and secret store untouched
    listed = env.sentrum("workspaces", "list")
    assert "newcomer" not in listed.stdout


def test_a_good_token_is_stored_with_what_meta_says_about_it(sandbox, tmp_path):
    # a home of its own: a workspace no night has checked yet, whatever ran before
    fresh = make_env(tmp_path, sandbox)
    result = fresh.sentrum("workspaces", "add", "initech", "--ad-accounts", "act_3001", stdin="sandbox-token-initech")
    assert result.returncode == 0, result.stderr
    assert "SYSTEM_USER, never expires" in result.stdout
    listed = fresh.sentrum("workspaces", "list")
    assert listed.returncode == 0 and "initech" in listed.stdout and "not checked yet" in listed.stdout


def test_sync_of_a_workspace_with_a_bad_token_fails_with_the_reason(env):
    result = env.sentrum("sync", "--workspace", "broken", "--start", "2026-10-01", "--end", "2026-10-03")
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "reconnect needed" in out and "190" in out
    assert BAD_TOKEN not in out


def test_nightly_lands_the_good_workspaces_and_flags_the_broken_one(env, nightly):
    out = nightly.stdout + nightly.stderr
    assert nightly.returncode == 1, out[-3000:]
    assert all(f"ok      {ws}" in out for ws in LANDING), out[-3000:]
    assert "FAILED  broken [reconnect needed]" in out
    assert BAD_TOKEN not in out
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        counts = dict(
            con.execute("select workspace_id, count(*) from marts.fct_ad_insights_daily group by 1").fetchall()
        )
    assert set(counts) == set(LANDING)
    assert all(n > 0 for n in counts.values())
    # No token in any file of the state but the encrypted store.
    for path in env.home.rglob("*"):
        if path.is_file() and path.suffix != ".enc":
            content = path.read_bytes()
            assert not any(secret.encode() in content for secret in SECRETS), path


def _health(env) -> dict[str, dict]:
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        cur = con.execute("select * from ops.workspace_health order by workspace_id")
        cols = [d[0] for d in cur.description]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def test_workspace_health_says_who_must_reconnect(env, nightly):
    # after the nightly, whatever order the tests run in: one health row per workspace
    rows = _health(env)
    assert set(rows) == {*LANDING, "broken"}
    broken = rows["broken"]
    assert broken["status"] == "failed" and broken["reconnect_needed"] is True
    assert broken["last_error_class"] == "stop_workspace" and "190" in broken["last_error"]
    assert broken["last_success_at"] is None and BAD_TOKEN not in broken["last_error"]
    for ws in LANDING:
        assert rows[ws]["status"] == "ok" and rows[ws]["last_success_at"] is not None
        assert rows[ws]["rows_last_run"] > 0 and rows[ws]["reconnect_needed"] is False


def test_the_nightly_records_expiries_and_list_says_who_must_reconnect(env, nightly):
    rows = _health(env)
    acme, data, globex = rows["acme"], rows["acme-data"], rows["globex"]
    assert (acme["token_type"], acme["token_valid"], acme["reconnect_soon"]) == ("USER", True, True)
    assert acme["token_expires_at"] is not None and acme["reconnect_within_days"] in (9, 10)
    assert data["token_data_access_expires_at"] < data["token_expires_at"]
    assert data["reconnect_within_days"] in (4, 5) and data["reconnect_soon"] is True
    assert (globex["token_type"], globex["token_expires_at"], globex["reconnect_soon"]) == ("SYSTEM_USER", None, False)

    listed = env.sentrum("workspaces", "list")
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "RECONNECT within" in lines["acme"] and "USER expires" in lines["acme"]
    assert "RECONNECT within" in lines["acme-data"] and "data access expires" in lines["acme-data"]
    assert "never expires" in lines["globex"]
