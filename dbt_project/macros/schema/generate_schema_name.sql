{#
    Custom schemas are used as they are, never prefixed with the target schema (dbt's default would give
    `main_marts`). DuckDB: `staging`, `intermediate`, `marts`. BigQuery: `<prefix>staging`, `<prefix>marts`, ...
    with the prefix from SENTRUM_BQ_DATASET_PREFIX (default `sentrum_`), so several deployments share a project.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ return(adapter.dispatch('schema_for_layer', 'sentrum')(custom_schema_name)) }}
{%- endmacro %}


{% macro schema_for_layer(layer) -%}
    {{ return(adapter.dispatch('schema_for_layer', 'sentrum')(layer)) }}
{%- endmacro %}

{% macro default__schema_for_layer(layer) -%}
    {%- if layer is none -%}
        {{ return(target.schema) }}
    {%- endif -%}
    {{ return(layer | trim) }}
{%- endmacro %}

{% macro bigquery__schema_for_layer(layer) -%}
    {%- if layer is none -%}
        {{ return(target.schema) }}
    {%- endif -%}
    {{ return(sentrum.bigquery_dataset_prefix() ~ (layer | trim)) }}
{%- endmacro %}


{% macro bigquery_dataset_prefix() -%}
    {{ return(env_var('SENTRUM_BQ_DATASET_PREFIX', 'sentrum_')) }}
{%- endmacro %}
