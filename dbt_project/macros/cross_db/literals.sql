{#
    A date as a SQL literal (`date '2026-11-01'`): the same on DuckDB and BigQuery (and ANSI), so only a default.
    `value` is a datetime.date or an ISO string.
#}
{% macro date_literal(value) -%}
    {{ return(adapter.dispatch('date_literal', 'sentrum')(value)) }}
{%- endmacro %}

{% macro default__date_literal(value) -%}
    date '{{ value }}'
{%- endmacro %}


{#
    A string as a SQL literal. Only for values already checked against a strict pattern (workspace ids, action types
    from the project's vars): quotes are escaped anyway, so a stray one cannot end the literal.
#}
{% macro string_literal(value) -%}
    {{ return(adapter.dispatch('string_literal', 'sentrum')(value)) }}
{%- endmacro %}

{% macro default__string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{# BigQuery escapes quotes in string literals with a backslash ('' would end the literal and start another). #}
{% macro bigquery__string_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{#
    a = b, with null equal to null: keys of insights rows are null above their level (campaign_id of an account
    row) and in unbroken reports (breakdown columns), and a plain `=` would drop those rows from a join.
#}
{% macro null_safe_equals(left, right) -%}
    {{ return(adapter.dispatch('null_safe_equals', 'sentrum')(left, right)) }}
{%- endmacro %}

{% macro default__null_safe_equals(left, right) -%}
    {{ left }} is not distinct from {{ right }}
{%- endmacro %}

