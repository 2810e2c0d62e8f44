{#-
    One row per (workspace_id, campaign_id, date_day) from the `campaign_daily` report, fetched at campaign level:
    reach and frequency are the campaign's own (people counted once across its children), never a sum. Ratios
    recomputed from the row's sums.
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}

with

insights as (

    {{ sentrum.insights_of_report('campaign_daily') }}

),

final as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        {{ sentrum.insights_fact_metrics('insights') }}
    from insights

)

select * from final
