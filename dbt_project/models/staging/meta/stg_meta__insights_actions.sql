{#-
    The action lists of the visible insights rows (stg_meta__insights), unnested: one row per (insights row,
    action_type), with one column per (API list, attribution window), e.g. `actions_7d_click` (raw keeps them nested
    in the insights row: warehouse/schema.py ACTION_RECORD). Visibility is stg_meta__insights's: same batch rule.
-#}
{%- set key_columns = [] -%}
{%- for column in sentrum.meta_insight_key_columns() -%}
    {%- do key_columns.append('insights.' ~ column.name) -%}
{%- endfor -%}

-- noqa: disable=LT02,AL09
-- (the Jinja loops' whitespace control sets these indents; a struct field named like its column is not a self-alias)

with

insights as (

    select * from {{ ref('stg_meta__insights') }}

),

unnested as (

    {{ sentrum.select_unnested(key_columns, 'insights.actions', 'action', 'insights') | indent(4) }}

),

flattened as (

    select
        {%- for column in sentrum.meta_insight_key_columns() %}
        unnested.{{ column.name }},
        {%- endfor %}
        {%- for name, logical_type in sentrum.meta_action_record_fields() %}
        unnested.action.{{ name }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from unnested

)

select * from flattened
