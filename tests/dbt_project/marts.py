"""The marts the project builds and their grains, as the dbt tests expect them."""

from __future__ import annotations

from tests.dbt_project.raw_data import BREAKDOWNS

FACTS = {
    "fct_account_insights_daily": ("account_daily", ["account_id"]),
    "fct_campaign_insights_daily": ("campaign_daily", ["account_id", "campaign_id"]),
    "fct_adset_insights_daily": ("adset_daily", ["account_id", "campaign_id", "adset_id"]),
    "fct_ad_insights_daily": ("ad_daily", ["account_id", "campaign_id", "adset_id", "ad_id"]),
    **{
        f"fct_ad_insights_daily_by_{report.removeprefix('ad_daily_')}": (
            report,
            ["account_id", "campaign_id", "adset_id", "ad_id", *cells[0][0]],
        )
        for report, cells in BREAKDOWNS.items()
    },
}
# The incremental facts (every fct_ model): rebuilt per window, compared between full and incremental builds.
INCREMENTAL_FACTS = [*FACTS, "fct_ad_actions_daily"]
METRICS = [
    "account_currency",
    "spend",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "reach",
    "frequency",
    "conversions",
    "conversion_value",
    "ctr",
    "cpc",
    "cpm",
    "cpa",
    "roas",
]
MARTS = {
    *FACTS,
    "fct_ad_actions_daily",
    "dim_ad_accounts",
    "dim_campaigns",
    "dim_adsets",
    "dim_ads",
    "dim_creatives",
    "dim_budget_history",
}
