{#
    Tests of date-windowed models check only the rebuilt window when the run was given one.

    A nightly `dbt build` given a window (sentrum_window_start / _end: macros/vars/run_var.sql) rebuilds the facts for
    those dates only; rows outside were tested when they were built, and testing every row of every night would make the
    nightly cost grow with history (targets.md: at most 1.2x for 10x the history). So, when the window is explicit and
    the run is not a full refresh, every test of a model whose meta names `sentrum_window_column` reads only the
    window's rows. Without explicit window vars (an ad-hoc `dbt build`, the CI suite) and with --full-refresh, tests
    read everything.

    Generic tests get the filter through dbt's `get_where_subquery` (overridden below, keeping the `where` config);
    singular tests and the other side of two-model tests call `test_window_filter` themselves.
#}

{# The filter for `model_name`'s rows in the current test scope, or '' when the whole model is to be tested. #}
{% macro test_window_filter(model_name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return('') }}
    {%- endif -%}
    {%- set window = sentrum.fact_window() -%}
    {%- if not window.explicit -%}
        {{ return('') }}
    {%- endif -%}
    {%- set column = sentrum.window_column_of(model_name) -%}
    {%- if not column -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(sentrum.fact_window_filter(column)) }}
{%- endmacro %}


{# The `sentrum_window_column` meta of the project's model named `model_name` (none if it has none). #}
{% macro window_column_of(model_name) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and (node.alias == model_name or node.name == model_name) -%}
            {{ return(node.config.meta.get('sentrum_window_column')) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}


{# dbt's get_where_subquery (the `where` test config), plus the test window of windowed models. #}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set identifier = relation.identifier if relation.identifier is defined else none -%}
    {%- if identifier -%}
        {%- set window_filter = sentrum.test_window_filter(identifier) -%}
        {%- if window_filter -%}
            {%- do filters.append('(' ~ window_filter ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
