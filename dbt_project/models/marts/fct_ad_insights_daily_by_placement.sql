{#-
    One row per (workspace_id, ad_id, date_day, publisher_platform, platform_position) from the `ad_daily_placement`
    report: the ad-day split by publisher_platform x platform_position. Additive metrics of a day's cells add up to
    the ad-day in fct_ad_insights_daily; reach and frequency are those of the cell (never add them up). Ratios
    recomputed from the cell's own sums.
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}

with

insights as (

    {{ sentrum.insights_of_report('ad_daily_placement') }}

),

final as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        insights.adset_id,
        insights.ad_id,
        insights.publisher_platform,
        insights.platform_position,
        {{ sentrum.insights_fact_metrics('insights') }}
    from insights

)

select * from final
