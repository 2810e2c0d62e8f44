{{ config(cluster_by=sentrum.bigquery_cluster_by(['workspace_id'])) }}

with

adsets as (

    select * from {{ ref('stg_meta__adsets') }}

),

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

final as (

    select
        adsets.workspace_id,
        adsets.adset_id,
        adsets.account_id,
        adsets.campaign_id,
        adsets.adset_name,
        adsets.status,
        adsets.effective_status,
        adsets.optimization_goal,
        adsets.billing_event,
        adsets.bid_strategy,
        ad_accounts.account_currency,
        adsets.daily_budget,
        adsets.lifetime_budget,
        adsets.created_at,
        adsets.updated_at,
        adsets.start_at,
        adsets.end_at,
        adsets.learning_stage_status,
        adsets.learning_stage_conversions,
        adsets.learning_stage_last_edit_at,
        adsets.extracted_at
    from adsets
    left join ad_accounts
        on
            adsets.workspace_id = ad_accounts.workspace_id
            and adsets.account_id = ad_accounts.account_id

)

select * from final
