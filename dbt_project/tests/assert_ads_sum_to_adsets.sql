{#-
    Ad-level rows (ad_daily) add up to their adset's row (adset_daily) per workspace, adset and day, for every
    additive metric (counts exactly, money within 0.01), on the dates both reports are visible.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_adset_insights_daily'}}}) }}

{{ sentrum.reconcile_additive(
    child=ref('fct_ad_insights_daily'),
    parent=ref('fct_adset_insights_daily'),
    keys=['workspace_id', 'account_id', 'adset_id', 'date_day'],
    child_report='ad_daily',
    parent_report='adset_daily',
) }}
