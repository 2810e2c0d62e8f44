"""What the extractor reads about ad objects: fields per edge, and the status filters that bring back everything.

Without an effective_status filter naming them, Meta hides ARCHIVED and DELETED objects from edges and from insights
rows at their own level, yet deleted ads keep accruing insights for weeks: the dimensions and the facts must know
them.
"""

from __future__ import annotations

from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign

ACCOUNT_FIELDS = [
    "id", "account_id", "name", "currency", "timezone_name", "timezone_offset_hours_utc", "account_status", "business",
    "disable_reason", "spend_cap", "amount_spent",
]  # fmt: skip
CAMPAIGN_FIELDS = [
    "id", "name", "status", "effective_status", "objective", "buying_type", "bid_strategy", "daily_budget",
    "lifetime_budget", "created_time", "updated_time", "start_time", "stop_time",
]  # fmt: skip
ADSET_FIELDS = [
    "id", "name", "campaign_id", "status", "effective_status", "optimization_goal", "billing_event", "bid_strategy",
    "daily_budget", "lifetime_budget", "created_time", "updated_time", "start_time", "end_time", "learning_stage_info",
]  # fmt: skip
AD_FIELDS = [
    "id", "name", "adset_id", "campaign_id", "status", "effective_status", "creative", "created_time", "updated_time",
]  # fmt: skip
# Metadata only: the creative's assets (images, videos) are never read, only a link to its thumbnail.
CREATIVE_FIELDS = [
    "id", "name", "title", "body", "object_type", "call_to_action_type", "url_tags", "thumbnail_url", "status",
]  # fmt: skip


def _enum_values(enum: type) -> list[str]:
    return sorted(v for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, str))


# Every effective status of each level, from the SDK's enums (Meta refuses values a level does not have, so each
# level gets its own list: facebook-python-business-sdk issue #388, docs/meta-conformance.md).
ALL_STATUSES: dict[str, list[str]] = {
    "campaign": _enum_values(Campaign.EffectiveStatus),
    "adset": _enum_values(AdSet.EffectiveStatus),
    "ad": _enum_values(Ad.EffectiveStatus),
}


def status_filter(level: str) -> list[dict[str, object]]:
    """`<level>.effective_status IN [every status of the level]`: what brings archived and deleted objects back."""
    return [{"field": f"{level}.effective_status", "operator": "IN", "value": list(ALL_STATUSES[level])}]


def insights_status_filter(report_level: str) -> list[dict[str, object]]:
    """The status filter every insights request of a report at `report_level` carries.

    Meta leaves archived and deleted objects of the report's own level out of `act_X/insights` unless a filter on
    that level's effective_status names them ("Manage your ad object's status"), so each level names all of its
    own. At level=account the row counts every child whatever its status; `ad.effective_status` with every ad
    status is sent there too, so every request of every report is asked the same way (it names every status, so it
    leaves the account's figures whole).
    """
    return status_filter("ad" if report_level == "account" else report_level)
