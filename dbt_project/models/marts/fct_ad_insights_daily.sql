{#-
    One row per (workspace_id, ad_id, date_day) from the `ad_daily` report: additive metrics as fetched, reach and
    frequency as fetched for the ad-day (never summed anywhere), ratios recomputed from the row's own sums.
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}

with

insights as (

    {{ sentrum.insights_of_report('ad_daily') }}

),

final as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        insights.adset_id,
        insights.ad_id,
        {{ sentrum.insights_fact_metrics('insights') }}
    from insights

)

select * from final
