"""The sandbox's Graph API protocol, exercised over plain HTTP (no SDK)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from graph_sandbox import SandboxServer, Scenario
from tests.graph_sandbox.meta_facts import every_status

ACME = "sandbox-token-acme"
GLOBEX = "sandbox-token-globex"
SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 14)
TIME_RANGE = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
ALL_STATUSES = ["ACTIVE", "PAUSED", "ARCHIVED", "DELETED", "CAMPAIGN_PAUSED", "ADSET_PAUSED"]
# The statuses each level knows (Meta refuses others on edges, facebook-python-business-sdk #388).
LEVEL_STATUSES = {
    "campaign": ["ACTIVE", "PAUSED", "ARCHIVED", "DELETED"],
    "adset": ["ACTIVE", "PAUSED", "ARCHIVED", "DELETED", "CAMPAIGN_PAUSED"],
    "ad": ALL_STATUSES,
}
ERROR_KEYS = {"message", "type", "code", "is_transient", "fbtrace_id"}


def _status_filter(level: str, statuses: list[str]) -> list[dict]:
    return [{"field": f"{level}.effective_status", "operator": "IN", "value": statuses}]


def _pages(graph, path: str, **params) -> list[dict]:
    """Follow `after` cursors the way the SDK does; returns the raw page bodies."""
    pages, after = [], None
    for _ in range(100):
        reply = graph("GET", path, **params, **({"after": after} if after else {}))
        assert reply.status == 200, reply.body
        pages.append(reply.body)
        if "next" not in reply.body.get("paging", {}):
            return pages
        after = reply.body["paging"]["cursors"]["after"]
    raise AssertionError("paging did not end")


# ---- nodes -------------------------------------------------------------------------------------------------


def test_account_node_returns_requested_fields_and_id(graph, demo: Scenario) -> None:
    reply = graph("GET", "act_1001/", fields="name,currency,timezone_name,account_status,business")
    assert reply.status == 200
    assert reply.body == {
        "name": "Acme US",
        "currency": "USD",
        "timezone_name": "America/Los_Angeles",
        "account_status": 1,
        "business": {"id": "5550001001", "name": "Acme Corp"},
        "id": "act_1001",
    }
    assert graph("GET", "act_1001").body == {"id": "act_1001"}
    offset = graph("GET", "act_2001/", token=GLOBEX, fields="timezone_offset_hours_utc").body
    assert offset["timezone_offset_hours_utc"] == 9


def test_object_nodes_are_readable_by_id_even_when_deleted(graph, demo: Scenario) -> None:
    deleted = next(ad for ad in demo.ads("act_1001") if ad.status == "DELETED")
    body = graph("GET", f"{deleted.id}/", fields="name,status,effective_status,creative,adset_id,created_time").body
    assert body["id"] == deleted.id
    assert body["effective_status"] == "DELETED"
    assert body["creative"] == {"id": deleted.creative_id}
    assert body["created_time"][-5] in "+-" and len(body["created_time"]) == 24  # 2026-03-12T15:02:47-0700
    campaign = demo.campaigns("act_1001")[0]
    body = graph("GET", f"{campaign.id}/", fields="objective,daily_budget,lifetime_budget,stop_time").body
    assert body["objective"] == campaign.objective
    budget = campaign.daily_budget if campaign.daily_budget is not None else campaign.lifetime_budget
    assert body.get("daily_budget", body.get("lifetime_budget")) == (str(budget) if budget is not None else None)


def test_budgets_are_minor_units(graph, demo: Scenario) -> None:
    # Daily budgets are drawn between 10 and 400 USD-equivalent: cents for USD, whole yen for JPY (offset 1).
    bounds = {"act_1001": (10 * 100, 400 * 100), "act_2001": (10 * 150, 400 * 150)}
    for token, account in ((ACME, "act_1001"), (GLOBEX, "act_2001")):
        daily = {}
        for edge, level in (("campaigns", "campaign"), ("adsets", "adset")):
            body = graph(
                "GET",
                f"{account}/{edge}",
                token=token,
                fields="daily_budget,lifetime_budget",
                filtering=_status_filter(level, LEVEL_STATUSES[level]),
                limit=100,
            ).body
            daily.update({o["id"]: o["daily_budget"] for o in body["data"] if "daily_budget" in o})
        assert daily, account
        low, high = bounds[account]
        assert all(isinstance(v, str) and low <= int(v) <= high for v in daily.values()), daily
        expected = {o.id: o.daily_budget for o in demo.campaigns(account) + demo.adsets(account)}
        assert all(int(v) == expected[k] for k, v in daily.items())


def test_me_and_adaccounts_list_the_tokens_accounts(graph) -> None:
    assert graph("GET", "me", fields="id,name").body["name"] == "Sandbox User"
    body = graph("GET", "me/adaccounts", fields="account_id,currency").body
    assert [a["id"] for a in body["data"]] == ["act_1001", "act_1002"]
    assert body["data"][1]["currency"] == "EUR"


# ---- paging and visibility ---------------------------------------------------------------------------------


def test_paging_cursors_like_meta(graph, server: SandboxServer, demo: Scenario) -> None:
    pages = _pages(
        graph,
        "act_1001/ads",
        fields="id,effective_status",
        limit=4,
        filtering=_status_filter("ad", ALL_STATUSES),
        summary=True,
    )
    ids = [ad["id"] for page in pages for ad in page["data"]]
    assert sorted(ids) == sorted(ad.id for ad in demo.ads("act_1001"))
    assert len(ids) == len(set(ids)) == 15
    assert len(pages) == 4
    for page in pages:
        assert page["summary"] == {"total_count": 15}
        cursors = page["paging"]["cursors"]
        assert cursors["before"] and cursors["after"]  # present on the last page too
    for page in pages[:-1]:
        nxt = urlsplit(page["paging"]["next"])
        assert f"{nxt.scheme}://{nxt.netloc}" == server.url
        assert parse_qs(nxt.query)["after"] == [page["paging"]["cursors"]["after"]]
    assert "next" not in pages[-1]["paging"]
    # paging.next is a working absolute URL (the SDK does not follow it, other clients do).
    followed = requests.get(pages[0]["paging"]["next"], timeout=10).json()
    assert followed["data"] == pages[1]["data"]
    # The `before` cursor goes back.
    back = graph(
        "GET",
        "act_1001/ads",
        fields="id,effective_status",
        limit=4,
        filtering=_status_filter("ad", ALL_STATUSES),
        before=pages[1]["paging"]["cursors"]["before"],
    )
    assert back.body["data"] == pages[0]["data"]


def test_cursor_from_another_query_is_rejected(graph) -> None:
    first = graph("GET", "act_1001/ads", limit=2).body
    reply = graph("GET", "act_1001/campaigns", limit=2, after=first["paging"]["cursors"]["after"])
    assert reply.status == 400 and reply.error["code"] == 100
    assert graph("GET", "act_1001/ads", after="not-a-cursor").error["code"] == 100


def test_empty_result_is_bare_data(graph) -> None:
    reply = graph("GET", "act_1001/ads", filtering=_status_filter("ad", ["WITH_ISSUES"]))
    assert reply.status == 200 and reply.body == {"data": []}


def test_archived_and_deleted_hidden_unless_filter_names_them(graph, demo: Scenario) -> None:
    def ids(edge: str, **params) -> set[str]:
        return {o["id"] for page in _pages(graph, f"act_1001/{edge}", limit=50, **params) for o in page["data"]}

    ads = demo.ads("act_1001")
    assert ids("ads") == {a.id for a in ads if a.effective_status not in ("ARCHIVED", "DELETED")}
    assert ids("ads", filtering=_status_filter("ad", ALL_STATUSES)) == {a.id for a in ads}
    assert ids("ads", filtering=_status_filter("ad", ["DELETED"])) == {
        a.id for a in ads if a.effective_status == "DELETED"
    }
    assert ids("ads", effective_status=["ARCHIVED"]) == {a.id for a in ads if a.effective_status == "ARCHIVED"}
    # Bare "effective_status" works too; a parent filter alone keeps the default visibility.
    plain = [{"field": "effective_status", "operator": "IN", "value": ["ARCHIVED"]}]
    assert ids("campaigns", filtering=plain) == {c.id for c in demo.campaigns("act_1001") if c.status == "ARCHIVED"}
    first_campaign = demo.campaigns("act_1001")[0]
    parent = [{"field": "campaign.id", "operator": "IN", "value": [first_campaign.id]}]
    assert ids("ads", filtering=parent) == {
        a.id for a in ads if a.campaign_id == first_campaign.id and a.effective_status not in ("ARCHIVED", "DELETED")
    }
    # A deleted ad set (act_1002) is missing by default and present when filtered for.
    deleted_adsets = {s.id for s in demo.adsets("act_1002") if s.status == "DELETED"}
    assert deleted_adsets
    default = {o["id"] for o in graph("GET", "act_1002/adsets", limit=50).body["data"]}
    assert not deleted_adsets & default
    named = graph("GET", "act_1002/adsets", limit=50, filtering=_status_filter("adset", ["DELETED"])).body
    assert {o["id"] for o in named["data"]} == deleted_adsets


def test_invalid_filter_values_fail_with_100(graph) -> None:
    assert graph("GET", "act_1001/ads", filtering=_status_filter("ad", ["BOGUS"])).error["code"] == 100
    bad_field = [{"field": "ad.colour", "operator": "IN", "value": ["x"]}]
    assert graph("GET", "act_1001/ads", filtering=bad_field).error["code"] == 100
    assert graph("GET", "act_1001/ads", filtering="{not json").error["code"] == 100


# ---- errors ------------------------------------------------------------------------------------------------


def test_bad_token_is_190_in_metas_shape(graph) -> None:
    reply = graph("GET", "act_1001/", token="not-a-token")
    assert reply.status == 400
    assert reply.error.keys() >= ERROR_KEYS
    assert reply.error["code"] == 190
    assert reply.error["type"] == "OAuthException"
    assert reply.error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert reply.error["is_transient"] is False
    missing = graph("GET", "act_1001/", token=None)
    assert missing.status == 400 and missing.error["code"] == 104


def test_foreign_or_unknown_objects_are_100_33(graph, demo: Scenario) -> None:
    globex_campaign = demo.campaigns("act_2001")[0].id
    for path in ("act_2001/", "act_9999/", f"{globex_campaign}/", "123456/", "act_2001/insights"):
        reply = graph("GET", path)
        assert reply.status == 400, path
        assert (reply.error["code"], reply.error["error_subcode"]) == (100, 33), path
        assert reply.error["type"] == "GraphMethodException"
        assert "does not exist, cannot be loaded due to missing permissions" in reply.error["message"]


def test_unknown_fields_fail_with_100(graph) -> None:
    reply = graph("GET", "act_1001/", fields="name,colour")
    assert reply.error["code"] == 100
    assert reply.error["message"] == "(#100) Tried accessing nonexisting field (colour) on node type (AdAccount)"
    assert graph("GET", "act_1001/ads", fields="id,colour").error["code"] == 100
    insights = graph("GET", "act_1001/insights", fields="spend,colour", time_range=TIME_RANGE)
    assert insights.error["code"] == 100
    assert "colour is not valid for fields param" in insights.error["message"]
    # Real but unmodelled fields are accepted and omitted, as Meta omits empty fields.
    assert graph("GET", "act_1001/", fields="name,balance").body == {"name": "Acme US", "id": "act_1001"}


def test_versions_and_paths(graph, server: SandboxServer) -> None:
    assert graph("GET", "/v25.0/act_1001/").status == 200
    assert graph("GET", "/v27.0/act_1001/").status == 200
    assert graph("GET", "/v19.0/act_1001/").error["code"] == 2635
    assert graph("GET", "/latest/act_1001/").error["code"] == 2500
    assert graph("GET", "/act_1001/").error["code"] == 2500
    assert graph("GET", "act_1001/colours").error["code"] == 2500
    assert graph("GET", "act_1001/ads/extra").error["code"] == 2500


def test_write_attempts_are_refused_and_counted(graph, server: SandboxServer, demo: Scenario) -> None:
    ad = demo.ads("act_1001")[0]
    attempts = [
        graph("POST", "act_1001/campaigns", name="New campaign", objective="OUTCOME_SALES"),
        graph("POST", f"{ad.id}/", status="PAUSED"),
        graph("DELETE", f"{ad.id}/"),
        graph("PUT", "act_1001/"),
        graph("POST", "/v26.0/", name="no batch"),
    ]
    for reply in attempts:
        assert reply.status == 400
        assert reply.error["code"] == 3
        assert reply.error["message"] == "(#3) Application does not have the capability to make this API call."
    assert server.stats()["write_attempt"] == 5
    assert graph("GET", f"{ad.id}/", fields="status").body["status"] == ad.status


def test_request_log_never_holds_tokens(graph, server: SandboxServer) -> None:
    graph("GET", "act_1001/", fields="name")
    graph("GET", "act_1001/", token="leaky-secret-token")
    graph("POST", "/v26.0/", batch=[{"method": "GET", "relative_url": f"act_1001/?access_token={ACME}"}])
    records = server.requests
    assert len(records) == 4
    assert all("access_token" not in r.params and "appsecret_proof" not in r.params for r in records)
    dump = repr(records)
    assert ACME not in dump and "leaky-secret-token" not in dump
    assert [r.error_code for r in records] == [None, 190, None, None]
    assert records[0].kind == "account" and records[0].account_id == "act_1001"
    assert [r.in_batch for r in records] == [False, False, True, False]


# ---- insights ----------------------------------------------------------------------------------------------


def test_sync_insights_rows_are_strings_and_match_truth(graph, demo: Scenario) -> None:
    fields = ["account_id", "ad_id", "spend", "impressions", "clicks", "reach", "actions", "account_currency"]
    pages = _pages(
        graph,
        "act_2001/insights",
        token=GLOBEX,
        level="ad",
        fields=fields,
        time_range=TIME_RANGE,
        time_increment=1,
        limit=50,
        filtering=every_status("ad"),
    )
    rows = [row for page in pages for row in page["data"]]
    truth = demo.truth_ad_daily("act_2001", SINCE, UNTIL)
    assert len(rows) == len(truth) > 50
    for row, t in zip(rows, truth, strict=True):
        assert set(row) <= set(fields) | {"date_start", "date_stop"}
        assert row["account_id"] == "2001" and row["account_currency"] == "JPY"
        assert row["ad_id"] == t.ad_id
        assert row["date_start"] == row["date_stop"] == t.date.isoformat()
        assert row["spend"] == str(t.spend) and "." not in row["spend"]  # JPY has no minor unit
        assert row["impressions"] == str(t.impressions) and row["clicks"] == str(t.clicks)
        assert all(isinstance(v, str) for k, v in row.items() if k != "actions")
        if "actions" in row:
            assert all(isinstance(v, str) for entry in row["actions"] for v in entry.values())
            assert set(row["actions"][0]) == {"action_type", "value"}  # default window only
        else:
            assert not [a for a in t.actions if a.metric == "actions" and a.window == "value"]
    assert "campaign_id" not in rows[0]


def test_insights_default_level_is_account_and_ids_only_when_asked(graph, demo: Scenario) -> None:
    body = graph("GET", "act_1001/insights", fields="spend,impressions", time_range=TIME_RANGE).body
    truth = demo.truth("account", "act_1001", SINCE, UNTIL, time_increment="all_days")
    assert body["data"] == [
        {
            "spend": str(truth[0].spend),
            "impressions": str(truth[0].impressions),
            "date_start": "2026-10-01",
            "date_stop": "2026-10-14",
        }
    ]


def test_insights_hide_deleted_and_archived_ads_unless_their_statuses_are_named(graph, demo: Scenario) -> None:
    gone = {a.id for a in demo.ads("act_1001") if a.effective_status in ("ARCHIVED", "DELETED")}
    params = {
        "level": "ad",
        "fields": ["ad_id", "spend"],
        "time_range": TIME_RANGE,
        "time_increment": 1,
        "limit": 500,
    }
    # As on Meta: act_X/insights?level=ad leaves out archived and deleted ads by default...
    default = graph("GET", "act_1001/insights", **params).body["data"]
    assert default and not gone & {r["ad_id"] for r in default}
    # ... and brings them back when a filter on ad.effective_status names their statuses.
    rows = graph("GET", "act_1001/insights", filtering=every_status("ad"), **params).body["data"]
    assert gone & {r["ad_id"] for r in rows}
    deleted_spend = sum(Decimal(r["spend"]) for r in rows if r["ad_id"] in gone)
    assert deleted_spend > 0
    active_only = graph("GET", "act_1001/insights", filtering=_status_filter("ad", ["ACTIVE"]), **params).body
    assert not gone & {r["ad_id"] for r in active_only["data"]}
    # The account total includes the deleted ads' spend: with every status the ads add up to it, without they fall
    # short by exactly the hidden ads' spend.
    total = graph("GET", "act_1001/insights", fields="spend", time_range=TIME_RANGE).body["data"][0]["spend"]
    assert Decimal(total) == sum(Decimal(r["spend"]) for r in rows)
    assert Decimal(total) - sum(Decimal(r["spend"]) for r in default) == deleted_spend


def test_insights_filtering_by_ids_and_levels(graph, demo: Scenario) -> None:
    campaign = demo.campaigns("act_1001")[0]
    by_campaign = graph(
        "GET",
        "act_1001/insights",
        level="campaign",
        fields=["campaign_id", "campaign_name", "spend"],
        time_range=TIME_RANGE,
        filtering=[{"field": "campaign.id", "operator": "IN", "value": [campaign.id]}],
    ).body["data"]
    assert [r["campaign_id"] for r in by_campaign] == [campaign.id]
    assert by_campaign[0]["campaign_name"] == campaign.name
    truth = demo.truth("campaign", "act_1001", SINCE, UNTIL, time_increment="all_days")
    assert by_campaign[0]["spend"] == str(next(t.spend for t in truth if t.campaign_id == campaign.id))
    # Insights on a campaign node default to campaign level.
    node = graph("GET", f"{campaign.id}/insights", fields="campaign_id,spend", time_range=TIME_RANGE).body["data"]
    assert node == [{k: v for k, v in r.items() if k != "campaign_name"} for r in by_campaign]
    assert graph("GET", f"{campaign.id}/insights", level="account").error["code"] == 100


def test_insights_attribution_windows(graph, demo: Scenario) -> None:
    windows = ["1d_click", "7d_click", "28d_click", "1d_view", "7d_view", "28d_view"]
    rows = graph(
        "GET",
        "act_1001/insights",
        level="account",
        fields="actions,action_values",
        time_range=TIME_RANGE,
        time_increment=1,
        action_attribution_windows=windows,
    ).body["data"]
    entry = next(e for row in rows for e in row["actions"] if e["action_type"] == "purchase")
    assert list(entry) == ["action_type", "value", "1d_click", "7d_click", "28d_click", "1d_view"]
    for row in rows:
        for metric in ("actions", "action_values"):
            for e in row.get(metric, []):
                v = {k: Decimal(x) for k, x in e.items() if k != "action_type"}
                assert v["1d_click"] <= v["7d_click"] <= v["28d_click"]
                assert v["value"] == v["7d_click"] + v["1d_view"]
    bad = graph("GET", "act_1001/insights", time_range=TIME_RANGE, action_attribution_windows=["2d_click"])
    assert bad.error["code"] == 100


@pytest.mark.parametrize(
    "params",
    [
        {"time_range": {"since": "2026-10-14", "until": "2026-10-01"}},
        {"time_range": {"since": "2026-13-01", "until": "2026-10-01"}},
        {"time_range": "2026-10-01"},
        {"time_range": TIME_RANGE, "time_increment": "weekly"},
        {"time_range": TIME_RANGE, "level": "creative"},
        {"time_range": TIME_RANGE, "breakdowns": ["age", "shoe_size"]},
        {"time_range": TIME_RANGE, "breakdowns": ["region"]},
        {"date_preset": "last_millennium"},
        {"time_range": TIME_RANGE, "limit": "lots"},
    ],
)
def test_insights_bad_params_fail_with_100(graph, params: dict) -> None:
    reply = graph("GET", "act_1001/insights", fields="spend", **params)
    assert reply.status == 400 and reply.error["code"] == 100, reply.body


def test_insights_older_than_37_months_fail(graph) -> None:
    reply = graph("GET", "act_1001/insights", time_range={"since": "2023-09-01", "until": "2023-09-30"})
    assert reply.status == 400 and reply.error["code"] == 3018  # the insights reference's error table
    assert "37 months" in reply.error["message"]
    ok = graph("GET", "act_1001/insights", time_range={"since": "2023-11-01", "until": "2023-11-30"})
    assert ok.status == 200 and ok.body == {"data": []}


def test_insights_time_increments_and_presets(graph, demo: Scenario) -> None:
    weekly = graph("GET", "act_1001/insights", fields="spend", time_range=TIME_RANGE, time_increment=7).body["data"]
    assert [(r["date_start"], r["date_stop"]) for r in weekly] == [
        ("2026-10-01", "2026-10-07"),
        ("2026-10-08", "2026-10-14"),
    ]
    daily = demo.truth_daily("account", "act_1001", SINCE, UNTIL)
    assert sum(Decimal(r["spend"]) for r in weekly) == sum(t.spend for t in daily)
    last7 = graph("GET", "act_1001/insights", fields="spend", date_preset="last_7d", time_increment=1).body["data"]
    assert [r["date_start"] for r in last7] == [f"2026-11-{d}" for d in range(20, 27)]  # LA today: 2026-11-27
    ranges = graph(
        "GET",
        "act_1001/insights",
        fields="spend",
        time_ranges=[
            {"since": "2026-10-01", "until": "2026-10-03"},
            {"since": "2026-10-04", "until": "2026-10-14"},
        ],
    ).body["data"]
    assert sum(Decimal(r["spend"]) for r in ranges) == sum(t.spend for t in daily)


def test_no_insights_after_today(graph, demo: Scenario) -> None:
    rows = graph(
        "GET",
        "act_1001/insights",
        fields="spend",
        time_increment=1,
        time_range={"since": "2026-11-20", "until": "2026-12-31"},
    ).body["data"]
    assert rows and rows[-1]["date_start"] <= "2026-11-27"


def test_sync_row_cap_is_too_many_rows(demo: Scenario, graph) -> None:
    with SandboxServer(demo, sync_row_cap=10, job_seconds=0) as small:
        params = {"level": "ad", "fields": ["spend"], "time_range": TIME_RANGE, "time_increment": 1}
        reply = graph("GET", "act_1001/insights", server=small, **params)
        assert reply.status == 400
        assert (reply.error["code"], reply.error["error_subcode"]) == (100, 1487534)
        assert "reduce the amount of data" in reply.error["message"]
        # The same request as an async job is fine.
        run_id = graph("POST", "act_1001/insights", server=small, **params).body["report_run_id"]
        assert graph("GET", f"{run_id}/insights", server=small, limit=500).status == 200


# ---- async report runs -------------------------------------------------------------------------------------


def test_async_report_run_lifecycle(graph, demo: Scenario) -> None:
    # A run of its own server with a 0.8 s job, so the early read is early even on a slow machine.
    with SandboxServer(demo, job_seconds=0.8) as server:
        _check_async_lifecycle(lambda *a, **kw: graph(*a, server=server, **kw), server, demo)


def _check_async_lifecycle(graph, server: SandboxServer, demo: Scenario) -> None:
    params = {
        "level": "adset",
        "fields": ["adset_id", "spend", "impressions"],
        "time_range": TIME_RANGE,
        "time_increment": 1,
        "filtering": every_status("adset"),
    }
    # The SDK sends fields as a JSON array string on POST; the query-string token rides along.
    created = graph("POST", "act_1001/insights", **params)
    assert created.status == 200 and list(created.body) == ["report_run_id"]
    run_id = created.body["report_run_id"]
    assert run_id.isdigit()

    early = graph("GET", f"{run_id}/insights")
    assert early.status == 400
    assert (early.error["code"], early.error["error_subcode"]) == (2601, 1815107)
    assert early.error["is_transient"] is True

    seen, node = [], {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        node = graph("GET", f"{run_id}/", fields="async_status,async_percent_completion").body
        seen.append((node["async_status"], node["async_percent_completion"]))
        if node["async_status"] == "Job Completed":
            break
        time.sleep(0.03)
    assert seen[-1] == ("Job Completed", 100)
    assert seen[0][0] in ("Job Not Started", "Job Started", "Job Running")
    percents = [p for _, p in seen]
    assert percents == sorted(percents)
    full = graph("GET", f"{run_id}/").body
    assert {
        "id",
        "account_id",
        "async_status",
        "async_percent_completion",
        "date_start",
        "date_stop",
        "time_ref",
        "time_completed",
        "is_running",
    } <= set(full)
    assert full["account_id"] == "1001" and full["is_running"] is False
    assert (full["date_start"], full["date_stop"]) == ("2026-10-01", "2026-10-14")

    pages = _pages(graph, f"{run_id}/insights", limit=10)
    assert len(pages) > 1
    rows = [r for p in pages for r in p["data"]]
    sync = _pages(graph, "act_1001/insights", limit=500, **params)[0]["data"]
    assert rows == sync
    truth = demo.truth_daily("adset", "act_1001", SINCE, UNTIL)
    assert [(r["adset_id"], r["date_start"], r["spend"]) for r in rows] == [
        (t.adset_id, t.date.isoformat(), str(t.spend)) for t in truth
    ]
    # Another token cannot see the run.
    other = graph("GET", f"{run_id}/", token=GLOBEX)
    assert (other.error["code"], other.error["error_subcode"]) == (100, 33)
    stats = server.stats()
    assert stats["insights_async"] == 1 and stats["report_run"] >= 2 and stats["report_run_insights"] >= 3


def test_async_post_validates_like_sync(graph) -> None:
    reply = graph("POST", "act_1001/insights", fields=["spend", "colour"], time_range=TIME_RANGE)
    assert reply.error["code"] == 100
    assert graph("POST", "act_2001/insights", fields=["spend"]).error["error_subcode"] == 33


# ---- batch -------------------------------------------------------------------------------------------------


def test_batch_replies_per_item(graph, server: SandboxServer, demo: Scenario) -> None:
    ad = demo.ads("act_1001")[0]
    batch = [
        {"method": "GET", "relative_url": "act_1001/?fields=name,currency"},
        {"method": "GET", "relative_url": f"v26.0/{ad.id}?fields=name"},
        {"method": "GET", "relative_url": "act_2001/?fields=name"},
        {"method": "GET", "relative_url": "act_2001/?fields=name&access_token=sandbox-token-globex"},
        {"method": "POST", "relative_url": "act_1001/campaigns", "body": "name=x"},
    ]
    reply = graph("POST", "/v26.0/", batch=batch, include_headers=True)
    assert reply.status == 200 and isinstance(reply.body, list) and len(reply.body) == 5
    codes = [item["code"] for item in reply.body]
    assert codes == [200, 200, 400, 200, 400]
    bodies = [json.loads(item["body"]) for item in reply.body]
    assert bodies[0] == {"name": "Acme US", "currency": "USD", "id": "act_1001"}
    assert bodies[1] == {"name": ad.name, "id": ad.id}
    assert bodies[2]["error"]["error_subcode"] == 33
    assert bodies[3]["name"] == "Globex Japan"
    assert bodies[4]["error"]["code"] == 3
    headers = {h["name"]: h["value"] for h in reply.body[0]["headers"]}
    assert json.loads(headers["x-app-usage"])["call_count"] >= 0
    stats = server.stats()
    assert stats["batch"] == 1 and stats["batch_items"] == 5 and stats["write_attempt"] == 1


def test_batch_polls_report_runs(graph) -> None:
    run_ids = [
        graph("POST", "act_1001/insights", fields=["spend"], time_range=TIME_RANGE).body["report_run_id"]
        for _ in range(3)
    ]
    batch = [{"method": "GET", "relative_url": f"{r}/?fields=async_status,async_percent_completion"} for r in run_ids]
    items = graph("POST", "/v26.0/", batch=batch).body
    assert [json.loads(i["body"])["id"] for i in items] == run_ids


def test_batch_limits_and_errors(graph) -> None:
    too_many = [{"method": "GET", "relative_url": "act_1001/"}] * 51
    assert graph("POST", "/v26.0/", batch=too_many).error["code"] == 100
    assert graph("POST", "/v26.0/", batch="[not json").error["code"] == 100
    assert graph("POST", "/v26.0/", token="bad", batch=[]).error["code"] == 190


# ---- usage headers -----------------------------------------------------------------------------------------


def test_usage_headers_on_every_response(demo: Scenario, graph) -> None:
    with SandboxServer(demo, calls_per_minute=100, app_calls_per_minute=100) as srv:
        account = graph("GET", "act_1001/", server=srv)
        again = graph("GET", "act_1001/", server=srv)
        insights = graph("GET", "act_1001/insights", server=srv, time_range=TIME_RANGE)
        error = graph("GET", "act_1001/", server=srv, token="bad")
        for reply in (account, again, insights, error):
            app = json.loads(reply.headers["x-app-usage"])
            assert set(app) == {"call_count", "total_time", "total_cputime"}
        assert json.loads(again.headers["x-app-usage"])["call_count"] == 2  # 2 calls of a 100/minute budget
        acc = json.loads(again.headers["x-ad-account-usage"])
        assert acc == {
            "acc_id_util_pct": 2.0,
            "reset_time_duration": 0,
            "ads_api_access_tier": "standard_access",
        }
        buc = json.loads(again.headers["x-business-use-case-usage"])
        assert list(buc) == ["5550001001"]
        assert buc["5550001001"][0]["type"] == "ads_management"
        assert {
            "call_count",
            "total_cputime",
            "total_time",
            "estimated_time_to_regain_access",
            "ads_api_access_tier",
        } <= set(buc["5550001001"][0])
        throttle = json.loads(insights.headers["x-fb-ads-insights-throttle"])
        assert set(throttle) == {"app_id_util_pct", "acc_id_util_pct", "ads_api_access_tier"}
        assert "ads_insights" in {
            e["type"] for e in json.loads(insights.headers["x-business-use-case-usage"])["5550001001"]
        }
        assert "x-fb-ads-insights-throttle" not in account.headers
        assert "x-ad-account-usage" not in error.headers


# ---- server lifecycle --------------------------------------------------------------------------------------


@pytest.mark.timeout(60)  # a stop that waited for the idle keep-alive connection would hang here: a failure
def test_stop_returns_with_a_keepalive_connection_open_and_closes_it(demo: Scenario) -> None:
    srv = SandboxServer(demo).start()
    session = requests.Session()
    assert session.get(f"{srv.url}/v26.0/act_1001/", params={"access_token": ACME}, timeout=5).status_code == 200
    url = srv.url
    srv.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(f"{url}/v26.0/act_1001/", params={"access_token": ACME}, timeout=2)
    srv.stop()  # idempotent


def test_latency_and_loopback_only(demo: Scenario) -> None:
    with pytest.raises(ValueError):
        SandboxServer(demo, host="0.0.0.0")
    with SandboxServer(demo, latency_ms=60) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        started = time.monotonic()
        requests.get(f"{srv.url}/v26.0/act_1001/", params={"access_token": ACME}, timeout=5)
        assert time.monotonic() - started >= 0.06


def test_fault_hook_can_inject_errors(demo: Scenario, graph) -> None:
    from graph_sandbox import GraphError

    def hook(info):
        return GraphError(2, "Service temporarily unavailable", transient=True) if info.insights else None

    with SandboxServer(demo, fault_hook=hook) as srv:
        assert graph("GET", "act_1001/", server=srv).status == 200
        reply = graph("GET", "act_1001/insights", server=srv, time_range=TIME_RANGE)
        assert reply.error["code"] == 2 and reply.error["is_transient"] is True


def test_serve_runs_in_the_foreground_until_sigterm() -> None:
    code = "from graph_sandbox import serve; serve(0, 'small', seed=7, job_seconds=0.1)"
    proc = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.split()[3]
        assert url.startswith("http://127.0.0.1:") and "'small'" in first
        assert proc.stdout.readline().strip() == "Tokens:"
        assert proc.stdout.readline().strip() == "sandbox-token-small-a: act_1101, act_1102"
        reply = requests.get(f"{url}/v26.0/act_1201/", params={"access_token": "sandbox-token-small-b"}, timeout=5)
        assert reply.json() == {"id": "act_1201"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
