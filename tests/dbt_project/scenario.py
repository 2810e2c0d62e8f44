"""The raw data every dbt test builds on: edge cases of batch visibility plus demo-like history, all reports.

Edge cases (acme, globex; one account connected to both workspaces), as in the skeleton's tests:
- acme/act_101: pull A covers D1..D3; pull B (newer) covers D2..D3 and restates: ad_1 changes on D2, ad_2 has no row
  on D2 (restated to nothing: A's row must not come back); a crashed ad_daily batch C covers D3 with bogus numbers
  (never visible); a newer pull of ad_daily_age_gender alone covers D2 (supersedes nothing in ad_daily).
- globex/act_101 covers D2 and is committed before acme's B: batches supersede only within their workspace.
- globex/act_201: two re-pulls of D2 committed at the same instant: the greater batch_id wins the tie.
- entities: acme/act_101 has an older and a newer snapshot (ad_3, missing from the newer one, keeps its last state;
  ad_2 turns ARCHIVED) and an uncommitted third one; acme/act_102 has a DELETED ad that still spent.
- actions: several attribution windows, overlapping rollup types (omni_purchase, purchase), the `conversions` list
  and non-conversion types: only the default types under window `value` count.

Demo-like history:
- acme/act_103 (USD, New York): 2 campaigns x 2 ad sets x 2 ads, 2026-10-01..D3 in 14-day chunks, every report; the
  device report was not served for D3 (an extraction error is recorded; D3 is not visible for that report). Objects
  archived and deleted mid-window still spent (the extractor asks Meta for every status): a deleted ad in a live ad
  set (until 2026-10-28), an archived ad set of the live campaign (until 2026-10-25) and a deleted campaign with its
  ad set and two ads (until 2026-10-20). Every report (parents too) counts them, as Meta's do.
- initech-eu/act_301 (GBP, London): a hyphenated workspace id, 3 ads, 2026-10-27..2026-11-02, every report.

Every pull is consistent across reports (raw_data.py), so the reconciliation tests pass on the untouched build.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.dbt_project.raw_data import (
    ALL_REPORTS,
    RawWriter,
    account,
    actions,
    ad,
    ad_day,
    adset,
    campaign,
    chunks,
    creative,
    generated_days,
)
from warehouse import BatchKey, DuckDBWarehouse

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
HISTORY_START = date(2026, 10, 1)
WORKSPACES = ["acme", "globex", "initech-eu"]

ACME_103_ADS = [
    (f"ad_103{c}{s}{a}", f"s_103{c}{s}", f"c_103{c}") for c in (1, 2) for s in (1, 2) for a in (1, 2)
]  # (ad, adset, campaign)
INITECH_ADS = [(f"ad_301{a}", "s_3011", "c_3011") for a in (1, 2, 3)]
# Archived and deleted mid-window: (ad, adset, campaign, ad status, effective status, last day of delivery).
ACME_103_GONE_ADS = [
    ("ad_103113", "s_10311", "c_1031", "DELETED", "DELETED", date(2026, 10, 28)),
    ("ad_103131", "s_10313", "c_1031", "ACTIVE", "ARCHIVED", date(2026, 10, 25)),
    ("ad_103311", "s_10331", "c_1033", "ACTIVE", "DELETED", date(2026, 10, 20)),
    ("ad_103312", "s_10331", "c_1033", "ACTIVE", "DELETED", date(2026, 10, 20)),
]

PIXEL = "offsite_conversion.fb_pixel_purchase"


def acme_101_pull_a():
    return [
        ad_day(
            "ad_1",
            D1,
            "10.00",
            1000,
            20,
            15,
            800,
            actions=[
                *actions("actions", PIXEL, {"value": "2", "7d_click": "3"}),
                *actions("action_values", PIXEL, {"value": "40.00"}),
            ],
        ),
        ad_day("ad_2", D1, "5.55", 500, 5, 4, 450),
        ad_day("ad_3", D1, "1.11", 100, 0, 0, 90),
        ad_day("ad_1", D2, "11.00", 1000, 20, 15, 800, actions=actions("actions", PIXEL, {"value": "1"})),
        ad_day(
            "ad_2",
            D2,
            "6.00",
            600,
            6,
            5,
            500,
            actions=[*actions("actions", PIXEL, {"value": "4"}), *actions("action_values", PIXEL, {"value": "100"})],
        ),
        ad_day("ad_3", D2, "2.22", 200, 2, 1, 180),
        ad_day("ad_1", D3, "12.00", 1200, 24, 18, 1000),
        ad_day("ad_2", D3, "7.00", 700, 7, 6, 600),
        ad_day("ad_3", D3, "3.33", 300, 3, 2, 250),
    ]


def acme_101_pull_b():
    return [
        ad_day(
            "ad_1",
            D2,
            "11.50",
            1100,
            22,
            16,
            900,
            actions=[
                *actions("actions", PIXEL, {"value": "3", "7d_click": "5", "1d_view": "1", "28d_click": "6"}),
                *actions("actions", "omni_purchase", {"value": "3", "7d_click": "5"}),
                *actions("actions", "purchase", {"value": "3"}),
                *actions("actions", "onsite_conversion.lead_grouped", {"value": "2", "1d_click": "2"}),
                *actions("actions", "link_click", {"value": "22"}),
                *actions("action_values", PIXEL, {"value": "120.50", "7d_click": "200.00"}),
                *actions("action_values", "omni_purchase", {"value": "120.50"}),
                *actions("conversions", PIXEL, {"value": "3"}),
                *actions("conversion_values", PIXEL, {"value": "120.50"}),
            ],
        ),
        # ad_2 restated to nothing on D2
        ad_day("ad_3", D2, "2.22", 200, 2, 1, 180),
        ad_day("ad_1", D3, "12.34", 1200, 24, 18, 1000),
        ad_day(
            "ad_2",
            D3,
            "7.01",
            700,
            7,
            6,
            600,
            actions=[
                *actions("actions", "offsite_conversion.fb_pixel_lead", {"value": "1"}),
                *actions("actions", "onsite_conversion.purchase", {"value": "1"}),
                *actions("action_values", "onsite_conversion.purchase", {"value": "30.00"}),
            ],
        ),
        ad_day("ad_3", D3, "0.00", 0, 0, 0, 0),
    ]


def write_entities(w: RawWriter) -> None:
    w.batch(
        BatchKey("acme", "act_101", "entities"),
        {
            "meta_ad_accounts": [account("Acme US", "USD", "America/Los_Angeles", -8.0)],
            "meta_campaigns": [campaign("c_1011", "Prospecting", "ACTIVE", "ACTIVE", "50.00")],
            "meta_adsets": [adset("s_1011", "c_1011", "ACTIVE", "ACTIVE")],
            "meta_ads": [
                ad("ad_1", "s_1011", "c_1011", "ACTIVE", "ACTIVE"),
                ad("ad_2", "s_1011", "c_1011", "ACTIVE", "ACTIVE"),
                ad("ad_3", "s_1011", "c_1011", "ACTIVE", "ACTIVE", name="ad 3 first"),
            ],
            "meta_ad_creatives": [creative("ad_1"), creative("ad_2"), creative("ad_3")],
        },
    )
    # globex connects the same account; its snapshot is older than acme's second one
    w.batch(
        BatchKey("globex", "act_101", "entities"),
        {
            "meta_ad_accounts": [account("Acme US", "USD", "America/Los_Angeles", -8.0)],
            "meta_campaigns": [campaign("c_1011", "Prospecting", "ACTIVE", "ACTIVE", "50.00")],
            "meta_adsets": [adset("s_1011", "c_1011", "ACTIVE", "ACTIVE")],
            "meta_ads": [ad("ad_1", "s_1011", "c_1011", "ACTIVE", "ACTIVE")],
            "meta_ad_creatives": [creative("ad_1")],
        },
    )
    w.batch(
        BatchKey("acme", "act_101", "entities"),
        {
            "meta_ad_accounts": [account("Acme US (renamed)", "USD", "America/Los_Angeles", -8.0)],
            "meta_campaigns": [campaign("c_1011", "Prospecting", "PAUSED", "PAUSED", "75.50")],
            "meta_adsets": [adset("s_1011", "c_1011", "ACTIVE", "CAMPAIGN_PAUSED")],
            "meta_ads": [
                ad("ad_1", "s_1011", "c_1011", "ACTIVE", "CAMPAIGN_PAUSED"),
                ad("ad_2", "s_1011", "c_1011", "ARCHIVED", "ARCHIVED"),
            ],
            "meta_ad_creatives": [creative("ad_1"), creative("ad_2", status="WITH_ISSUES", title="New title")],
        },
    )
    # crashed: never visible
    w.batch(
        BatchKey("acme", "act_101", "entities"),
        {
            "meta_campaigns": [campaign("c_1011", "GHOST", "ACTIVE", "ACTIVE", "1.00")],
            "meta_ads": [
                ad("ad_1", "s_1011", "c_1011", "ACTIVE", "ACTIVE", name="GHOST"),
                ad("ad_ghost", "s_1011", "c_1011", "ACTIVE", "ACTIVE"),
            ],
            "meta_ad_creatives": [creative("ad_ghost")],
        },
        commit=False,
    )
    w.batch(
        BatchKey("acme", "act_102", "entities"),
        {
            "meta_ad_accounts": [account("Acme DE", "EUR", "Europe/Berlin", 1.0)],
            "meta_campaigns": [campaign("c_1021", "Retargeting", "ACTIVE", "ACTIVE", None)],
            "meta_adsets": [adset("s_1021", "c_1021", "ACTIVE", "ACTIVE", daily="20.00")],
            "meta_ads": [ad("ad_21", "s_1021", "c_1021", "DELETED", "DELETED")],
            "meta_ad_creatives": [creative("ad_21", status="DELETED")],
        },
    )
    w.batch(
        BatchKey("globex", "act_201", "entities"),
        {
            "meta_ad_accounts": [account("Globex JP", "JPY", "Asia/Tokyo", 9.0, status=9, business=None)],
            "meta_campaigns": [campaign("c_2011", "Leads JP", "ACTIVE", "ACTIVE", "5000")],
            "meta_adsets": [adset("s_2011", "c_2011", "ACTIVE", "ACTIVE")],
            "meta_ads": [ad("ad_201", "s_2011", "c_2011", "ACTIVE", "ACTIVE")],
            "meta_ad_creatives": [creative("ad_201")],
        },
    )
    w.batch(
        BatchKey("acme", "act_103", "entities"),
        {
            "meta_ad_accounts": [account("Acme Brand", "USD", "America/New_York", -5.0)],
            "meta_campaigns": [
                campaign("c_1031", "Brand awareness", "ACTIVE", "ACTIVE", "120.00"),
                campaign("c_1032", "Spring sale", "ACTIVE", "ACTIVE", "80.00"),
                campaign("c_1033", "Clearance", "DELETED", "DELETED", "40.00"),
            ],
            "meta_adsets": [
                *(adset(s, c, "ACTIVE", "ACTIVE") for s, c in sorted({(s, c) for _, s, c in ACME_103_ADS})),
                adset("s_10313", "c_1031", "ARCHIVED", "ARCHIVED"),
                adset("s_10331", "c_1033", "ACTIVE", "DELETED"),
            ],
            "meta_ads": [
                *(ad(a, s, c, "ACTIVE", "ACTIVE") for a, s, c in ACME_103_ADS),
                *(ad(a, s, c, status, effective) for a, s, c, status, effective, _ in ACME_103_GONE_ADS),
            ],
            "meta_ad_creatives": [creative(a) for a, *_ in [*ACME_103_ADS, *ACME_103_GONE_ADS]],
        },
    )
    w.batch(
        BatchKey("initech-eu", "act_301", "entities"),
        {
            "meta_ad_accounts": [account("Initech UK", "GBP", "Europe/London", 0.0)],
            "meta_campaigns": [campaign("c_3011", "TPS reports", "ACTIVE", "ACTIVE", "30.00")],
            "meta_adsets": [adset("s_3011", "c_3011", "ACTIVE", "ACTIVE")],
            "meta_ads": [ad(a, s, c, "ACTIVE", "ACTIVE") for a, s, c in INITECH_ADS],
            "meta_ad_creatives": [creative(a) for a, _, _ in INITECH_ADS],
        },
    )


def write_edge_cases(w: RawWriter) -> None:
    w.pull("acme", "act_101", D1, D3, acme_101_pull_a())
    w.pull("globex", "act_101", D2, D2, [ad_day("ad_1", D2, "11.00", 1000, 10, 8, 700)])
    w.pull("acme", "act_101", D2, D3, acme_101_pull_b())
    # crashed batch, newest for D3: must neither appear nor supersede
    w.pull(
        "acme",
        "act_101",
        D3,
        D3,
        [ad_day("ad_1", D3, "999.99", 1, 1, 1, 1, actions=actions("actions", PIXEL, {"value": "99"}))],
        reports=["ad_daily"],
        commit=False,
    )
    # another report, newer, same account and date: supersedes nothing in ad_daily (same numbers as pull B's D2)
    w.pull("acme", "act_101", D2, D2, [d for d in acme_101_pull_b() if d.day == D2], reports=["ad_daily_age_gender"])
    w.pull(
        "acme",
        "act_102",
        D1,
        D1,
        [ad_day("ad_21", D1, "4.20", 300, 3, 2, 250, campaign_id="c_1021", adset_id="s_1021")],
    )
    g = {"campaign_id": "c_2011", "adset_id": "s_2011"}
    w.pull(
        "globex",
        "act_201",
        D1,
        D2,
        [
            ad_day(
                "ad_201",
                D1,
                "1500",
                20000,
                100,
                80,
                15000,
                actions=actions("actions", "onsite_conversion.lead_grouped", {"value": "4"}),
                **g,
            ),
            ad_day("ad_201", D2, "999", 15000, 90, 70, 12000, **g),
        ],
    )
    # two re-pulls of globex/act_201 D2 committed at the same instant: the greater batch_id wins the tie
    # (written in the other order, so commit order alone would pick the wrong one)
    w.pull("globex", "act_201", D2, D2, [ad_day("ad_201", D2, "1234", 15000, 90, 70, 12000, **g)], batch_id="tie_b")
    w.pull("globex", "act_201", D2, D2, [ad_day("ad_201", D2, "1111", 15000, 90, 70, 12000, **g)], batch_id="tie_a")
    w.wh.query(
        "update raw.meta_batches set completed_at = (select max(completed_at) from raw.meta_batches) "
        "where batch_id like 'tie_a%' or batch_id like 'tie_b%'"
    )


def gone_days() -> list:
    """The ad-days of acme/act_103's archived and deleted objects (each its own seed: the others' draws stay)."""
    return [
        d
        for a, s, c, *_, last in ACME_103_GONE_ADS
        for d in generated_days(f"acme/act_103 {a}", [(a, s, c)], HISTORY_START, last)
    ]


def write_history(w: RawWriter) -> None:
    acme = generated_days("acme/act_103", ACME_103_ADS, HISTORY_START, D3) + gone_days()
    for start, end in chunks(HISTORY_START, D3, 14):
        days = [d for d in acme if start <= d.day <= end]
        w.pull("acme", "act_103", start, end, days, reports=[r for r in ALL_REPORTS if r != "ad_daily_device"])
        # the device report of D3 was refused by Meta: pulled up to D2, the refusal recorded
        device_end = min(end, D2)
        w.pull("acme", "act_103", start, device_end, [d for d in days if d.day <= device_end], ["ad_daily_device"])
    w.batch(
        BatchKey("acme", "act_103", "ad_daily_device"),
        {
            "meta_extraction_errors": [
                {
                    "report": "ad_daily_device",
                    "date_start": D3,
                    "date_end": D3,
                    "object_level": "ad",
                    "object_ids": '["ad_103111"]',
                    "fields": '["spend", "impressions"]',
                    "error_code": 100,
                    "error_subcode": 1504018,
                    "error_action": "split_exhausted",
                    "message": "The request was timed out",
                    "fbtrace_id": "AbCdEf",
                    "recorded_at": None,
                }
            ]
        },
    )
    initech = generated_days("initech-eu/act_301", INITECH_ADS, date(2026, 10, 27), D2)
    w.pull("initech-eu", "act_301", date(2026, 10, 27), D2, initech)


def write_scenario(path: Path) -> int:
    """Write the raw tables; the number of committed batches."""
    with DuckDBWarehouse(path) as wh:
        wh.ensure_raw()
        w = RawWriter(wh)
        write_entities(w)
        write_edge_cases(w)
        write_history(w)
        return w.committed
