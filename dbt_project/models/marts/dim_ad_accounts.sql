{{ config(cluster_by=sentrum.bigquery_cluster_by(['workspace_id'])) }}

with

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

final as (

    select
        ad_accounts.workspace_id,
        ad_accounts.account_id,
        ad_accounts.account_name,
        ad_accounts.account_currency,
        ad_accounts.timezone_name,
        ad_accounts.timezone_offset_hours_utc,
        ad_accounts.account_status,
        case ad_accounts.account_status
            when 1 then 'ACTIVE'
            when 2 then 'DISABLED'
            when 3 then 'UNSETTLED'
            when 7 then 'PENDING_RISK_REVIEW'
            when 8 then 'PENDING_SETTLEMENT'
            when 9 then 'IN_GRACE_PERIOD'
            when 100 then 'PENDING_CLOSURE'
            when 101 then 'CLOSED'
            when 201 then 'ANY_ACTIVE'
            when 202 then 'ANY_CLOSED'
        end as account_status_name,
        ad_accounts.disable_reason,
        -- major units of account_currency; Meta's 0 means "no cap", kept as null here so a sum or a ratio never
        -- reads it as a cap of nothing
        case when ad_accounts.spend_cap > 0 then ad_accounts.spend_cap end as spend_cap,
        ad_accounts.amount_spent,
        ad_accounts.business_id,
        ad_accounts.extracted_at
    from ad_accounts

)

select * from final
