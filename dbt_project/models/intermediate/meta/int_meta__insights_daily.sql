{#-
    Every visible insights row (all reports, levels and breakdown cells) with its conversions and the account's
    currency: what each fact selects its own report from. Reach and frequency stay as fetched for the row.

    Conversions and conversion value come from the row's own action records (no join, no aggregation): the `actions`
    and `action_values` of the action types in var `sentrum_conversion_action_types`, under the attribution window in
    var `sentrum_attribution_window` (default `value`: the account's own attribution setting).
-#}
{%- set grain = sentrum.meta_insight_grain() -%}
{%- set conversion_action_types = var('sentrum_conversion_action_types') -%}
{%- set attribution_window = var('sentrum_attribution_window') -%}
{%- if attribution_window not in sentrum.meta_action_windows() -%}
    {{ exceptions.raise_compiler_error(
        "var sentrum_attribution_window must be one of " ~ (sentrum.meta_action_windows() | join(', '))
        ~ ", not '" ~ attribution_window ~ "'"
    ) }}
{%- endif -%}

-- noqa: disable=LT02
-- (the Jinja loops' whitespace control sets these indents)

with

insights as (

    select * from {{ ref('stg_meta__insights') }}

),

ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

joined as (

    select
        {%- for column in grain %}
        insights.{{ column }},
        {%- endfor %}
        ad_accounts.account_currency,
        insights.spend,
        insights.impressions,
        insights.clicks,
        insights.inline_link_clicks,
        insights.reach,
        insights.frequency,
        {%- for output, metric in [('conversions', 'actions'), ('conversion_value', 'action_values')] %}
        cast(coalesce({{ sentrum.sum_record_field(
            'insights.actions', metric ~ '_' ~ attribution_window, 'action_type', conversion_action_types
        ) }}, 0) as {{ sentrum.column_type('numeric') }}) as {{ output }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from insights
    left join ad_accounts
        on
            insights.workspace_id = ad_accounts.workspace_id
            and insights.account_id = ad_accounts.account_id

)

select * from joined
