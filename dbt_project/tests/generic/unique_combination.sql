{#
    The combination of `columns` is unique in the model (the grain test; a small stand-in for
    dbt_utils.unique_combination_of_columns, since no packages are installed at run time).

        data_tests:
          - unique_combination:
              arguments:
                columns: [workspace_id, ad_id, date_day]
#}
{% test unique_combination(model, columns) %}
    {{ adapter.dispatch('unique_combination_sql', 'sentrum')(model, columns) }}
{% endtest %}

