{#
    A table expression with one row per date from start_date to end_date (inclusive), in a column named
    `column_name`. Use it after a `cross join` whose left side provides start_date/end_date; refer to the column
    unqualified (BigQuery's UNNEST alias cannot be qualified).

        from batches
        cross join {{ sentrum.date_range_rows('batches.date_start', 'batches.date_end', 'covered_date') }}
#}
{% macro date_range_rows(start_date, end_date, column_name) -%}
    {{ return(adapter.dispatch('date_range_rows', 'sentrum')(start_date, end_date, column_name)) }}
{%- endmacro %}

{# Postgres-style: generate_series is a set-returning function in a lateral subquery. #}
{% macro default__date_range_rows(start_date, end_date, column_name) -%}
    lateral (
        select cast(generate_series({{ start_date }}, {{ end_date }}, interval '1 day') as date) as {{ column_name }}
    ) as {{ column_name }}_rows
{%- endmacro %}

{# DuckDB: generate_series is a scalar returning a list of timestamps; unnest it and cast back to date. #}
{% macro duckdb__date_range_rows(start_date, end_date, column_name) -%}
    lateral (
        select cast(unnest(generate_series({{ start_date }}, {{ end_date }}, interval 1 day)) as date) as {{ column_name }}
    ) as {{ column_name }}_rows
{%- endmacro %}

{% macro bigquery__date_range_rows(start_date, end_date, column_name) -%}
    unnest(generate_date_array({{ start_date }}, {{ end_date }})) as {{ column_name }}
{%- endmacro %}
