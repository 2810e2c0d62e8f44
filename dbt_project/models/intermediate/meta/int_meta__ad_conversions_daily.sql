{#-
    Conversions and conversion value per ad and day, from the ad_daily report: the `actions` and `action_values`
    of the action types in var `sentrum_conversion_action_types`, under the attribution window in var
    `sentrum_attribution_window` (default `value`: the account's own attribution setting).
-#}
{%- set conversion_action_types = var('sentrum_conversion_action_types') -%}
{%- set attribution_window = var('sentrum_attribution_window') -%}

with

insights_actions as (

    select * from {{ ref('stg_meta__insights_actions') }}

),

conversion_actions as (

    select
        insights_actions.workspace_id,
        insights_actions.account_id,
        insights_actions.ad_id,
        insights_actions.date_day,
        insights_actions.metric,
        insights_actions.metric_value
    from insights_actions
    where
        insights_actions.report = 'ad_daily'
        and insights_actions.metric in ('actions', 'action_values')
        and insights_actions.attribution_window = '{{ attribution_window }}'
        {%- if conversion_action_types | length > 0 %}
        and insights_actions.action_type in (
            {%- for action_type in conversion_action_types %}
            '{{ action_type }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        {%- else %}
        and false
        {%- endif %}

),

aggregated as (

    select
        conversion_actions.workspace_id,
        conversion_actions.account_id,
        conversion_actions.ad_id,
        conversion_actions.date_day,
        coalesce(
            sum(case when conversion_actions.metric = 'actions' then conversion_actions.metric_value end), 0
        ) as conversions,
        coalesce(
            sum(case when conversion_actions.metric = 'action_values' then conversion_actions.metric_value end), 0
        ) as conversion_value
    from conversion_actions
    group by
        conversion_actions.workspace_id,
        conversion_actions.account_id,
        conversion_actions.ad_id,
        conversion_actions.date_day

)

select * from aggregated
