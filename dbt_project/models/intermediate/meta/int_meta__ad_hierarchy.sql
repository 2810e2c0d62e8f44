{#-
    The object hierarchy: one row per (workspace_id, ad_id) with its ad set, campaign, account and creative, their
    names and statuses, from the latest entity snapshots. Parents missing from every snapshot leave nulls.
-#}
with

ads as (

    select * from {{ ref('stg_meta__ads') }}

),

adsets as (

    select * from {{ ref('stg_meta__adsets') }}

),

campaigns as (

    select * from {{ ref('stg_meta__campaigns') }}

),

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

creatives as (

    select * from {{ ref('stg_meta__ad_creatives') }}

),

final as (

    select
        ads.workspace_id,
        ads.ad_id,
        ads.adset_id,
        ads.campaign_id,
        ads.account_id,
        ads.creative_id,
        ads.ad_name,
        adsets.adset_name,
        campaigns.campaign_name,
        ad_accounts.account_name,
        creatives.creative_name,
        ads.status as ad_status,
        ads.effective_status as ad_effective_status,
        adsets.effective_status as adset_effective_status,
        campaigns.effective_status as campaign_effective_status,
        campaigns.objective as campaign_objective
    from ads
    left join adsets
        on
            ads.workspace_id = adsets.workspace_id
            and ads.adset_id = adsets.adset_id
    left join campaigns
        on
            ads.workspace_id = campaigns.workspace_id
            and ads.campaign_id = campaigns.campaign_id
    left join ad_accounts
        on
            ads.workspace_id = ad_accounts.workspace_id
            and ads.account_id = ad_accounts.account_id
    left join creatives
        on
            ads.workspace_id = creatives.workspace_id
            and ads.creative_id = creatives.creative_id

)

select * from final
