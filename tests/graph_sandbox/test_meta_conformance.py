"""The sandbox against Meta's documented behaviour (docs/meta-conformance.md gives each fact's source).

Expectations are Meta's facts written out (tests/graph_sandbox/meta_facts.py), never the sandbox's or the extractor's
own constants: a sandbox that drifts from the documents fails here, even when the extractor drifted the same way.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from graph_sandbox import SandboxServer, Scenario
from graph_sandbox.tokens import APP_ID, APP_SECRET
from tests.graph_sandbox.meta_facts import (
    AD_ACCOUNT_USAGE_KEYS,
    APP_USAGE_KEYS,
    ASYNC_STATUSES,
    BATCH_LIMIT,
    BUC_KEYS,
    DEBUG_TOKEN_FIELDS,
    HIDDEN,
    INSIGHTS_THROTTLE_KEYS,
    INVALID_CURSOR,
    INVALID_TOKEN,
    PERMISSION_CODES,
    PERMISSION_STATUSES,
    REPORT_NOT_READY,
    RESTATEMENT_DAYS,
    RUN_STATUS_NOT_VALID,
    STATUSES,
    TOKEN_EXPIRED_SUBCODE,
    TOO_OLD,
    every_status,
)

OCT = {"since": "2026-10-01", "until": "2026-10-14"}
ACME = "sandbox-token-acme"


def _rows(graph, path: str, token: str = ACME, **params) -> list[dict]:
    rows, after = [], None
    for _ in range(50):
        reply = graph("GET", path, token=token, limit=500, **params, **({"after": after} if after else {}))
        assert reply.status == 200, reply.body
        rows += reply.body["data"]
        if "next" not in reply.body.get("paging", {}):
            return rows
        after = reply.body["paging"]["cursors"]["after"]
    raise AssertionError("paging did not end")


def _spend(rows: list[dict], key: str | None = None) -> dict:
    out: dict = {}
    for r in rows:
        out[r.get(key) if key else None] = out.get(r.get(key) if key else None, Decimal(0)) + Decimal(r["spend"])
    return out


# ---- 1. visibility of archived and deleted objects in insights ------------------------------------------------


@pytest.mark.parametrize("level", ["ad", "adset", "campaign"])
def test_a_level_leaves_out_its_archived_and_deleted_objects_unless_its_filter_names_them(graph, demo, level) -> None:
    # "act_<ID>/insights?level=ad does not return stats for the deleted object"; "You can query insights for DELETED
    # objects using the ad.effective_status filter". The same for the object at the report's level (ad set, campaign).
    account = "act_1002" if level == "adset" else "act_2001" if level == "campaign" else "act_1001"
    objects = {"ad": demo.ads, "adset": demo.adsets, "campaign": demo.campaigns}[level](account)
    hidden = {o.id for o in objects if o.effective_status in HIDDEN}
    assert hidden
    token = "sandbox-token-globex" if account == "act_2001" else ACME
    params = {"level": level, "fields": [f"{level}_id", "spend"], "time_range": OCT, "time_increment": 1}
    default = _rows(graph, f"{account}/insights", token, **params)
    named = _rows(graph, f"{account}/insights", token, filtering=every_status(level), **params)
    assert not hidden & {r[f"{level}_id"] for r in default}
    assert hidden & {r[f"{level}_id"] for r in named}
    # "we include the stats of all children objects, no matter if the child is active, archived, or deleted": the
    # account row is the sum of the rows with every status, and more than the default rows' sum.
    [account_row] = _rows(graph, f"{account}/insights", token, fields=["spend"], time_range=OCT)
    assert Decimal(account_row["spend"]) == sum(_spend(named).values())
    assert Decimal(account_row["spend"]) > sum(_spend(default).values())


def test_a_deleted_ad_is_readable_by_id_and_its_live_parents_count_it(graph, demo) -> None:
    # "<AD_ID>/insights works for a deleted object"; "The ad set returns stats for both the deleted and the
    # non-deleted ads in it. However when you query for ads in the ad set, you only see one ad."
    deleted = next(a for a in demo.ads("act_1001") if a.status == "DELETED")
    adset = demo.adset(deleted.adset_id)
    assert adset.effective_status == "ACTIVE"  # an ad's status does not flow up
    own = _rows(graph, f"{deleted.id}/insights", fields=["ad_id", "spend"], time_range=OCT, time_increment=1)
    assert own and {r["ad_id"] for r in own} == {deleted.id}
    by_adset = _rows(graph, f"{adset.id}/insights", fields=["spend"], time_range=OCT)
    ads_in_adset = _rows(graph, f"{adset.id}/insights", level="ad", fields=["ad_id", "spend"], time_range=OCT)
    hidden = [a.id for a in demo.ads("act_1001") if a.adset_id == adset.id and a.effective_status in HIDDEN]
    assert deleted.id in hidden and not set(hidden) & {r["ad_id"] for r in ads_in_adset}
    by_id = sum(sum(_spend(_rows(graph, f"{a}/insights", fields=["spend"], time_range=OCT)).values()) for a in hidden)
    assert Decimal(by_adset[0]["spend"]) == sum(_spend(ads_in_adset).values()) + by_id


def test_a_deleted_campaigns_children_inherit_its_status(graph, demo) -> None:
    # "If [a campaign is set to] deleted, you cannot retrieve the ad sets or ads below that campaign without
    # explicitly specifying the IDs": its ads' own status stays ACTIVE, their effective status is DELETED.
    campaign = next(c for c in demo.campaigns("act_2001") if c.status == "DELETED")
    children = [a for a in demo.ads("act_2001") if a.campaign_id == campaign.id]
    assert (
        children and {a.effective_status for a in children} == {"DELETED"} and "ACTIVE" in {a.status for a in children}
    )
    params = {"level": "ad", "fields": ["ad_id", "spend"], "time_range": OCT}
    shown = {r["ad_id"] for r in _rows(graph, "act_2001/insights", "sandbox-token-globex", **params)}
    assert not shown & {a.id for a in children}
    # A filter on the campaign's status is not one on the ads': only ad.effective_status brings them back.
    campaign_filter = [{"field": "campaign.effective_status", "operator": "IN", "value": STATUSES["campaign"]}]
    via_campaign = _rows(graph, "act_2001/insights", "sandbox-token-globex", filtering=campaign_filter, **params)
    assert not {r["ad_id"] for r in via_campaign} & {a.id for a in children}
    named = _rows(graph, "act_2001/insights", "sandbox-token-globex", filtering=every_status("ad"), **params)
    assert {a.id for a in children} & {r["ad_id"] for r in named}


@pytest.mark.parametrize("level", ["ad", "adset", "campaign"])
def test_each_level_accepts_its_own_statuses_and_refuses_others(graph, level) -> None:
    # The SDK's enums per level; another level's value is refused (100/1487561 "Run Status not valid", SDK #388).
    params = {"level": level, "fields": ["spend"], "time_range": OCT}
    assert graph("GET", "act_1001/insights", filtering=every_status(level), **params).status == 200
    assert graph("GET", f"act_1001/{level}s", filtering=every_status(level)).status == 200
    foreign = sorted(set(STATUSES["ad"]) - set(STATUSES[level]))
    for value in foreign[:2]:
        bad = [{"field": f"{level}.effective_status", "operator": "IN", "value": [value]}]
        reply = graph("GET", f"act_1001/{level}s", filtering=bad)
        assert (reply.error["code"], reply.error["error_subcode"]) == RUN_STATUS_NOT_VALID, value


# ---- 2. edges ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["ad", "adset", "campaign"])
def test_edges_return_archived_and_deleted_objects_only_when_filtered_for(graph, demo, level) -> None:
    # "To get archived edges, you must specifically filter for the archived objects since we do not return them by
    # default"; "you cannot retrieve the deleted objects as a connection object from a non deleted node".
    objects = [o for a in ("act_1001", "act_1002") for o in {"ad": demo.ads, "adset": demo.adsets,
                                                             "campaign": demo.campaigns}[level](a)]  # fmt: skip
    for account in ("act_1001", "act_1002"):
        everything = {o["id"] for o in _rows(graph, f"{account}/{level}s", filtering=every_status(level))}
        default = {o["id"] for o in _rows(graph, f"{account}/{level}s")}
        mine = {o.id for o in objects if o.account_id == account[4:]}
        assert everything == mine
        assert default == {o.id for o in objects if o.id in mine and o.effective_status not in HIDDEN}


# ---- 3. paging --------------------------------------------------------------------------------------------------


def test_the_last_page_is_the_one_without_next(graph) -> None:
    # "If next is not included, this is the last page of data"; the SDK's Cursor notes "'after' will always exist".
    first = graph("GET", "act_1001/ads", filtering=every_status("ad"), limit=4).body
    assert len(first["data"]) == 4 and {"cursors", "next"} <= set(first["paging"])
    assert {"before", "after"} <= set(first["paging"]["cursors"])
    after, pages = first["paging"]["cursors"]["after"], 1
    while True:
        page = graph("GET", "act_1001/ads", filtering=every_status("ad"), limit=4, after=after).body
        pages += 1
        if "next" not in page["paging"]:
            assert page["paging"]["cursors"]["after"]  # the last page still carries a cursor
            break
        after = page["paging"]["cursors"]["after"]
    assert pages > 2
    # "your app shouldn't store cursors": a cursor is bound to its query; on insights a bad one is 2642
    reply = graph("GET", "act_1001/insights", level="ad", fields=["spend"], time_range=OCT, after=after)
    assert reply.error["code"] == INVALID_CURSOR


# ---- 4. async report runs ---------------------------------------------------------------------------------------


def test_report_runs_use_metas_statuses_including_failed_and_skipped(demo) -> None:
    params = {"fields": ["spend"], "time_range": OCT}
    with SandboxServer(demo, job_seconds=0.2, faults="jobfail=0.3,jobskip=0.3,seed=2") as srv:
        from tests.graph_sandbox.conftest import call

        runs = [call(srv, "POST", "act_1001/insights", **params).body["report_run_id"] for _ in range(12)]
        early = call(srv, "GET", f"{runs[0]}/insights")
        assert (early.error["code"], early.error["error_subcode"]) == REPORT_NOT_READY
        assert early.error["is_transient"] is True
        time.sleep(0.3)
        nodes = [call(srv, "GET", f"{r}/").body for r in runs]
    statuses = {n["async_status"] for n in nodes}
    assert statuses <= set(ASYNC_STATUSES) and {"Job Completed", "Job Failed", "Job Skipped"} <= statuses
    for n in nodes:
        if n["async_status"] == "Job Failed":  # v25.0+: the error fields come with a failed run
            assert {"error_code", "error_subcode", "error_message"} <= set(n)


# ---- 5. errors --------------------------------------------------------------------------------------------------


def test_error_codes_of_the_documents(graph, demo) -> None:
    bad = graph("GET", "act_1001/", token="not-a-token")
    assert bad.error["code"] == INVALID_TOKEN and {"message", "type", "code", "fbtrace_id"} <= set(bad.error)
    expired = graph("GET", "act_1001/", token="sandbox-token-acme-expired")
    assert (expired.error["code"], expired.error["error_subcode"]) == (INVALID_TOKEN, TOKEN_EXPIRED_SUBCODE)
    no_ads_read = graph("GET", "act_1001/", token="sandbox-token-acme-no-ads-read")
    assert no_ads_read.error["code"] in PERMISSION_CODES
    too_old = graph("GET", "act_1001/insights", time_range={"since": "2023-01-01", "until": "2023-01-31"})
    assert too_old.error["code"] == TOO_OLD and "37 months" in too_old.error["message"]


# ---- 6. usage headers -------------------------------------------------------------------------------------------


def test_usage_headers_have_the_documented_keys(graph) -> None:
    reply = graph("GET", "act_1001/insights", fields=["spend"], time_range=OCT)
    assert set(json.loads(reply.headers["x-app-usage"])) == APP_USAGE_KEYS
    assert set(json.loads(reply.headers["x-ad-account-usage"])) == AD_ACCOUNT_USAGE_KEYS
    buc = json.loads(reply.headers["x-business-use-case-usage"])
    for entries in buc.values():  # keyed by business id, a list of use cases each
        for e in entries:
            assert set(e) >= BUC_KEYS and e["type"] in {"ads_insights", "ads_management"}
    assert set(json.loads(reply.headers["x-fb-ads-insights-throttle"])) >= INSIGHTS_THROTTLE_KEYS


# ---- 7. restatement and attribution ----------------------------------------------------------------------------


def test_a_day_changes_up_to_28_days_after_and_never_after() -> None:
    # "Insights refresh every 15 minutes and do not change after 28 days of being reported"
    s = Scenario("demo", 42)
    changed_on_last_day = 0
    for offset in range(0, 40):
        day = date(2026, 9, 1) + timedelta(days=offset)
        figures = []
        for age in (RESTATEMENT_DAYS - 1, RESTATEMENT_DAYS, RESTATEMENT_DAYS + 1, RESTATEMENT_DAYS + 30):
            s.as_of = day + timedelta(days=age)
            figures.append(s.truth("account", "act_1001", day, day))
        assert figures[1] == figures[2] == figures[3], day  # final from day + 28 on
        changed_on_last_day += figures[0] != figures[1]
    assert changed_on_last_day > 10  # ... and still changing on day + 28 itself


def test_action_report_time_is_accepted_and_disregarded(graph) -> None:
    # Since 2025-06-10 "the use_unified_attribution_setting and action_report_time parameters will be disregarded";
    # every value of the documented enum is accepted, and the numbers are the same.
    params = {"level": "ad", "fields": ["ad_id", "actions"], "time_range": OCT, "filtering": every_status("ad")}
    answers = [
        graph("GET", "act_1001/insights", action_report_time=t, limit=500, **params).body["data"]
        for t in ("impression", "conversion", "mixed", "lifetime")
    ]
    assert answers[0] and all(a == answers[0] for a in answers)


def test_view_windows_are_accepted_but_no_longer_returned(graph) -> None:
    # "7-day view (7d_view) and 28-day view (28d_view) attribution windows will no longer be returned"
    windows = ["1d_click", "7d_click", "28d_click", "1d_view", "7d_view", "28d_view"]
    rows = graph(
        "GET", "act_1001/insights", fields=["actions"], time_range=OCT, action_attribution_windows=windows
    ).body["data"]
    keys = {k for r in rows for e in r["actions"] for k in e}
    assert {"1d_click", "7d_click", "28d_click", "1d_view", "value"} <= keys
    assert not {"7d_view", "28d_view"} & keys


# ---- 8. currencies, time zones, reach ---------------------------------------------------------------------------


def test_money_and_dates_as_meta_sends_them(graph, demo) -> None:
    # insights `spend` is a major-unit string; object budgets are minor-unit strings (USD offset 100, JPY 1); dates
    # are the account's ("We report ad insights data in the ad account's timezone").
    [usd] = graph("GET", "act_1001/insights", fields=["spend"], time_range=OCT).body["data"]
    [jpy] = graph("GET", "act_2001/insights", token="sandbox-token-globex", fields=["spend"], time_range=OCT).body[
        "data"
    ]
    assert "." in usd["spend"] and "." not in jpy["spend"]
    camp = next(c for c in demo.campaigns("act_2001") if c.daily_budget)
    node = graph("GET", f"{camp.id}/", token="sandbox-token-globex", fields="daily_budget").body
    assert isinstance(node["daily_budget"], str) and int(node["daily_budget"]) == camp.daily_budget
    tokyo = graph("GET", "act_2001/", token="sandbox-token-globex", fields="timezone_offset_hours_utc").body
    assert tokyo["timezone_offset_hours_utc"] == 9


def test_reach_is_not_the_sum_of_its_parts(graph) -> None:
    # Insights "automatically deduplicates data" at the level asked for: an account's reach is below its ads' sum.
    params = {"time_range": OCT, "filtering": every_status("ad")}
    [account] = graph("GET", "act_1001/insights", fields=["reach"], **params).body["data"]
    ads = _rows(graph, "act_1001/insights", level="ad", fields=["reach"], **params)
    assert int(account["reach"]) < sum(int(r["reach"]) for r in ads)


# ---- 9. token introspection -------------------------------------------------------------------------------------


def test_debug_token_reports_validity_type_expiry_and_scopes(graph) -> None:
    system = graph("GET", "debug_token", input_token=ACME).body["data"]  # the token inspects itself
    assert set(system) >= DEBUG_TOKEN_FIELDS
    assert system["is_valid"] is True and system["type"] == "SYSTEM_USER" and system["expires_at"] == 0
    assert "ads_read" in system["scopes"]
    # with the app token ("<app id>|<app secret>") as the caller
    user = graph("GET", "debug_token", token=f"{APP_ID}|{APP_SECRET}", input_token="sandbox-token-acme-user").body
    data = user["data"]
    assert data["type"] == "USER" and data["expires_at"] > time.time() and data["data_access_expires_at"] > 0
    # an unusable token is reported inside data, not as an error of the call
    dead = graph("GET", "debug_token", input_token="not-a-token").body["data"]
    assert dead["is_valid"] is False and dead["error"]["code"] == INVALID_TOKEN
    # ... but a caller with an unusable token gets an ordinary error
    assert graph("GET", "debug_token", token="not-a-token", input_token=ACME).error["code"] == INVALID_TOKEN


def test_permissions_and_ad_accounts_say_what_a_token_may_read(graph) -> None:
    granted = graph("GET", "me/permissions").body["data"]
    assert {p["status"] for p in granted} <= PERMISSION_STATUSES
    assert {"permission": "ads_read", "status": "granted"} in granted
    declined = graph("GET", "me/permissions", token="sandbox-token-acme-no-ads-read").body["data"]
    assert {"permission": "ads_read", "status": "declined"} in declined
    partial = graph("GET", "me/adaccounts", token="sandbox-token-acme-partial", fields="id,account_id").body["data"]
    assert [a["id"] for a in partial] == ["act_1001"]
    assert graph("GET", "act_1002/", token="sandbox-token-acme-partial").error["error_subcode"] == 33


# ---- 10. batch -----------------------------------------------------------------------------------------------------


def test_batch_holds_at_most_50_and_answers_each_item(graph) -> None:
    # "Batch requests are limited to 50 requests per batch"; each item has a code, headers and a JSON body string;
    # one item's error leaves the others whole.
    items = [{"method": "GET", "relative_url": "act_1001/?fields=name"}] * (BATCH_LIMIT - 1)
    items.append({"method": "GET", "relative_url": "act_2001/?fields=name"})
    reply = graph("POST", "/v26.0/", batch=items).body
    assert len(reply) == BATCH_LIMIT and [i["code"] for i in reply].count(200) == BATCH_LIMIT - 1
    assert all(isinstance(i["body"], str) and isinstance(i["headers"], list) for i in reply)
    assert json.loads(reply[-1]["body"])["error"]["code"] == 100
    assert graph("POST", "/v26.0/", batch=[*items, items[0]]).error["code"] == 100
