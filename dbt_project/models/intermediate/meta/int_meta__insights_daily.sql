{#-
    Every visible insights row (all reports, levels and breakdown cells) with its conversions and the account's
    currency: what each fact selects its own report from. Reach and frequency stay as fetched for the row.
-#}
{%- set grain = sentrum.meta_insight_grain() -%}
{%- set always_set = ['workspace_id', 'account_id', 'report', 'date_day'] -%}

with

insights as (

    select * from {{ ref('stg_meta__insights') }}

),

conversions as (

    select * from {{ ref('int_meta__conversions_daily') }}

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
        coalesce(conversions.conversions, 0) as conversions,
        coalesce(conversions.conversion_value, 0) as conversion_value
    from insights
    left join conversions
        on
            {%- for column in grain %}
            {% if not loop.first %}and {% endif -%}
            {%- if column in always_set -%}
            insights.{{ column }} = conversions.{{ column }}
            {%- else -%}
            {{ sentrum.null_safe_equals('insights.' ~ column, 'conversions.' ~ column) }}
            {%- endif %}
            {%- endfor %}
    left join ad_accounts
        on
            insights.workspace_id = ad_accounts.workspace_id
            and insights.account_id = ad_accounts.account_id

)

select * from joined
