{#
    Column lists shared by the insights models, so the grain and the metrics are spelled once.
#}

{# The grain of an insights row (every report): keys, the level's object ids, the breakdown values. #}
{% macro meta_insight_grain() -%}
    {{ return([
        'workspace_id', 'account_id', 'report', 'level', 'date_day', 'campaign_id', 'adset_id', 'ad_id',
    ] + sentrum.meta_breakdown_columns()) }}
{%- endmacro %}


{# Breakdown columns, null in unbroken reports (warehouse/schema.py BREAKDOWN_COLUMNS). #}
{% macro meta_breakdown_columns() -%}
    {{ return(['age', 'gender', 'country', 'publisher_platform', 'platform_position', 'device_platform']) }}
{%- endmacro %}


{#
    The metric columns of every insights fact, after its keys: currency, additive metrics, reach/frequency as fetched
    at the row's grain, conversions, and the ratios recomputed from the row's own sums.
#}
{% macro insights_fact_metrics(relation) -%}
    {{ relation }}.account_currency,
        {{ relation }}.spend,
        {{ relation }}.impressions,
        {{ relation }}.clicks,
        {{ relation }}.inline_link_clicks,
        {{ relation }}.reach,
        {{ relation }}.frequency,
        {{ relation }}.conversions,
        {{ relation }}.conversion_value,
        {{ sentrum.insights_ratios(relation) }}
{%- endmacro %}


{#
    ctr, cpc, cpm, cpa, roas from the additive columns of `relation` (a row or a rollup of sums: never an average of
    ratios). Null when the denominator is 0 or null.
#}
{% macro insights_ratios(relation) -%}
    {{ sentrum.safe_divide(relation ~ '.clicks', relation ~ '.impressions') }} as ctr,
        {{ sentrum.safe_divide(relation ~ '.spend', relation ~ '.clicks') }} as cpc,
        {{ sentrum.safe_divide('1000 * ' ~ relation ~ '.spend', relation ~ '.impressions') }} as cpm,
        {{ sentrum.safe_divide(relation ~ '.spend', relation ~ '.conversions') }} as cpa,
        {{ sentrum.safe_divide(relation ~ '.conversion_value', relation ~ '.spend') }} as roas
{%- endmacro %}


{#
    The rows of one report from int_meta__insights_daily; on an incremental run only the window's dates.
#}
{% macro insights_of_report(report) -%}
    select * from {{ ref('int_meta__insights_daily') }}
    where
        report = {{ sentrum.string_literal(report) }}
        {%- if is_incremental() %}
        and {{ sentrum.fact_window_filter('date_day') }}
        {%- endif %}
{%- endmacro %}
