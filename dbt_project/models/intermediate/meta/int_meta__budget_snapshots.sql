{#-
    Every visible budget snapshot of campaigns and ad sets: one row per (workspace_id, object, complete entities
    batch) with the daily and lifetime budget the snapshot showed and when its batch was committed. The staging
    models keep only the latest snapshot; budget pacing needs the history (was the budget raised mid-week?), so this
    reads every snapshot under the same visibility rule (a batch without a manifest row never shows).
-#}
{%- set adset_columns = sentrum.get_meta_adsets_columns() -%}
{%- set campaign_columns = sentrum.get_meta_campaigns_columns() -%}

with

adsets as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_adsets'), adset_columns) }}
    from {{ source('meta', 'meta_adsets') }}

),

campaigns as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_campaigns'), campaign_columns) }}
    from {{ source('meta', 'meta_campaigns') }}

),

batches as (

    select * from {{ ref('stg_meta__batches') }}

),

snapshots as (

    select
        adsets.workspace_id,
        adsets.account_id,
        'adset' as object_level,
        adsets.adset_id as object_id,
        adsets.daily_budget,
        adsets.lifetime_budget,
        batches.completed_at as snapshot_at
    from adsets
    inner join batches
        on
            adsets.batch_id = batches.batch_id
            and adsets.workspace_id = batches.workspace_id
    where adsets.adset_id is not null

    union all

    select
        campaigns.workspace_id,
        campaigns.account_id,
        'campaign' as object_level,
        campaigns.campaign_id as object_id,
        campaigns.daily_budget,
        campaigns.lifetime_budget,
        batches.completed_at as snapshot_at
    from campaigns
    inner join batches
        on
            campaigns.batch_id = batches.batch_id
            and campaigns.workspace_id = batches.workspace_id
    where campaigns.campaign_id is not null

),

final as (

    select distinct
        workspace_id,
        account_id,
        object_level,
        object_id,
        daily_budget,
        lifetime_budget,
        snapshot_at
    from snapshots

)

select * from final
