{#
    None of `columns` is null in the model: the key columns of a model in one query (one test node instead of one per
    column: dbt spends ~40 ms of its own per test, and the nightly runs every test).

        data_tests:
          - not_null_columns:
              arguments:
                columns: [workspace_id, ad_id, date_day]
#}
{% test not_null_columns(model, columns) %}

select
    {% for column in columns -%}
    {{ column }}{% if not loop.last %},{% endif %}
    {% endfor -%}
from {{ model }}
where
    {% for column in columns -%}
    {% if not loop.first %}or {% endif %}{{ column }} is null
    {% endfor %}

{% endtest %}
