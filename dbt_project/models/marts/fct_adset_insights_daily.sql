{#-
    One row per (workspace_id, adset_id, date_day) from the `adset_daily` report, fetched at ad set level: reach and
    frequency are the ad set's own (people counted once across its children), never a sum. Ratios recomputed from
    the row's sums.
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}

with

insights as (

    {{ sentrum.insights_of_report('adset_daily') }}

),

final as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        insights.adset_id,
        {{ sentrum.insights_fact_metrics('insights') }}
    from insights

)

select * from final
