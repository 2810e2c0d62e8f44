"""Raw rows and the visibility rule as staging reads raw, shared by the warehouse tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from warehouse import MANIFEST


def insight(ad: str, day: date, spend: str, impressions: int = 100, **kw) -> dict:
    return {
        "report": "ad_daily",
        "level": "ad",
        "date_day": day,
        "campaign_id": "c1",
        "adset_id": "s1",
        "ad_id": ad,
        "spend": Decimal(spend),
        "impressions": impressions,
        "clicks": 3,
        "inline_link_clicks": 2,
        "reach": 90,
        "frequency": 1.25,
        **kw,
    }


def visible(wh, table: str = "meta_insights", order: str = "r.workspace_id, r.ad_id, r.date_day") -> list[dict]:
    raw = wh.table_ref("raw", table)
    manifest = wh.table_ref("raw", MANIFEST.name)
    return wh.query(
        f"select r.* from {raw} as r join {manifest} as m "
        f"on m.batch_id = r.batch_id and m.workspace_id = r.workspace_id order by {order}"
    )
