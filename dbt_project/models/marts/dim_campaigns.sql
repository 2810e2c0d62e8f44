{{ config(cluster_by=sentrum.bigquery_cluster_by(['workspace_id'])) }}

with

campaigns as (

    select * from {{ ref('stg_meta__campaigns') }}

),

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

final as (

    select
        campaigns.workspace_id,
        campaigns.campaign_id,
        campaigns.account_id,
        campaigns.campaign_name,
        campaigns.status,
        campaigns.effective_status,
        campaigns.objective,
        campaigns.buying_type,
        campaigns.bid_strategy,
        ad_accounts.account_currency,
        campaigns.daily_budget,
        campaigns.lifetime_budget,
        campaigns.created_at,
        campaigns.updated_at,
        campaigns.start_at,
        campaigns.stop_at,
        campaigns.extracted_at
    from campaigns
    left join ad_accounts
        on
            campaigns.workspace_id = ad_accounts.workspace_id
            and campaigns.account_id = ad_accounts.account_id

)

select * from final
