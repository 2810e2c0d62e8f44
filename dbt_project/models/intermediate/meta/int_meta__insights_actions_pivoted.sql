{#-
    The action lists of every insights row, one row per (insights grain, action_type, attribution_window) with one
    column per API list: actions, action_values, conversions, conversion_values (null when that list had no entry for
    the type and window). Staging has one row per (insights row, action_type) with a column per (list, window): each
    becomes one row per window Meta returned, without any aggregation (one record per type and row is a rule of raw).
-#}
{%- set grain = sentrum.meta_insight_grain() -%}
{%- set metrics = sentrum.meta_action_metrics() -%}
{%- set windows = sentrum.meta_action_windows() -%}
{%- set window_literals = [] -%}
{%- for window in windows -%}
    {%- do window_literals.append(sentrum.string_literal(window)) -%}
{%- endfor -%}

-- noqa: disable=LT02,RF03
-- (the Jinja loops' whitespace control sets these indents; the unnested window column has no table to qualify it with)

with

insights_actions as (

    select * from {{ ref('stg_meta__insights_actions') }}

),

per_window as (

    select
        {%- for column in grain %}
        insights_actions.{{ column }},
        {%- endfor %}
        insights_actions.action_type,
        attribution_window,
        {%- for metric in metrics %}
        case attribution_window
            {%- for window in windows %}
            when {{ sentrum.string_literal(window) }} then insights_actions.{{ metric }}_{{ window }}
            {%- endfor %}
        end as {{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from insights_actions
    cross join {{ sentrum.unnest_rows('[' ~ window_literals | join(', ') ~ ']', 'attribution_window') }}

),

pivoted as (

    select * from per_window
    where
        {%- for metric in metrics %}
        {% if not loop.first %}or {% endif %}{{ metric }} is not null
        {%- endfor %}

)

select * from pivoted
