{#-
    One row per (workspace_id, ad_id, date_day, action_type, attribution_window) from the `ad_daily` report's action
    lists: every action type under every attribution window Meta returned. Windows are different views of the same
    actions: filter on one window, never add windows up. `is_conversion` marks the action types counted as
    conversions in the insights facts (var sentrum_conversion_action_types).
-#}
{{ config(**sentrum.incremental_fact_config('account_id')) }}
{%- set conversion_action_types = var('sentrum_conversion_action_types') -%}

-- noqa: disable=LT02
-- (the Jinja loops' whitespace control sets these indents)

with

actions as (

    select * from {{ ref('int_meta__insights_actions_pivoted') }}
    where
        report = 'ad_daily'
        {%- if is_incremental() %}
        and {{ sentrum.fact_window_filter('date_day') }}
        {%- endif %}

),

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

final as (

    select
        actions.workspace_id,
        actions.date_day,
        actions.account_id,
        actions.campaign_id,
        actions.adset_id,
        actions.ad_id,
        actions.action_type,
        actions.attribution_window,
        {% if conversion_action_types | length > 0 -%}
        actions.action_type in (
            {%- for action_type in conversion_action_types %}
            {{ sentrum.string_literal(action_type) }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as is_conversion,
        {%- else -%}
        false as is_conversion,
        {%- endif %}
        ad_accounts.account_currency,
        actions.actions,
        actions.action_values,
        actions.conversions as meta_conversions,
        actions.conversion_values as meta_conversion_values
    from actions
    left join ad_accounts
        on
            actions.workspace_id = ad_accounts.workspace_id
            and actions.account_id = ad_accounts.account_id

)

select * from final
