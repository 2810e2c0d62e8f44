"""Facts from Meta's documents, written out literally (docs/meta-conformance.md gives each one's source).

Tests of the sandbox take their expectations from here, never from the sandbox's or the extractor's own constants,
so a sandbox that drifts from Meta's documents fails them.
"""

from __future__ import annotations

# effective_status per level: the facebook-business SDK v26.0.3 enums (Ad / AdSet / Campaign.EffectiveStatus).
AD_STATUSES = [
    "ACTIVE", "ADSET_PAUSED", "ARCHIVED", "CAMPAIGN_PAUSED", "DELETED", "DISAPPROVED", "IN_PROCESS", "PAUSED",
    "PENDING_BILLING_INFO", "PENDING_REVIEW", "PREAPPROVED", "WITH_ISSUES",
]  # fmt: skip
ADSET_STATUSES = ["ACTIVE", "ARCHIVED", "CAMPAIGN_PAUSED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES"]
CAMPAIGN_STATUSES = ["ACTIVE", "ARCHIVED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES"]
STATUSES = {"ad": AD_STATUSES, "adset": ADSET_STATUSES, "campaign": CAMPAIGN_STATUSES}
# Hidden from edges and from insights rows at their own level unless a filter names them ("Manage your ad object's
# status").
HIDDEN = {"ARCHIVED", "DELETED"}

# "Async Job Status" table (insights best practices).
ASYNC_STATUSES = ["Job Not Started", "Job Started", "Job Running", "Job Completed", "Job Failed", "Job Skipped"]

# Error codes (Graph error-handling guide, Marketing error reference, insights reference).
INVALID_TOKEN = 190
TOKEN_EXPIRED_SUBCODE = 463
OBJECT_NOT_FOUND = (100, 33)
TOO_MANY_ROWS = (100, 1487534)
SYNC_TIMEOUT = (100, 1504018)
INVALID_BREAKDOWNS = (2, 1504041)
REPORT_NOT_READY = (2601, 1815107)
RUN_STATUS_NOT_VALID = (100, 1487561)
DEPRECATED_VERSION = 2635
INVALID_CURSOR = 2642  # "Invalid cursors values" (insights reference)
PERMISSION_CODES = range(200, 300)
TOO_OLD = 3018  # "The start date of the time range cannot be beyond 37 months from the current date"
ACCOUNT_THROTTLE = (17, 2446079)
BUC_INSIGHTS_THROTTLE = 80000
BUC_ADS_MANAGEMENT_THROTTLE = 80004
BATCH_LIMIT = 50

# Usage headers and their keys (Graph and Marketing rate-limiting pages, insights best practices).
APP_USAGE_KEYS = {"call_count", "total_cputime", "total_time"}
AD_ACCOUNT_USAGE_KEYS = {"acc_id_util_pct", "reset_time_duration", "ads_api_access_tier"}
BUC_KEYS = {"type", "call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"}
INSIGHTS_THROTTLE_KEYS = {"app_id_util_pct", "acc_id_util_pct"}

# debug_token's `data` fields (Graph reference) and me/permissions statuses (SDK Permission.Status).
DEBUG_TOKEN_FIELDS = {"app_id", "type", "application", "data_access_expires_at", "expires_at", "is_valid", "scopes"}
PERMISSION_STATUSES = {"granted", "declined", "expired"}

# Insights "do not change after 28 days of being reported".
RESTATEMENT_DAYS = 28
# Retention: "37 months".
RETENTION_MONTHS = 37


def every_status(level: str) -> list[dict[str, object]]:
    """A `filtering` entry naming every effective status of `level` (what brings back archived/deleted rows)."""
    return [{"field": f"{level}.effective_status", "operator": "IN", "value": STATUSES[level]}]


# Daily budgets (Business Help Center, "About daily budgets"): a day may spend up to 75% more than the daily budget;
# a calendar week, Sunday through Saturday, at most 7 times it.
DAILY_BUDGET_DAY_MAX = 1.75
DAILY_BUDGET_WEEK_MAX = 7
WEEK_STARTS = "Sunday"

# Object money fields (budgets, spend_cap, amount_spent) are strings in minor units of the account currency; these
# currencies have offset 1, every other 100 (Marketing API "Currencies" page).
OFFSET_1_CURRENCIES = {"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"}
# AdAccount.spend_cap: "A value of 0 means no spending-cap".
NO_SPEND_CAP = "0"
# learning_stage_info.status values (AdCampaignLearningStageInfo reference); FAIL is "Learning limited" in Ads Manager.
LEARNING_STATUSES = {"LEARNING", "SUCCESS", "FAIL"}
