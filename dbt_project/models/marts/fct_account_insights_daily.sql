{#-
    One row per (workspace_id, account_id, date_day) from the `account_daily` report, fetched at account level:
    reach and frequency are the account's own (people counted once across its children), never a sum. Ratios
    recomputed from the row's sums.
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}

with

insights as (

    {{ sentrum.insights_of_report('account_daily') }}

),

final as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        {{ sentrum.insights_fact_metrics('insights') }}
    from insights

)

select * from final
