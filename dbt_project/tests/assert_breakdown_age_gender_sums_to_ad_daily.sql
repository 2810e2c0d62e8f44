{#-
    The cells of ad_daily_age_gender add up to the ad-day of ad_daily for every additive metric (counts exactly, money
    within 0.01), on the dates both reports are visible. See macros/testing/reconcile_additive.sql.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_ad_insights_daily_by_age_gender'}}}) }}

{{ sentrum.reconcile_additive(
    child=ref('fct_ad_insights_daily_by_age_gender'),
    parent=ref('fct_ad_insights_daily'),
    keys=['workspace_id', 'account_id', 'ad_id', 'date_day'],
    child_report='ad_daily_age_gender',
    parent_report='ad_daily',
) }}
