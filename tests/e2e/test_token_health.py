"""Token health end to end: `sentrum workspaces add` asks Meta about the token before storing anything (a bad token
or an unreadable account is refused with exit 2 and leaves the registry and the secret store as they were); each
night records the token's expiry and data-access expiry in ops.workspace_health, and `workspaces list` shows who
must reconnect."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import make_env

ACME_ACCOUNTS = "act_1001,act_1002"


def _state(home: Path) -> dict[str, bytes | None]:
    files = [home / "workspaces.yaml", home / "secrets" / "store.enc", home / "secrets" / "store.key"]
    return {str(f): f.read_bytes() if f.exists() else None for f in files}


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)
    # A short nightly window: a token's health is asked of Meta once per workspace, whatever the days pulled.
    e.vars["SENTRUM_RESTATEMENT_DAYS"] = "3"
    for ws, token, accounts in (
        ("acme", "sandbox-token-acme-user", ACME_ACCOUNTS),  # a user token: expires in 10 days
        ("acme-data", "sandbox-token-acme-data-access", ACME_ACCOUNTS),  # data access expires in 5 days
        ("globex", "sandbox-token-globex", "act_2001"),  # a system user's: never expires
    ):
        added = e.sentrum("workspaces", "add", ws, "--ad-accounts", accounts, stdin=token)
        assert added.returncode == 0, added.stderr
    return e


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


def test_a_good_token_is_stored_with_what_meta_says_about_it(env):
    result = env.sentrum("workspaces", "add", "initech", "--ad-accounts", "act_3001", stdin="sandbox-token-initech")
    assert result.returncode == 0, result.stderr
    assert "SYSTEM_USER, never expires" in result.stdout
    listed = env.sentrum("workspaces", "list")
    assert listed.returncode == 0 and "initech" in listed.stdout and "not checked yet" in listed.stdout


def test_the_nightly_records_expiries_and_list_says_who_must_reconnect(env):
    night = env.sentrum("nightly")
    assert night.returncode == 0, night.stdout[-3000:] + night.stderr[-3000:]
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        cur = con.execute("select * from ops.workspace_health")
        cols = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
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
    # No token in any file of the state but the encrypted store.
    for path in env.home.rglob("*"):
        if path.is_file() and path.suffix != ".enc":
            content = path.read_bytes()
            assert b"sandbox-token-acme-user" not in content and b"sandbox-token-globex" not in content, path
