{#
    The body of the `unique_combination` test (tests/generic/unique_combination.sql), per backend.
#}

{# The rows of each key that appears more than once. #}
{% macro default__unique_combination_sql(model, columns) %}

select
    {% for column in columns -%}
    {{ column }},
    {% endfor -%}
    count(*) as n_rows
from {{ model }}
group by
    {% for column in columns -%}
    {{ column }}{% if not loop.last %},{% endif %}
    {% endfor -%}
having count(*) > 1

{% endmacro %}


{#
    DuckDB: grouping by the columns themselves holds every distinct key (~15 strings on the insights grain) in one
    hash table, in the dbt process: on a workspace month that took gigabytes. The model is grouped by a 64-bit
    fingerprint of the key first (8 bytes per row), and only keys whose fingerprint repeats are compared column by
    column, so a collision of two different keys is told apart there and the test stays exact. (BigQuery spreads a
    GROUP BY over its workers: the plain form above.)
#}
{% macro duckdb__unique_combination_sql(model, columns) %}

with

fingerprinted as (

    select
        {% for column in columns -%}
        {{ column }},
        {% endfor -%}
        hash({{ columns | join(', ') }}) as sentrum_fingerprint
    from {{ model }}

),

repeated as (

    select sentrum_fingerprint
    from fingerprinted
    group by sentrum_fingerprint
    having count(*) > 1

)

select
    {% for column in columns -%}
    {{ column }},
    {% endfor -%}
    count(*) as n_rows
from fingerprinted
where sentrum_fingerprint in (select repeated.sentrum_fingerprint from repeated)
group by
    {% for column in columns -%}
    {{ column }}{% if not loop.last %},{% endif %}
    {% endfor -%}
having count(*) > 1

{% endmacro %}
