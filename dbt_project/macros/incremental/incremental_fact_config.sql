{#
    The config of every incremental fact: `{{ config(**sentrum.incremental_fact_config('account_id')) }}`.
    `cluster_key` is the second BigQuery clustering column (workspace_id is always the first).

    Only parse-safe values live here (see fact_window_filter): the window itself is applied by the model's SQL and,
    on DuckDB, by the strategy's delete, both rendered at execution time.
#}
{% macro incremental_fact_config(cluster_key) -%}
    {{ return(adapter.dispatch('incremental_fact_config', 'sentrum')(cluster_key)) }}
{%- endmacro %}

{#
    DuckDB (and the default): the custom strategy `sentrum_replace_window` below: delete the window's dates, insert
    the new rows. A date restated to nothing loses its old rows (dbt's delete+insert would only delete the keys
    present in the new rows).
#}
{% macro default__incremental_fact_config(cluster_key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'sentrum_replace_window',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#
    BigQuery: partitioned by date_day, clustered by workspace_id + cluster_key; static insert_overwrite of the window's
    partitions (one MERGE: the listed partitions are emptied and refilled, so a day restated to nothing is emptied).
#}
{% macro bigquery__incremental_fact_config(cluster_key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': {'field': 'date_day', 'data_type': 'date', 'granularity': 'day'},
        'partitions': sentrum.fact_window_partitions(),
        'cluster_by': sentrum.bigquery_cluster_by(['workspace_id', cluster_key]),
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}


{#
    The incremental strategy `sentrum_replace_window` (DuckDB and the default): one transaction that deletes every row
    of the window from the target and inserts the model's rows (which the model's SQL restricted to the same window).
#}
{% macro get_incremental_sentrum_replace_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ sentrum.fact_window_filter('date_day') }};

    insert into {{ target }} ({{ columns_csv }})
    select {{ columns_csv }}
    from {{ source }}
    where {{ sentrum.fact_window_filter('date_day') }}
{%- endmacro %}


{#
    Clustering columns on BigQuery (none elsewhere). Var `sentrum_bq_clustering: false` turns clustering off (a
    stand-in that cannot cluster); the BigQuery emulator accepts the clustered DDL (it drops the clustering of a
    CREATE TABLE AS SELECT, which changes nothing else), so the tests build exactly what production builds.
#}
{% macro bigquery_cluster_by(columns) -%}
    {{ return(adapter.dispatch('bigquery_cluster_by', 'sentrum')(columns)) }}
{%- endmacro %}

{% macro default__bigquery_cluster_by(columns) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro bigquery__bigquery_cluster_by(columns) -%}
    {{ return(columns if (var('sentrum_bq_clustering', true) | string | lower) in ('true', '1', 'yes') else none) }}
{%- endmacro %}
