{#
    The combination of `columns` is unique in the model (the grain test; a small stand-in for
    dbt_utils.unique_combination_of_columns, since no packages are installed at run time).

        data_tests:
          - unique_combination:
              arguments:
                columns: [workspace_id, ad_id, date_day]

    Grouping by the columns themselves would hold every distinct key (~15 strings) in one hash table: on a workspace
    month of insights that alone took gigabytes. So the model is grouped by a 64-bit fingerprint of the key first
    (8 bytes per row), and only the keys whose fingerprint repeats are compared column by column (a collision of
    different keys is told apart there, so the test stays exact).
#}
{% test unique_combination(model, columns) %}

with

fingerprinted as (

    select
        {% for column in columns -%}
        {{ column }},
        {% endfor -%}
        {{ sentrum.row_fingerprint(columns) }} as sentrum_fingerprint
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

{% endtest %}
