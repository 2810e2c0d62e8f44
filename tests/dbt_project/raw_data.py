"""Synthetic raw Meta data for the dbt tests, written through `warehouse.DuckDBWarehouse` like the extractor does.

Every pull is consistent by construction: the test states the ad-days (ad-level truth), and each report's rows are
derived from them. Account, campaign and ad-set rows sum the ads; breakdown cells split each ad-day exactly (counts
as integers, money in cents), so breakdown cells add up to the ad-day and ads add up to their parents, as Meta's do.
Reach is deliberately NOT additive: a parent's reach lies between its largest child's and the sum of its children's,
so a model that summed reach would be caught.

One pull writes one batch per report (batches are per workspace, account, report and date chunk), each covering the
pull's dates; a report left out of `reports` is simply not pulled for those dates (not visible).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from warehouse import BatchKey, DuckDBWarehouse

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PARAMS = {
    "api_version": "v26.0",
    "action_attribution_windows": ["1d_click", "7d_click", "28d_click", "1d_view"],
}
CENT = Decimal("0.01")

LEVEL_REPORTS = {"account_daily": "account", "campaign_daily": "campaign", "adset_daily": "adset"}
# report -> breakdown cells: (breakdown values, weight)
BREAKDOWNS: dict[str, list[tuple[dict[str, str], int]]] = {
    "ad_daily_age_gender": [
        ({"age": "18-24", "gender": "female"}, 3),
        ({"age": "25-34", "gender": "female"}, 4),
        ({"age": "25-34", "gender": "male"}, 3),
        ({"age": "35-44", "gender": "male"}, 2),
        ({"age": "Unknown", "gender": "unknown"}, 1),
    ],
    "ad_daily_country": [({"country": "US"}, 6), ({"country": "CA"}, 2), ({"country": "GB"}, 1)],
    "ad_daily_placement": [
        ({"publisher_platform": "facebook", "platform_position": "feed"}, 5),
        ({"publisher_platform": "instagram", "platform_position": "instagram_stories"}, 3),
        ({"publisher_platform": "instagram", "platform_position": "instagram_reels"}, 2),
        ({"publisher_platform": "audience_network", "platform_position": "an_classic"}, 1),
    ],
    "ad_daily_device": [
        ({"device_platform": "mobile_app"}, 6),
        ({"device_platform": "mobile_web"}, 2),
        ({"device_platform": "desktop"}, 2),
    ],
}
AD_REPORTS = ["ad_daily", *BREAKDOWNS]
ALL_REPORTS = [*LEVEL_REPORTS, *AD_REPORTS]
MONEY_METRICS = {"action_values", "conversion_values"}


@dataclass(frozen=True)
class Action:
    metric: str  # actions | action_values | conversions | conversion_values
    action_type: str
    window: str  # value | 1d_click | 7d_click | 28d_click | 1d_view
    value: Decimal


@dataclass(frozen=True)
class AdDay:
    """The ad-level truth of one ad on one day."""

    ad_id: str
    day: date
    spend: Decimal
    impressions: int
    clicks: int
    link_clicks: int
    reach: int
    campaign_id: str = "c_1011"
    adset_id: str = "s_1011"
    actions: tuple[Action, ...] = field(default_factory=tuple)


def ad_day(
    ad_id: str,
    day: date,
    spend: str,
    impressions: int,
    clicks: int,
    link_clicks: int,
    reach: int,
    *,
    campaign_id: str = "c_1011",
    adset_id: str = "s_1011",
    actions: Iterable[Action] = (),
) -> AdDay:
    return AdDay(
        ad_id,
        day,
        Decimal(spend),
        impressions,
        clicks,
        link_clicks,
        reach,
        campaign_id,
        adset_id,
        tuple(actions),
    )


def actions(metric: str, action_type: str, windows: dict[str, str]) -> list[Action]:
    return [Action(metric, action_type, w, Decimal(v)) for w, v in windows.items()]


# ----------------------------------------------------------------------------------------------------
# derivation of every report from the ad-days


def split_int(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights`, exactly (largest remainder)."""
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def split_money(total: Decimal, weights: Sequence[int]) -> list[Decimal]:
    cents = int((total / CENT).to_integral_value())
    assert Decimal(cents) * CENT == total, f"{total} is not a whole number of cents"
    return [Decimal(c) * CENT for c in split_int(cents, weights)]


def _parent_reach(children: Sequence[int]) -> int:
    """Between the largest child's reach and the sum (people overlap), never the sum itself when >1 child."""
    if not children:
        return 0
    top = max(children)
    return top + (sum(children) - top) // 2


def _row(report: str, level: str, day: date, **keys: Any) -> dict[str, Any]:
    return {"report": report, "level": level, "date_day": day, **keys}


def _metrics(spend: Decimal, impressions: int, clicks: int, link_clicks: int, reach: int) -> dict[str, Any]:
    return {
        "spend": spend,
        "impressions": impressions,
        "clicks": clicks,
        "inline_link_clicks": link_clicks,
        "reach": reach,
        "frequency": impressions / reach if reach else None,
    }


def _records(acts: Iterable[Action]) -> list[dict[str, Any]] | None:
    """The row's actions as raw holds them (meta_insights.actions): one record per action type, a field per (list,
    window), as insights_jobs.normalize.action_records makes them from Meta's lists."""
    records: dict[str, dict[str, Any]] = {}
    for a in acts:
        record = records.setdefault(a.action_type, {"action_type": a.action_type})
        field_name = f"{a.metric}_{a.window}"
        assert field_name not in record, f"two figures for {a.action_type} {field_name}"
        record[field_name] = a.value
    return list(records.values()) or None


def derive(report: str, days: Sequence[AdDay]) -> list[dict[str, Any]]:
    """The meta_insights rows of `report` for these ad-days, their actions nested."""
    insights: list[dict[str, Any]] = []
    if report == "ad_daily":
        for d in days:
            base = _row(report, "ad", d.day, campaign_id=d.campaign_id, adset_id=d.adset_id, ad_id=d.ad_id)
            insights.append(
                {
                    **base,
                    **_metrics(d.spend, d.impressions, d.clicks, d.link_clicks, d.reach),
                    "actions": _records(d.actions),
                }
            )
    elif report in LEVEL_REPORTS:
        level = LEVEL_REPORTS[report]
        groups: dict[tuple, list[AdDay]] = defaultdict(list)
        for d in days:
            ids = {
                "account": {},
                "campaign": {"campaign_id": d.campaign_id},
                "adset": {"campaign_id": d.campaign_id, "adset_id": d.adset_id},
            }[level]
            groups[(d.day, tuple(sorted(ids.items())))].append(d)
        for (day, ids), members in sorted(groups.items()):
            base = _row(report, level, day, **dict(ids))
            insights.append(
                {
                    **base,
                    **_metrics(
                        sum((m.spend for m in members), Decimal(0)),
                        sum(m.impressions for m in members),
                        sum(m.clicks for m in members),
                        sum(m.link_clicks for m in members),
                        _parent_reach([m.reach for m in members]),
                    ),
                }
            )
            summed: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
            for m in members:
                for a in m.actions:
                    summed[(a.metric, a.action_type, a.window)] += a.value
            insights[-1]["actions"] = _records(Action(*k, v) for k, v in sorted(summed.items()))
    else:
        cells = BREAKDOWNS[report]
        weights = [w for _, w in cells]
        for d in days:
            spend = split_money(d.spend, weights)
            impressions = split_int(d.impressions, weights)
            clicks = split_int(d.clicks, weights)
            link_clicks = split_int(d.link_clicks, weights)
            split_actions = [
                (a, split_money(a.value, weights) if a.metric in MONEY_METRICS else split_int(int(a.value), weights))
                for a in d.actions
            ]
            for i, (values, _) in enumerate(cells):
                cell_actions = [replace(a, value=Decimal(parts[i])) for a, parts in split_actions if parts[i]]
                if not (spend[i] or impressions[i] or clicks[i] or cell_actions):
                    continue  # Meta returns no row for a cell without delivery
                reach = max(1, min(impressions[i], d.reach * weights[i] // sum(weights) + 1)) if impressions[i] else 0
                base = _row(
                    report, "ad", d.day, campaign_id=d.campaign_id, adset_id=d.adset_id, ad_id=d.ad_id, **values
                )
                insights.append(
                    {
                        **base,
                        **_metrics(spend[i], impressions[i], clicks[i], link_clicks[i], reach),
                        "actions": _records(cell_actions),
                    }
                )
    return insights


# ----------------------------------------------------------------------------------------------------
# writing


class RawWriter:
    """Writes batches through the warehouse and remembers how many were committed."""

    def __init__(self, wh: DuckDBWarehouse) -> None:
        self.wh = wh
        self.committed = 0

    def batch(
        self,
        key: BatchKey,
        tables: dict[str, list[dict[str, Any]]],
        commit: bool = True,
        batch_id: str | None = None,
    ) -> str:
        batch = self.wh.open_batch(key, PARAMS)
        for table, rows in tables.items():
            batch.append(table, rows)
        if commit:
            batch.commit()
            self.committed += 1
        written = batch.batch.batch_id
        if batch_id:  # a known id, for the tie-break case: renamed everywhere the batch wrote
            for table in ["meta_batches", *tables]:
                # literals, not parameters: both are plain [a-z0-9_] ids, and the warehouse's parameter style varies
                assert batch_id.replace("_", "").isalnum() and written.isalnum()
                self.wh.query(f"update raw.{table} set batch_id = '{batch_id}' where batch_id = '{written}'")
            written = batch_id
        return written

    def pull(
        self,
        workspace_id: str,
        account_id: str,
        start: date,
        end: date,
        days: Sequence[AdDay],
        reports: Sequence[str] = ALL_REPORTS,
        commit: bool = True,
        batch_id: str | None = None,
    ) -> None:
        """One batch per report covering [start, end], derived from `days` (ad-days outside it are an error)."""
        assert all(start <= d.day <= end for d in days), "ad-day outside the pull's dates"
        for report in reports:
            self.batch(
                BatchKey(workspace_id, account_id, report, start, end),
                {"meta_insights": derive(report, days)},
                commit=commit,
                batch_id=f"{batch_id}_{report}" if batch_id else None,
            )


# ----------------------------------------------------------------------------------------------------
# entities


def account(name: str, currency: str, tz: str, offset: float, status: int = 1, business: str | None = "biz_1"):
    return {
        "name": name,
        "currency": currency,
        "timezone_name": tz,
        "timezone_offset_hours_utc": offset,
        "account_status": status,
        "business_id": business,
        "extracted_at": T0,
    }


def campaign(cid: str, name: str, status: str, effective: str, daily: str | None):
    return {
        "campaign_id": cid,
        "name": name,
        "status": status,
        "effective_status": effective,
        "objective": "OUTCOME_SALES",
        "buying_type": "AUCTION",
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
        "daily_budget": Decimal(daily) if daily else None,
        "lifetime_budget": None,
        "created_time": T0,
        "updated_time": T0,
        "start_time": T0,
        "stop_time": None,
        "extracted_at": T0,
    }


def adset(sid: str, cid: str, status: str, effective: str, daily: str | None = None, name: str | None = None):
    return {
        "adset_id": sid,
        "campaign_id": cid,
        "name": name or f"adset {sid}",
        "status": status,
        "effective_status": effective,
        "optimization_goal": "OFFSITE_CONVERSIONS",
        "billing_event": "IMPRESSIONS",
        "bid_strategy": None,
        "daily_budget": Decimal(daily) if daily else None,
        "lifetime_budget": None,
        "created_time": T0,
        "updated_time": T0,
        "start_time": T0,
        "end_time": None,
        "extracted_at": T0,
    }


def ad(aid: str, sid: str, cid: str, status: str, effective: str, name: str | None = None):
    return {
        "ad_id": aid,
        "adset_id": sid,
        "campaign_id": cid,
        "name": name or f"ad {aid}",
        "status": status,
        "effective_status": effective,
        "creative_id": f"cr_{aid}",
        "created_time": T0,
        "updated_time": T0,
        "extracted_at": T0,
    }


def creative(aid: str, status: str = "ACTIVE", title: str | None = None):
    return {
        "creative_id": f"cr_{aid}",
        "name": f"creative of {aid}",
        "title": title or f"Title {aid}",
        "body": f"Body text of {aid}",
        "object_type": "SHARE",
        "call_to_action_type": "SHOP_NOW",
        "url_tags": f"utm_source=meta&utm_content={aid}",
        "thumbnail_url": f"https://example.invalid/thumbs/{aid}.jpg",
        "status": status,
        "extracted_at": T0,
    }


# ----------------------------------------------------------------------------------------------------
# generated history (demo-like): a few campaigns, every report, several attribution windows

CONVERSION_TYPES = ("offsite_conversion.fb_pixel_purchase", "onsite_conversion.lead_grouped")


def generated_days(seed: str, ads: Sequence[tuple[str, str, str]], start: date, end: date) -> list[AdDay]:
    """Deterministic ad-days for (ad_id, adset_id, campaign_id) over [start, end]."""
    rng = random.Random(seed)
    out = []
    day = start
    while day <= end:
        for ad_id, adset_id, campaign_id in ads:
            if rng.random() < 0.1:
                day_ads = None  # no delivery that day: no row at all
            else:
                impressions = rng.randint(200, 5000)
                reach = max(1, impressions * rng.randint(60, 95) // 100)
                clicks = impressions * rng.randint(5, 30) // 1000
                link_clicks = clicks * rng.randint(50, 90) // 100
                spend = (Decimal(impressions) * Decimal(rng.randint(400, 1500)) / 100000).quantize(CENT)
                purchases = rng.randint(0, 4)
                leads = rng.randint(0, 3)
                acts = [
                    *actions("actions", "link_click", {"value": str(link_clicks)}),
                    *actions(
                        "actions",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": str(purchases), "7d_click": str(purchases), "1d_click": str(purchases // 2)},
                    ),
                    *actions(
                        "action_values",
                        "offsite_conversion.fb_pixel_purchase",
                        {"value": str(Decimal(purchases * rng.randint(2000, 9000)) / 100)},
                    ),
                    *actions("actions", "onsite_conversion.lead_grouped", {"value": str(leads), "1d_view": "1"}),
                    *actions("actions", "omni_purchase", {"value": str(purchases)}),
                ]
                day_ads = ad_day(
                    ad_id,
                    day,
                    str(spend),
                    impressions,
                    clicks,
                    link_clicks,
                    reach,
                    campaign_id=campaign_id,
                    adset_id=adset_id,
                    actions=[a for a in acts if a.value],
                )
            if day_ads:
                out.append(day_ads)
        day += timedelta(days=1)
    return out


def chunks(start: date, end: date, size: int) -> list[tuple[date, date]]:
    out = []
    while start <= end:
        stop = min(end, start + timedelta(days=size - 1))
        out.append((start, stop))
        start = stop + timedelta(days=1)
    return out
