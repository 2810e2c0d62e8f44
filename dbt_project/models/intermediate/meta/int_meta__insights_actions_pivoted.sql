{#-
    The action lists of every insights row pivoted to one row per (insights grain, action_type, attribution_window)
    with one column per API list: actions, action_values, conversions, conversion_values (null when that list had
    no entry for the type and window). Staging is already unnested (one raw row per list entry and window).
-#}
{%- set grain = sentrum.meta_insight_grain() + ['action_type', 'attribution_window'] -%}

with

insights_actions as (

    select * from {{ ref('stg_meta__insights_actions') }}

),

pivoted as (

    select
        {%- for column in grain %}
        insights_actions.{{ column }},
        {%- endfor %}
        sum(case when insights_actions.metric = 'actions' then insights_actions.metric_value end) as actions,
        sum(case when insights_actions.metric = 'action_values' then insights_actions.metric_value end) as action_values,
        sum(case when insights_actions.metric = 'conversions' then insights_actions.metric_value end) as conversions,
        sum(
            case when insights_actions.metric = 'conversion_values' then insights_actions.metric_value end
        ) as conversion_values
    from insights_actions
    group by
        {%- for column in grain %}
        insights_actions.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}

)

select * from pivoted
