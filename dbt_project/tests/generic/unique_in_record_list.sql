{#
    No row's list of records (`column_name`) holds two records with the same `key`: e.g. an insights row lists each
    action type once. Checked per row, without a join or an aggregation over the model.

        columns:
          - name: actions
            data_tests:
              - unique_in_record_list:
                  arguments:
                    key: action_type
#}
{% test unique_in_record_list(model, column_name, key) %}

select *
from {{ model }}
where {{ sentrum.record_list_has_duplicate_keys(column_name, key) }}

{% endtest %}
