"""The unmodified facebook-business SDK against the sandbox, and the scenario's ground truth itself."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from facebook_business.adobjects.ad import Ad as SdkAd
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from graph_sandbox import (
    SCENARIOS,
    WINDOWS,
    ActionValue,
    SandboxServer,
    Scenario,
    TruthRow,
    demo_workspaces,
)
from graph_sandbox.currency import ZERO_DECIMAL_CURRENCIES
from tests.graph_sandbox.meta_facts import every_status

ACME = "sandbox-token-acme"
SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 14)
REQUESTED_WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view")
ALL_STATUSES = [
    "ACTIVE",
    "PAUSED",
    "ARCHIVED",
    "DELETED",
    "CAMPAIGN_PAUSED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
]


def sdk_api(server: SandboxServer, token: str = ACME) -> FacebookAdsApi:
    session = FacebookSession(access_token=token)
    session.GRAPH = server.url  # on the instance: the class attribute stays Meta's
    return FacebookAdsApi(session, api_version="v26.0")


@pytest.fixture
def api(server: SandboxServer) -> Iterator[FacebookAdsApi]:
    yield sdk_api(server)


def to_truth(row: dict, level: str) -> TruthRow:
    """An insights row (as the SDK hands it back) in the ground truth's terms; zero figures dropped."""
    actions = [
        ActionValue(metric, entry["action_type"], window, Decimal(entry[window]))
        for metric in ("actions", "action_values")
        for entry in row.get(metric, [])
        for window in ("value", *REQUESTED_WINDOWS)
        if Decimal(entry[window]) != 0
    ]
    actions.sort(key=lambda a: (a.metric, a.action_type, WINDOWS.index(a.window)))
    return TruthRow(
        level=level,
        account_id=row["account_id"],
        campaign_id=row.get("campaign_id"),
        adset_id=row.get("adset_id"),
        ad_id=row.get("ad_id"),
        date=date.fromisoformat(row["date_start"]),
        date_stop=date.fromisoformat(row["date_stop"]),
        spend=Decimal(row["spend"]),
        impressions=int(row["impressions"]),
        clicks=int(row["clicks"]),
        inline_link_clicks=int(row["inline_link_clicks"]),
        reach=int(row["reach"]),
        actions=actions,
    )


# ---- the SDK against the sandbox ---------------------------------------------------------------------------


def test_sdk_reads_the_account(api: FacebookAdsApi) -> None:
    account = AdAccount("act_1001", api=api).api_get(
        fields=[
            "id",
            "account_id",
            "name",
            "currency",
            "timezone_name",
            "timezone_offset_hours_utc",
            "account_status",
            "business",
        ]
    )
    assert account["account_id"] == "1001"
    assert account["currency"] == "USD"
    assert account["timezone_name"] == "America/Los_Angeles"
    assert account["timezone_offset_hours_utc"] == -8  # PST on the fixed clock (2026-11-27)
    assert account["account_status"] == 1
    assert account["business"]["id"] == "5550001001"


def test_sdk_lists_ads_of_every_status_over_several_pages(api, server: SandboxServer, demo: Scenario) -> None:
    cursor = AdAccount("act_1001", api=api).get_ads(
        fields=[SdkAd.Field.id, SdkAd.Field.name, SdkAd.Field.effective_status, SdkAd.Field.adset_id],
        params={
            "limit": 4,
            "filtering": [{"field": "ad.effective_status", "operator": "IN", "value": ALL_STATUSES}],
        },
    )
    ads = list(cursor)
    assert cursor.total() == 15
    assert {a["id"] for a in ads} == {a.id for a in demo.ads("act_1001")}
    assert {a["effective_status"] for a in ads} >= {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}
    pages = [r for r in server.requests if r.kind == "ads"]
    assert len(pages) == 4  # 4 + 4 + 4 + 3, and the Cursor stops on the page without paging.next
    assert all(r.params["summary"] == "true" for r in pages)
    # Without the filter the SDK sees Meta's default: no archived or deleted ads.
    default = list(AdAccount("act_1001", api=api).get_ads(fields=["effective_status"], params={"limit": 50}))
    assert {a["effective_status"] for a in default}.isdisjoint({"ARCHIVED", "DELETED"})


def test_sdk_async_insights_equal_the_truth(api, server: SandboxServer, demo: Scenario) -> None:
    fields = [
        "account_id",
        "campaign_id",
        "adset_id",
        "ad_id",
        "spend",
        "impressions",
        "clicks",
        "inline_link_clicks",
        "reach",
        "actions",
        "action_values",
    ]
    job = AdAccount("act_1001", api=api).get_insights(
        params={
            "level": "ad",
            "fields": fields,
            "time_range": {"since": SINCE.isoformat(), "until": UNTIL.isoformat()},
            "time_increment": 1,
            "action_attribution_windows": list(REQUESTED_WINDOWS),
            "filtering": every_status("ad"),
        },
        is_async=True,
    )
    assert isinstance(job, AdReportRun) and job["id"].isdigit()
    deadline = time.monotonic() + 10
    while True:
        job.api_get()
        if job[AdReportRun.Field.async_status] == "Job Completed":
            break
        assert job[AdReportRun.Field.async_status] != "Job Failed"
        assert time.monotonic() < deadline, "report run did not complete"
        time.sleep(0.05)
    assert job[AdReportRun.Field.async_percent_completion] == 100

    rows = [dict(r) for r in job.get_result(params={"limit": 100})]
    truth = demo.truth_ad_daily("act_1001", SINCE, UNTIL)
    assert len(truth) > 100  # so the result took more than one page
    assert [r.kind for r in server.requests].count("report_run_insights") == -(-len(truth) // 100)
    assert [to_truth(r, "ad") for r in rows] == truth
    windows_seen = {k for r in rows for e in r.get("actions", []) for k in e}
    assert windows_seen == {"action_type", "value", *REQUESTED_WINDOWS}

    # Ad-level sums equal the account-level truth, to the cent and per window.
    account = demo.truth_daily("account", "act_1001", SINCE, UNTIL)
    by_day: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in map(lambda r: to_truth(r, "ad"), rows):
        totals = by_day[row.date]
        for name in ("spend", "impressions", "clicks", "inline_link_clicks"):
            totals[name] += Decimal(getattr(row, name))
        for a in row.actions:
            totals[f"{a.metric}|{a.action_type}|{a.window}"] += a.value
    assert sorted(by_day) == [t.date for t in account]
    for t in account:
        expected = {
            name: Decimal(getattr(t, name)) for name in ("spend", "impressions", "clicks", "inline_link_clicks")
        }
        expected.update({f"{a.metric}|{a.action_type}|{a.window}": a.value for a in t.actions})
        assert dict(by_day[t.date]) == expected, t.date


def test_sdk_sync_insights_pages_through_cursor(api, demo: Scenario) -> None:
    cursor = AdAccount("act_1001", api=api).get_insights(
        fields=["campaign_id", "spend", "reach"],
        params={
            "level": "campaign",
            "time_range": {"since": SINCE.isoformat(), "until": UNTIL.isoformat()},
            "time_increment": 1,
            "limit": 7,
            "filtering": every_status("campaign"),
        },
    )
    rows = [dict(r) for r in cursor]
    truth = demo.truth_daily("campaign", "act_1001", SINCE, UNTIL)
    assert [(r["campaign_id"], r["date_start"], Decimal(r["spend"]), int(r["reach"])) for r in rows] == [
        (t.campaign_id, t.date.isoformat(), t.spend, t.reach) for t in truth
    ]


def test_sdk_batch_polls_report_runs(api) -> None:
    account = AdAccount("act_1001", api=api)
    params = {"fields": ["spend"], "time_range": {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}}
    jobs = [account.get_insights(params=dict(params), is_async=True) for _ in range(3)]
    seen: dict[str, str] = {}
    batch = api.new_batch()
    for job in jobs:
        job.api_get(
            fields=["async_status"],
            batch=batch,
            success=lambda resp: seen.__setitem__(resp.json()["id"], resp.json()["async_status"]),
        )
    assert batch.execute() is None  # no item needed a retry
    assert set(seen) == {j["id"] for j in jobs}


def test_sdk_bad_token_raises_190(server: SandboxServer) -> None:
    with pytest.raises(FacebookRequestError) as raised:
        AdAccount("act_1001", api=sdk_api(server, "expired-or-made-up")).api_get(fields=["name"])
    assert raised.value.api_error_code() == 190
    assert raised.value.api_error_type() == "OAuthException"
    assert raised.value.http_status() == 400


def test_sdk_foreign_account_raises_100_33(api) -> None:
    with pytest.raises(FacebookRequestError) as raised:
        AdAccount("act_2001", api=api).api_get(fields=["name"])
    assert (raised.value.api_error_code(), raised.value.api_error_subcode()) == (100, 33)


def test_sdk_early_result_read_is_transient_2601(demo: Scenario) -> None:
    with SandboxServer(demo, job_seconds=30) as slow:
        job = AdAccount("act_1001", api=sdk_api(slow)).get_insights(
            params={"fields": ["spend"], "time_range": {"since": "2026-10-01", "until": "2026-10-02"}},
            is_async=True,
        )
        with pytest.raises(FacebookRequestError) as raised:
            list(job.get_result(params={"limit": 10}))
        assert (raised.value.api_error_code(), raised.value.api_error_subcode()) == (2601, 1815107)
        assert raised.value.api_transient_error() is True


# ---- the scenario's ground truth ---------------------------------------------------------------------------


def test_demo_tokens_accounts_and_workspaces(demo: Scenario) -> None:
    assert demo.tokens == {
        "sandbox-token-acme": ["act_1001", "act_1002"],
        "sandbox-token-globex": ["act_2001"],
        "sandbox-token-initech": ["act_3001"],
    }
    assert [(a.id, a.currency, a.timezone_name) for a in demo.accounts()] == [
        ("act_1001", "USD", "America/Los_Angeles"),
        ("act_1002", "EUR", "Europe/Berlin"),
        ("act_2001", "JPY", "Asia/Tokyo"),
        ("act_3001", "GBP", "Europe/London"),
    ]
    assert [(w.workspace_id, w.token, w.account_ids) for w in demo_workspaces()] == [
        ("acme", "sandbox-token-acme", ("act_1001", "act_1002")),
        ("globex", "sandbox-token-globex", ("act_2001",)),
        ("initech", "sandbox-token-initech", ("act_3001",)),
    ]
    for account in demo.accounts():
        assert 2 <= len(demo.campaigns(account.id)) <= 3
        assert len(demo.adsets(account.id)) >= 2 * len(demo.campaigns(account.id))


def test_status_mix(demo: Scenario) -> None:
    ads = [ad for a in demo.accounts() for ad in demo.ads(a.id)]
    campaigns = [c for a in demo.accounts() for c in demo.campaigns(a.id)]
    adsets = [s for a in demo.accounts() for s in demo.adsets(a.id)]
    assert {ad.status for ad in ads} == {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}
    assert {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED", "ADSET_PAUSED", "CAMPAIGN_PAUSED"} <= {
        ad.effective_status for ad in ads
    }
    assert "ARCHIVED" in {c.status for c in campaigns}
    assert "DELETED" in {s.status for s in adsets}
    assert {c.objective for c in campaigns} == {"OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC"}
    # Archived and deleted ads still have insights on some days.
    for status in ("ARCHIVED", "DELETED"):
        gone = [ad for ad in ads if ad.effective_status == status]
        assert any(demo.ad_day(ad, ad.delivery_start + timedelta(days=d)) for ad in gone for d in range(10))
    ids = [o.id for o in ads + campaigns + adsets]
    assert len(ids) == len(set(ids)) and all(i.isdigit() and len(i) == 17 for i in ids)


def test_small_scenario_is_tiny() -> None:
    small = Scenario("small", 7)
    assert len(small.tokens) == 2 and len(small.accounts()) == 3
    ads = [ad for a in small.accounts() for ad in small.ads(a.id)]
    assert len(ads) == 10
    assert {ad.status for ad in ads} == {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}
    assert set(SCENARIOS) >= {"demo", "small", "bench"}
    with pytest.raises(ValueError):
        Scenario("nope")


def test_generated_scenario_for_benchmarks() -> None:
    # (how fast it is generated is the benchmarks' concern, bench/extract: not timed here)
    big = Scenario.generate("bench20", 3, accounts=20, campaigns_per_account=10, adsets_per_campaign=4, ads_per_adset=5)
    assert len(big.accounts()) == 20 and len(big.tokens) == 3
    assert all(len(big.ads(a.id)) == 200 for a in big.accounts())
    statuses = {ad.status for ad in big.ads(big.accounts()[0].id)}
    assert statuses == {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}
    assert sorted(a for accounts in big.tokens.values() for a in accounts) == sorted(a.id for a in big.accounts())


@pytest.mark.parametrize("name", ["demo", "small", "bench", "generated"])
def test_every_scenario_has_archived_and_deleted_objects_that_spent_in_october(name: str) -> None:
    # So an extractor that lets Meta hide them (no status filter) misses spend in the tests' October window.
    generated = name == "generated"
    s = Scenario.generate("gen", 5, accounts=2, campaigns_per_account=4) if generated else Scenario(name, 42)
    october = (date(2026, 10, 1), date(2026, 10, 31))
    spent: dict[str, set[str]] = {"campaign": set(), "adset": set(), "ad": set()}
    for account in s.accounts():
        for ad in s.ads(account.id):
            # delivered in October: started before its end, and still delivering when it began
            if ad.delivery_start <= october[1] and ad.delivery_end is not None and october[0] <= ad.delivery_end:
                for level, obj in (
                    ("ad", ad),
                    ("adset", s.adset(ad.adset_id)),
                    ("campaign", s.campaign(ad.campaign_id)),
                ):
                    if obj.status in ("ARCHIVED", "DELETED"):
                        spent[level].add(f"{obj.status}:{obj.id}")
    statuses = {level: {x.split(":")[0] for x in ids} for level, ids in spent.items()}
    assert statuses["ad"] == {"ARCHIVED", "DELETED"}, name
    assert statuses["adset"] | statuses["campaign"], name  # a hidden parent too
    if name == "demo":  # every level, both statuses among the parents
        assert statuses["campaign"] == {"ARCHIVED", "DELETED"} and statuses["adset"] == {"ARCHIVED", "DELETED"}
        for account in s.accounts():  # and their spend is real
            hidden = {a.id for a in s.ads(account.id) if a.effective_status in ("ARCHIVED", "DELETED")}
            assert sum(t.spend for t in s.truth_ad_daily(account.id, *october) if t.ad_id in hidden) > 0


def _digest(s: Scenario) -> str:
    h = hashlib.sha256()
    for account in s.accounts():
        for obj in s.campaigns(account.id) + s.adsets(account.id) + s.ads(account.id):
            h.update(repr(obj).encode())
        for row in s.truth_ad_daily(account.id, date(2026, 9, 1), date(2026, 10, 31)):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_determinism_across_instances_and_processes(demo: Scenario) -> None:
    twin = Scenario("demo", 42, clock=demo.clock)
    assert twin.ads("act_1001") == demo.ads("act_1001")
    assert twin.truth_ad_daily("act_2001", SINCE, UNTIL) == demo.truth_ad_daily("act_2001", SINCE, UNTIL)
    assert _digest(twin) == _digest(demo)
    other_seed = Scenario("demo", 43, clock=demo.clock)
    assert [a.id for a in other_seed.ads("act_1001")] != [a.id for a in demo.ads("act_1001")]
    # Another interpreter with another hash seed builds the very same world.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from datetime import datetime, UTC;"
        "import test_sandbox_sdk as t; from graph_sandbox import Scenario;"
        "print(t._digest(Scenario('demo', 42, clock=lambda: datetime(2026, 11, 27, 12, tzinfo=UTC))))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == _digest(demo)


def test_ad_day_metric_invariants(demo: Scenario) -> None:
    for account in demo.accounts():
        rows = demo.truth_ad_daily(account.id, date(2026, 6, 1), date(2026, 11, 30))
        assert rows
        assert max(r.date for r in rows) <= demo.today(account.id)
        for r in rows:
            ad = demo.ad(r.ad_id)
            assert ad.delivery_start <= r.date and (ad.delivery_end is None or r.date <= ad.delivery_end)
            assert r.spend > 0 and r.impressions > 0
            assert r.spend == r.spend.quantize(
                Decimal(1) if account.currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
            )
            assert r.clicks <= r.impressions and r.inline_link_clicks <= r.clicks
            assert 1 <= r.reach <= r.impressions
            assert r.action("link_click") == r.inline_link_clicks
            for metric in ("actions", "action_values"):
                for t in {a.action_type for a in r.actions if a.metric == metric}:
                    w = {window: r.action(t, window, metric) for window in WINDOWS}
                    assert w["1d_click"] <= w["7d_click"] <= w["28d_click"]
                    assert w["value"] == w["7d_click"] + w["1d_view"]
                for window in WINDOWS:
                    pixel = r.action("offsite_conversion.fb_pixel_purchase", window, metric)
                    onsite = r.action("onsite_conversion.purchase", window, metric)
                    assert r.action("purchase", window, metric) == pixel + onsite
                    assert r.action("omni_purchase", window, metric) == pixel + onsite
            for window in WINDOWS:
                assert r.action("lead", window) == (
                    r.action("offsite_conversion.fb_pixel_lead", window)
                    + r.action("onsite_conversion.lead_grouped", window)
                )
        usd_rows = [r for r in rows if account.currency == "USD"]
        # the generator draws $1..$300 an ad-day; a daily budget's cap may scale a day below $1, never above
        assert all(Decimal("0.01") <= r.spend <= Decimal(300) for r in usd_rows)


def test_levels_add_up_and_reach_is_not_additive(demo: Scenario) -> None:
    ads = demo.truth_daily("ad", "act_1001", SINCE, UNTIL)
    for level, key in (("campaign", "campaign_id"), ("adset", "adset_id"), ("account", None)):
        parents = demo.truth_daily(level, "act_1001", SINCE, UNTIL)
        for p in parents:
            children = [a for a in ads if a.date == p.date and (key is None or getattr(a, key) == getattr(p, key))]
            assert p.spend == sum(c.spend for c in children)
            assert p.impressions == sum(c.impressions for c in children)
            assert p.clicks == sum(c.clicks for c in children)
            assert max(c.reach for c in children) <= p.reach <= sum(c.reach for c in children)
            sums: dict[tuple, Decimal] = defaultdict(Decimal)
            for c in children:
                for a in c.actions:
                    sums[(a.metric, a.action_type, a.window)] += a.value
            assert {(a.metric, a.action_type, a.window): a.value for a in p.actions} == dict(sums)
    # Over a range, an ad's reach is at least its best day and at most the sum of its days.
    span = demo.truth("ad", "act_1001", SINCE, UNTIL, time_increment="all_days")
    for s in span:
        days = [a for a in ads if a.ad_id == s.ad_id]
        assert s.spend == sum(d.spend for d in days)
        assert max(d.reach for d in days) <= s.reach <= sum(d.reach for d in days)
