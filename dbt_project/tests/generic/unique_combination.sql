{#
    The combination of `columns` is unique in the model (the grain test; a small stand-in for
    dbt_utils.unique_combination_of_columns, since no packages are installed at run time).

        data_tests:
          - unique_combination:
              arguments:
                columns: [workspace_id, ad_id, date_day]
#}
{% test unique_combination(model, columns) %}

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

{% endtest %}
