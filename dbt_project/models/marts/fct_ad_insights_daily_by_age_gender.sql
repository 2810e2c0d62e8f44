{#-
    One row per (workspace_id, ad_id, date_day, age, gender) from the `ad_daily_age_gender` report: the ad-day split
    by age x gender. Additive metrics of a day's cells add up to the ad-day in fct_ad_insights_daily; reach and
    frequency are those of the cell (never add them up). Ratios recomputed from the cell's own sums.
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}

with

insights as (

    {{ sentrum.insights_of_report('ad_daily_age_gender') }}

),

final as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        insights.adset_id,
        insights.ad_id,
        insights.age,
        insights.gender,
        {{ sentrum.insights_fact_metrics('insights') }}
    from insights

)

select * from final
