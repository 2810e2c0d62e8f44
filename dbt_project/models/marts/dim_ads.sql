{{ config(cluster_by=sentrum.bigquery_cluster_by(['workspace_id'])) }}

with

ads as (

    select * from {{ ref('stg_meta__ads') }}

),

hierarchy as (

    select * from {{ ref('int_meta__ad_hierarchy') }}

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
        ads.extracted_at,
        hierarchy.adset_name,
        hierarchy.campaign_name,
        hierarchy.creative_name
    from ads
    left join hierarchy
        on
            ads.workspace_id = hierarchy.workspace_id
            and ads.ad_id = hierarchy.ad_id

)

select * from final
