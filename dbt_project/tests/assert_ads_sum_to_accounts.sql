{#-
    Ad-level rows (ad_daily) add up to their account's row (account_daily) per workspace, account and day, for every
    additive metric (counts exactly, money within 0.01), on the dates both reports are visible.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_account_insights_daily'}}}) }}

{{ sentrum.reconcile_additive(
    child=ref('fct_ad_insights_daily'),
    parent=ref('fct_account_insights_daily'),
    keys=['workspace_id', 'account_id', 'date_day'],
    child_report='ad_daily',
    parent_report='account_daily',
) }}
