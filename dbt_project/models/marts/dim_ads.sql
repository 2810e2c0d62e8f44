{{ config(cluster_by=(['workspace_id'] if target.type == 'bigquery' else none)) }}

with

ads as (

    select * from {{ ref('stg_meta__ads') }}

),

final as (

    select
        ads.workspace_id,
        ads.ad_id,
        ads.account_id,
        ads.campaign_id,
        ads.adset_id,
        ads.ad_name,
        ads.status,
        ads.effective_status,
        ads.creative_id,
        ads.created_at,
        ads.updated_at,
        ads.extracted_at
    from ads

)

select * from final
