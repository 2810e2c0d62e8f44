{#-
    One row per (workspace_id, ad_id, date_day) from the ad_daily report. Additive metrics as fetched; ratios
    recomputed from the row's own sums; reach as fetched at this grain (never summed: it is not additive).
    Built in full each run for now; the trailing-window incremental build comes later (vars sentrum_window_*).
-#}
{{
    config(
        partition_by=(
            {'field': 'date_day', 'data_type': 'date', 'granularity': 'day'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=(['workspace_id', 'account_id'] if target.type == 'bigquery' else none),
    )
}}

with

insights as (

    select * from {{ ref('stg_meta__insights') }}
    where report = 'ad_daily'

),

conversions as (

    select * from {{ ref('int_meta__ad_conversions_daily') }}

),

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

joined as (

    select
        insights.workspace_id,
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        insights.adset_id,
        insights.ad_id,
        ad_accounts.account_currency,
        insights.spend,
        insights.impressions,
        insights.clicks,
        insights.inline_link_clicks,
        insights.reach,
        coalesce(conversions.conversions, 0) as conversions,
        coalesce(conversions.conversion_value, 0) as conversion_value
    from insights
    left join conversions
        on
            insights.workspace_id = conversions.workspace_id
            and insights.account_id = conversions.account_id
            and insights.ad_id = conversions.ad_id
            and insights.date_day = conversions.date_day
    left join ad_accounts
        on
            insights.workspace_id = ad_accounts.workspace_id
            and insights.account_id = ad_accounts.account_id

),

final as (

    select
        joined.workspace_id,
        joined.date_day,
        joined.account_id,
        joined.campaign_id,
        joined.adset_id,
        joined.ad_id,
        joined.account_currency,
        joined.spend,
        joined.impressions,
        joined.clicks,
        joined.inline_link_clicks,
        joined.reach,
        joined.conversions,
        joined.conversion_value,
        {{ sentrum.safe_divide('joined.clicks', 'joined.impressions') }} as ctr,
        {{ sentrum.safe_divide('joined.spend', 'joined.clicks') }} as cpc,
        {{ sentrum.safe_divide('1000 * joined.spend', 'joined.impressions') }} as cpm,
        {{ sentrum.safe_divide('joined.spend', 'joined.conversions') }} as cpa,
        {{ sentrum.safe_divide('joined.conversion_value', 'joined.spend') }} as roas
    from joined

)

select * from final
