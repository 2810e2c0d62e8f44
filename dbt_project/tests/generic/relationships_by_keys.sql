{#
    Every row of the model whose `columns` are all non-null finds a row in `to` with the same values in the same
    columns. A multi-column relationships test: keys are scoped by workspace_id (the same account or ad may be
    connected to two workspaces, and a row must find its parent in its own workspace).

        data_tests:
          - relationships_by_keys:
              arguments:
                to: ref('dim_ads')
                columns: [workspace_id, ad_id]
#}
{% test relationships_by_keys(model, to, columns) %}

select
    {% for column in columns -%}
    child.{{ column }}{% if not loop.last %},{% endif %}
    {% endfor %}
from (select * from {{ model }}) as child
left join (select * from {{ to }}) as parent
    on
    {% for column in columns -%}
        child.{{ column }} = parent.{{ column }}{% if not loop.last %} and{% endif %}
    {% endfor %}
where
    {% for column in columns -%}
    child.{{ column }} is not null and
    {% endfor -%}
    parent.{{ columns[0] }} is null

{% endtest %}
