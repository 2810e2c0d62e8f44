{#-
    Conversions and conversion value per insights row (every report and level, breakdown cells included): the
    `actions` and `action_values` of the action types in var `sentrum_conversion_action_types`, under the attribution
    window in var `sentrum_attribution_window` (default `value`: the account's own attribution setting).
-#}
{%- set conversion_action_types = var('sentrum_conversion_action_types') -%}
{%- set attribution_window = var('sentrum_attribution_window') -%}
{%- set grain = sentrum.meta_insight_grain() -%}

with

actions as (

    select * from {{ ref('int_meta__insights_actions_pivoted') }}

),

conversion_actions as (

    select * from actions
    where
        actions.attribution_window = {{ sentrum.string_literal(attribution_window) }}
        {%- if conversion_action_types | length > 0 %}
        and actions.action_type in (
            {%- for action_type in conversion_action_types %}
            {{ sentrum.string_literal(action_type) }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        {%- else %}
        and false
        {%- endif %}

),

aggregated as (

    select
        {%- for column in grain %}
        conversion_actions.{{ column }},
        {%- endfor %}
        coalesce(sum(conversion_actions.actions), 0) as conversions,
        coalesce(sum(conversion_actions.action_values), 0) as conversion_value
    from conversion_actions
    group by
        {%- for column in grain %}
        conversion_actions.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}

)

select * from aggregated
