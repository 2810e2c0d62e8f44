"""The sandbox's ground truth (breakdowns that sum exactly, restatement by `as_of`) and its trouble-makers
(rate limits that throttle past 100%, the fault spec)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from graph_sandbox import SandboxServer, Scenario
from graph_sandbox.faults import FaultSpec, Poison
from graph_sandbox.metrics import apportion
from graph_sandbox.model import FAMILIES
from tests.graph_sandbox.conftest import ACME, fixed_clock
from tests.graph_sandbox.meta_facts import every_status

SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 10)
TIME_RANGE = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
ADDITIVE = ("spend", "impressions", "clicks", "inline_link_clicks")


# ---- breakdowns ---------------------------------------------------------------------------------------------


def test_apportion_is_exact_and_respects_caps() -> None:
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(12345, [3, 0, 7, 1])) == 12345 and apportion(12345, [3, 0, 7, 1])[1] == 0
    assert apportion(5, [1, 1], caps=[1, 9]) == [1, 4]
    assert apportion(0, [1, 2]) == [0, 0]
    with pytest.raises(ValueError):
        apportion(5, [1, 1], caps=[1, 1])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_breakdown_cells_sum_exactly_to_the_ad_day(demo: Scenario, family: str) -> None:
    checked = 0
    for account in demo.accounts():
        for ad in demo.ads(account.id):
            for d in range(0, 60, 7):
                day = date(2026, 9, 1) + timedelta(days=d)
                m = demo.ad_day(ad, day)
                if m is None:
                    continue
                cells = demo.ad_day_cells(ad, day, family)
                assert cells and all(dict(cell).keys() == set(FAMILIES[family]) for cell, _ in cells)
                for name in ADDITIVE:
                    assert sum(getattr(c, name) for _, c in cells) == getattr(m, name), (ad.id, day, name)
                totals: dict[tuple, Decimal] = defaultdict(Decimal)
                for _, c in cells:
                    assert 1 <= c.reach <= c.impressions and c.clicks <= c.impressions
                    assert c.inline_link_clicks <= c.clicks
                    per = dict(c.actions)
                    for key, figures in c.actions:
                        for i, v in enumerate(figures):
                            totals[(key, i)] += v
                    for total, parts in (("purchase", ("offsite_conversion.fb_pixel_purchase",
                                                       "onsite_conversion.purchase")),):  # fmt: skip
                        for metric in ("actions", "action_values"):
                            if (metric, total) in per:
                                summed = [
                                    sum(per.get((metric, p), (Decimal(0),) * 5)[i] for p in parts) for i in range(5)
                                ]
                                assert list(per[(metric, total)]) == summed
                assert {k: v for k, v in totals.items() if v} == {
                    (key, i): v for key, figures in m.actions for i, v in enumerate(figures) if v
                }
                checked += 1
    assert checked > 50


def test_breakdown_rows_through_the_api_equal_the_truth(graph, demo: Scenario) -> None:
    rows = []
    after = None
    while True:
        extra = {"after": after} if after else {}
        params = dict(
            level="ad",
            fields="ad_id,spend,impressions,reach",
            time_range=TIME_RANGE,
            time_increment=1,
            filtering=every_status("ad"),
        )
        page = graph("GET", "act_1001/insights", breakdowns=["age", "gender"], limit=500, **params, **extra).body
        rows += page["data"]
        if "next" not in page.get("paging", {}):
            break
        after = page["paging"]["cursors"]["after"]
    truth = demo.truth("ad", "act_1001", SINCE, UNTIL, breakdowns=["age", "gender"])
    assert len(rows) == len(truth) > 500
    assert [(r["ad_id"], r["date_start"], r["age"], r["gender"], r["spend"], r["impressions"]) for r in rows] == [
        (t.ad_id, t.date.isoformat(), t.breakdowns["age"], t.breakdowns["gender"], str(t.spend), str(t.impressions))
        for t in truth
    ]


@pytest.mark.parametrize("breakdowns", [["age"], ["country"], ["publisher_platform", "platform_position"],
                                        ["publisher_platform"], ["device_platform"]])  # fmt: skip
def test_breakdowns_at_any_level_add_up_to_the_unbroken_rows(demo: Scenario, breakdowns: list[str]) -> None:
    for level in ("account", "campaign"):
        plain = demo.truth(level, "act_1002", SINCE, UNTIL)
        split = demo.truth(level, "act_1002", SINCE, UNTIL, breakdowns=breakdowns)
        assert all(tuple(r.breakdowns) == tuple(breakdowns) for r in split)
        sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for r in split:
            for name in ADDITIVE:
                sums[(r.date, r.campaign_id)][name] += getattr(r, name)
            for a in r.actions:
                sums[(r.date, r.campaign_id)][(a.metric, a.action_type, a.window)] += a.value
        for p in plain:
            expected = {name: Decimal(getattr(p, name)) for name in ADDITIVE}
            expected.update({(a.metric, a.action_type, a.window): a.value for a in p.actions})
            assert dict(sums[(p.date, p.campaign_id)]) == expected


@pytest.mark.parametrize(
    ("breakdowns", "code", "subcode"),
    [(["age", "country"], 2, 1504041), (["platform_position"], 2, 1504041), (["region"], 100, None)],
)
def test_invalid_breakdowns_fail_like_meta(graph, breakdowns, code, subcode) -> None:
    reply = graph("GET", "act_1001/insights", time_range=TIME_RANGE, breakdowns=breakdowns)
    assert (reply.error["code"], reply.error.get("error_subcode")) == (code, subcode)


def test_conversions_fields_list_the_pixel_events(graph, demo: Scenario) -> None:
    fields = "conversions,conversion_values,actions"
    reply = graph("GET", "act_1001/insights", level="account", fields=fields, time_range=TIME_RANGE,
                  time_increment="all_days", action_attribution_windows=["28d_click"])  # fmt: skip
    (row,) = reply.body["data"]
    (truth,) = demo.truth("account", "act_1001", SINCE, UNTIL, time_increment="all_days")
    types = {e["action_type"] for e in row["conversions"]}
    assert types <= {"offsite_conversion.fb_pixel_purchase", "offsite_conversion.fb_pixel_lead"} and types
    for e in row["conversions"]:
        assert Decimal(e["28d_click"]) == truth.action(e["action_type"], "28d_click")
    for e in row["conversion_values"]:
        assert Decimal(e["value"]) == truth.action(e["action_type"], "value", "action_values")


def test_creatives_have_their_metadata(graph, demo: Scenario) -> None:
    fields = "name,title,body,object_type,call_to_action_type,url_tags,thumbnail_url,status"
    reply = graph("GET", "act_1001/adcreatives", fields=fields, limit=100)
    got = {c["id"]: c for c in reply.body["data"]}
    assert got.keys() == {c.id for c in demo.creatives("act_1001")}
    for c in demo.creatives("act_1001"):
        assert got[c.id]["call_to_action_type"] == c.call_to_action_type and got[c.id]["thumbnail_url"].startswith(
            "https"
        )
        assert got[c.id]["object_type"] in ("VIDEO", "PHOTO", "SHARE")


# ---- restatement ----------------------------------------------------------------------------------------------


def test_as_of_restates_the_last_28_days_and_nothing_older() -> None:
    s = Scenario("demo", 42, clock=fixed_clock)
    night = date(2026, 11, 10)
    s.as_of = night
    first = {(r.ad_id, r.date): r for r in s.truth("ad", "act_1001", date(2026, 9, 1), night)}
    s.as_of = night + timedelta(days=1)
    second = {(r.ad_id, r.date): r for r in s.truth("ad", "act_1001", date(2026, 9, 1), night)}
    assert first.keys() <= second.keys()
    changed = {d for k, d in first if first[(k, d)] != second[(k, d)]}
    assert changed and all(night - timedelta(days=28) < d <= night for d in changed)
    for k in first:
        a, b = first[k], second[k]
        assert (a.spend, a.impressions, a.clicks) == (b.spend, b.impressions, b.clicks)  # delivery is final
        assert all(x.value <= b.action(x.action_type, x.window, x.metric) for x in a.actions)  # conversions grow
    s.as_of = None  # fully matured: the same as long after
    matured = {(r.ad_id, r.date): r for r in s.truth("ad", "act_1001", date(2026, 9, 1), night)}
    s.as_of = night + timedelta(days=40)
    assert {(r.ad_id, r.date): r for r in s.truth("ad", "act_1001", date(2026, 9, 1), night)} == matured
    s.as_of = night
    assert max(r.date for r in s.truth("ad", "act_1001", night - timedelta(days=3), night + timedelta(days=5))) == night


# ---- rate limits ----------------------------------------------------------------------------------------------


def test_calls_past_the_budget_are_throttled_with_metas_errors(demo: Scenario, graph) -> None:
    with SandboxServer(demo, calls_per_minute=3, insights_calls_per_minute=2, window_seconds=1.0) as srv:
        replies = [graph("GET", "act_1001/", server=srv) for _ in range(4)]
        assert [r.status for r in replies] == [200, 200, 200, 400]
        last = replies[-1]
        assert (last.error["code"], last.error["error_subcode"]) == (17, 2446079)
        usage = json.loads(last.headers["x-ad-account-usage"])
        assert usage["acc_id_util_pct"] > 100 and usage["reset_time_duration"] >= 1
        time.sleep(1.1)
        assert graph("GET", "act_1002/", server=srv).status == 200  # another account was never limited
        ins = [graph("GET", "act_1001/insights", server=srv, time_range=TIME_RANGE) for _ in range(3)]
        assert [r.status for r in ins] == [200, 200, 400]
        assert ins[-1].error["code"] == 80000
        buc = json.loads(ins[-1].headers["x-business-use-case-usage"])["5550001001"]
        regain = {e["type"]: e["estimated_time_to_regain_access"] for e in buc}
        assert 0 < regain["ads_insights"] <= 1 / 60 + 0.001  # fractions of a minute: a time-scaled window
        assert srv.stats()["throttled_account"] == 1 and srv.stats()["throttled_insights-account"] == 1


def test_whole_minutes_to_regain_access_on_a_real_window() -> None:
    from graph_sandbox.usage import CallScope, UsageTracker

    clock = [0.0]
    tracker = UsageTracker(2, accounts=1, business_accounts={"9": 1}, clock=lambda: clock[0])
    scope = CallScope(account_id="1", business_id="9", insights=True)
    for _ in range(2):
        _, error = tracker.admit(scope)
        assert error is None
        clock[0] += 1
    headers, error = tracker.admit(scope)
    assert error is not None
    entry = json.loads(headers["x-business-use-case-usage"])["9"][0]
    assert entry["estimated_time_to_regain_access"] == 1  # whole minutes, as Meta sends them


# ---- faults ---------------------------------------------------------------------------------------------------


def test_fault_spec_parses_the_cli_form() -> None:
    spec = FaultSpec.parse(
        "transient=0.05,ratelimit=0.02,jobfail=0.1,stuck=0.05,badjson=0.01,expired_token=act_1001+1002,"
        "poison=123@2026-10-05:actions,seed=9"
    )
    assert (spec.transient, spec.ratelimit, spec.jobfail, spec.stuck, spec.badjson, spec.seed) == (
        0.05, 0.02, 0.1, 0.05, 0.01, 9,
    )  # fmt: skip
    assert spec.expired_token == {"act_1001", "act_1002"}
    assert spec.poison == (Poison("123", date(2026, 10, 5), "actions"),)
    assert not FaultSpec.parse(None).active and not FaultSpec.parse("").active and spec.active
    for bad in ("transient=2", "colour=0.1", "transient", "jobfail=x", "poison=1@notadate", "jobfail=0.6,stuck=0.6"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


FIELDS = ("name", "currency", "account_status")


def test_faults_are_reproducible_from_the_seed(demo: Scenario) -> None:
    def run() -> list[tuple[str, int]]:
        import requests

        out = []
        with SandboxServer(demo, faults="transient=0.3,badjson=0.2,seed=4") as srv:
            for i in range(30):
                r = requests.get(
                    f"{srv.url}/v26.0/act_1001/", params={"access_token": ACME, "fields": FIELDS[i % 3]}, timeout=5
                )
                out.append((r.text[:1], r.status_code))
        return out

    first = run()
    assert first == run()
    statuses = {s for _, s in first}
    assert {200, 500} <= statuses or {200, 503} <= statuses
    assert any(text == "{" and s == 200 for text, s in first)


def test_expired_token_badjson_and_failing_or_stuck_runs(demo: Scenario, graph) -> None:
    with SandboxServer(demo, job_seconds=0.2, faults="expired_token=act_1002") as srv:
        assert graph("GET", "act_1001/", server=srv).status == 200
        err = graph("GET", "act_1002/insights", server=srv).error
        assert (err["code"], err["error_subcode"]) == (190, 463)
    with SandboxServer(demo, faults="badjson=1.0") as srv:
        import requests

        text = requests.get(f"{srv.url}/v26.0/act_1001/", params={"access_token": ACME}, timeout=5).text
        with pytest.raises(ValueError):
            json.loads(text)
    with SandboxServer(demo, job_seconds=0.1, faults="jobfail=1.0") as srv:
        run_id = graph("POST", "act_1001/insights", server=srv, fields=["spend"], time_range=TIME_RANGE).body[
            "report_run_id"
        ]
        time.sleep(0.15)
        node = graph("GET", f"{run_id}/", server=srv, fields="async_status,error_code,error_subcode").body
        assert (node["async_status"], node["error_code"], node["error_subcode"]) == ("Job Failed", 2, 1504038)
    with SandboxServer(demo, job_seconds=0.1, faults="stuck=1.0") as srv:
        run_id = graph("POST", "act_1001/insights", server=srv, fields=["spend"], time_range=TIME_RANGE).body[
            "report_run_id"
        ]
        time.sleep(0.2)
        first = graph("GET", f"{run_id}/", server=srv, fields="async_status,async_percent_completion").body
        time.sleep(0.2)
        second = graph("GET", f"{run_id}/", server=srv, fields="async_status,async_percent_completion").body
        assert first == second and first["async_status"] == "Job Running"


def test_poison_fails_every_request_covering_it(demo: Scenario, graph) -> None:
    ad = demo.ads("act_1001")[0].id
    with SandboxServer(demo, job_seconds=0.05, faults=f"poison={ad}@2026-10-05:actions") as srv:
        covering = graph(
            "GET", "act_1001/insights", server=srv, level="ad", fields="spend,actions", time_range=TIME_RANGE
        )
        assert (covering.error["code"], covering.error["error_subcode"]) == (100, 1504018)
        other_field = graph("GET", "act_1001/insights", server=srv, level="ad", fields="spend", time_range=TIME_RANGE)
        other_day = graph("GET", "act_1001/insights", server=srv, level="ad", fields="actions",
                          time_range={"since": "2026-10-06", "until": "2026-10-10"})  # fmt: skip
        other_ad = graph("GET", "act_1001/insights", server=srv, level="ad", fields="actions", time_range=TIME_RANGE,
                         filtering=[{"field": "ad.id", "operator": "NOT_IN", "value": [ad]}])  # fmt: skip
        assert other_field.status == other_day.status == other_ad.status == 200


def test_serve_takes_faults_and_budgets_from_the_command_line() -> None:
    code = (
        "from graph_sandbox import serve; "
        "serve(0, 'small', seed=7, job_seconds=0.1, faults='expired_token=act_1201', calls_per_minute=50)"
    )
    proc = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[3]
        assert proc.stdout.readline().strip() == "Faults: expired_token=act_1201"
        import requests

        reply = requests.get(f"{url}/v26.0/act_1201/", params={"access_token": "sandbox-token-small-b"}, timeout=5)
        assert reply.json()["error"]["code"] == 190
        assert json.loads(reply.headers["x-app-usage"])["call_count"] >= 0
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(ValueError, match="unknown fault"):
        from graph_sandbox import serve

        serve(0, "small", faults="nonsense=1")
