"""What the extractor reads about ad objects: fields per edge and the status filter that brings back everything.

Without an effective_status filter naming them, Meta hides ARCHIVED and DELETED objects from edges, yet deleted ads
keep accruing insights for weeks: the dimensions must know them.
"""

from __future__ import annotations

ACCOUNT_FIELDS = [
    "id", "account_id", "name", "currency", "timezone_name", "timezone_offset_hours_utc", "account_status", "business",
]  # fmt: skip
CAMPAIGN_FIELDS = [
    "id", "name", "status", "effective_status", "objective", "buying_type", "bid_strategy", "daily_budget",
    "lifetime_budget", "created_time", "updated_time", "start_time", "stop_time",
]  # fmt: skip
ADSET_FIELDS = [
    "id", "name", "campaign_id", "status", "effective_status", "optimization_goal", "billing_event", "bid_strategy",
    "daily_budget", "lifetime_budget", "created_time", "updated_time", "start_time", "end_time",
]  # fmt: skip
AD_FIELDS = [
    "id", "name", "adset_id", "campaign_id", "status", "effective_status", "creative", "created_time", "updated_time",
]  # fmt: skip
# Metadata only: the creative's assets (images, videos) are never read, only a link to its thumbnail.
CREATIVE_FIELDS = [
    "id", "name", "title", "body", "object_type", "call_to_action_type", "url_tags", "thumbnail_url", "status",
]  # fmt: skip

_COMMON_STATUSES = ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED", "IN_PROCESS", "WITH_ISSUES"]
ALL_STATUSES = {
    "campaign": _COMMON_STATUSES,
    "adset": [*_COMMON_STATUSES, "CAMPAIGN_PAUSED"],
    "ad": [
        *_COMMON_STATUSES, "CAMPAIGN_PAUSED", "ADSET_PAUSED", "PENDING_REVIEW", "DISAPPROVED", "PREAPPROVED",
        "PENDING_BILLING_INFO",
    ],
}  # fmt: skip


def status_filter(level: str) -> list[dict[str, object]]:
    return [{"field": f"{level}.effective_status", "operator": "IN", "value": ALL_STATUSES[level]}]
