{{ config(cluster_by=sentrum.bigquery_cluster_by(['workspace_id'])) }}

with

creatives as (

    select * from {{ ref('stg_meta__ad_creatives') }}

),

final as (

    select
        creatives.workspace_id,
        creatives.creative_id,
        creatives.account_id,
        creatives.creative_name,
        creatives.title,
        creatives.body,
        creatives.object_type,
        creatives.call_to_action_type,
        creatives.url_tags,
        creatives.thumbnail_url,
        creatives.status,
        creatives.extracted_at
    from creatives

)

select * from final
