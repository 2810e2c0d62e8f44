{#
    numerator / denominator, or null when the denominator is 0 or null. Used for every ratio in the marts (ratios are
    recomputed from the row's sums, never averaged). The result is a double on every backend so the marts have the
    same column types everywhere (BigQuery would otherwise return NUMERIC for a NUMERIC numerator).
#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'sentrum')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as {{ sentrum.column_type('float64') }}) / nullif(cast({{ denominator }} as {{ sentrum.column_type('float64') }}), 0)
{%- endmacro %}

{% macro bigquery__safe_divide(numerator, denominator) -%}
    safe_divide(cast({{ numerator }} as {{ sentrum.column_type('float64') }}), cast({{ denominator }} as {{ sentrum.column_type('float64') }}))
{%- endmacro %}
