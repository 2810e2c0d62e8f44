"""`sentrum sync` against the Graph API sandbox: the marts equal the sandbox's ground truth, exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from tests.e2e.conftest import CONVERSION_TYPES, make_env

START, END = date(2026, 10, 1), date(2026, 10, 31)
ACME_TOKEN = "sandbox-token-acme"


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)
    acme = next(w for w in sandbox.scenario.workspaces() if w.workspace_id == "acme")
    added = e.sentrum(
        "workspaces", "add", "acme", "--name", "Acme Inc", "--ad-accounts", ",".join(acme.account_ids),
        stdin=acme.token,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return e


@pytest.fixture(scope="module")
def synced(env):
    result = env.sentrum("sync", "--workspace", "acme", "--start", str(START), "--end", str(END))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _mart(env, sql: str, params=None):
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _expected(scenario, account_ids):
    out = {}
    for account_id in account_ids:
        currency = scenario.account(account_id).currency
        for t in scenario.truth_ad_daily(account_id, START, END):
            out[(t.ad_id, t.date)] = {
                "account_id": account_id,
                "campaign_id": t.campaign_id,
                "adset_id": t.adset_id,
                "account_currency": currency,
                "spend": t.spend,
                "impressions": t.impressions,
                "clicks": t.clicks,
                "inline_link_clicks": t.inline_link_clicks,
                "reach": t.reach,
                "conversions": sum((t.action(a) for a in CONVERSION_TYPES), Decimal(0)),
                "conversion_value": sum((t.action(a, metric="action_values") for a in CONVERSION_TYPES), Decimal(0)),
            }
    return out


def _actual(env, workspace_id):
    rows = _mart(
        env,
        "select * from marts.fct_ad_insights_daily where workspace_id = ? order by ad_id, date_day",
        [workspace_id],
    )
    return {
        (r["ad_id"], r["date_day"]): {
            "account_id": r["account_id"],
            "campaign_id": r["campaign_id"],
            "adset_id": r["adset_id"],
            "account_currency": r["account_currency"],
            "spend": r["spend"],
            "impressions": r["impressions"],
            "clicks": r["clicks"],
            "inline_link_clicks": r["inline_link_clicks"],
            "reach": r["reach"],
            "conversions": r["conversions"],
            "conversion_value": r["conversion_value"],
        }
        for r in rows
    }


def test_workspace_list_never_shows_the_token(env):
    listed = env.sentrum("workspaces", "list")
    assert listed.returncode == 0
    assert "acme" in listed.stdout and "act_1001" in listed.stdout and "stored" in listed.stdout
    assert ACME_TOKEN not in listed.stdout + listed.stderr
    assert ACME_TOKEN.encode() not in (env.home / "workspaces.yaml").read_bytes()
    assert ACME_TOKEN.encode() not in (env.home / "secrets" / "store.enc").read_bytes()


def test_fct_ad_insights_daily_equals_the_sandbox_truth(env, synced):
    scenario = env.server.scenario
    expected = _expected(scenario, ["act_1001", "act_1002"])
    actual = _actual(env, "acme")
    assert len(expected) > 100
    assert actual.keys() == expected.keys()
    for key, exp in expected.items():
        # Decimal equality: spend to the cent, counts exactly
        assert actual[key] == exp, key


def test_deleted_and_archived_ads_spend_is_included(env, synced):
    scenario = env.server.scenario
    by_status = {}
    for account_id in ("act_1001", "act_1002"):
        for ad in scenario.ads(account_id):
            by_status.setdefault(ad.effective_status, set()).add(ad.id)
    spent = {r["ad_id"] for r in _mart(env, "select distinct ad_id from marts.fct_ad_insights_daily where spend > 0")}
    assert spent & by_status.get("DELETED", set()), "a deleted ad's spend is missing"
    assert spent & by_status.get("ARCHIVED", set()), "an archived ad's spend is missing"
    dims = {r["ad_id"]: r["effective_status"] for r in _mart(env, "select * from marts.dim_ads")}
    for status, ids in by_status.items():
        for ad_id in ids:
            assert dims[ad_id] == status


def test_dims_carry_accounts_currencies_and_timezones(env, synced):
    rows = {r["account_id"]: r for r in _mart(env, "select * from marts.dim_ad_accounts")}
    assert set(rows) == {"act_1001", "act_1002"}
    for account_id, r in rows.items():
        acc = env.server.scenario.account(account_id)
        assert (r["workspace_id"], r["account_currency"], r["timezone_name"]) == (
            "acme",
            acc.currency,
            acc.timezone_name,
        )


def test_a_re_pull_replaces_and_never_adds(env, synced):
    before = _actual(env, "acme")
    # the month's last three days: a re-pull replaces whatever its window holds, however long (less to pull)
    again = env.sentrum("sync", "--workspace", "acme", "--start", "2026-10-29", "--end", str(END))
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert _actual(env, "acme") == before
    batches = _mart(env, "select count(*) as n from raw.meta_batches where report = 'ad_daily'")[0]["n"]
    assert batches == 4  # two accounts x two syncs: superseded batches stay in raw, invisible to the marts


def test_sync_output_names_the_run_and_the_workspace(synced):
    assert "succeeded" in synced.stdout and "ok      acme" in synced.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--workspace", "nobody"], "no workspace 'nobody'"),
        (["sync", "--workspace", "acme", "--start", "2026-10-05"], "give both --start and --end"),
        (["sync", "--workspace", "acme", "--start", "2026-10-05", "--end", "2026-10-01"], "is after"),
        (["diagnose", "--workspace", "nobody"], "no workspace 'nobody'"),
        (["diagnose", "--workspace", "acme", "--night", "2026-13-01"], "2026-13-01"),
        (["sandbox", "serve", "--port", "0", "--faults", "gremlins=0.5"], "gremlins"),
        (["sandbox", "serve", "--port", "0", "--scenario", "atlantis"], "atlantis"),
    ],
)
def test_bad_input_is_a_clear_error(env, args, message):
    result = env.sentrum(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_token_is_refused(env):
    result = env.sentrum("workspaces", "add", "x", "--ad-accounts", "act_1", stdin="  \n")
    assert result.returncode == 2 and "no token" in result.stderr
