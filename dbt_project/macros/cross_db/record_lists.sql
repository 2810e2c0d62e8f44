{#
    Reading the nested action lists (a list of records per insights row) the same way on both backends.
#}


{#
    A table expression with one row per element of a CONSTANT array (`['value', '1d_click']`), in a column named
    `column_name`. Use it after a `cross join`; refer to the column unqualified (BigQuery's UNNEST alias cannot be
    qualified). For a list column of a table, use `select_unnested`.
#}
{% macro unnest_rows(array_expr, column_name) -%}
    {{ return(adapter.dispatch('unnest_rows', 'sentrum')(array_expr, column_name)) }}
{%- endmacro %}

{# DuckDB (and Postgres): the alias names a one-column table. #}
{% macro default__unnest_rows(array_expr, column_name) -%}
    unnest({{ array_expr }}) as {{ column_name }}_rows({{ column_name }})
{%- endmacro %}

{% macro bigquery__unnest_rows(array_expr, column_name) -%}
    unnest({{ array_expr }}) as {{ column_name }}
{%- endmacro %}


{#
    `select <columns>, <element> from <from_clause>` with one row per element of the list `list_expr` (a column of
    <from_clause>) in a column named `element` (a record's fields are then `element.field`). An empty or null list
    gives no row.

        {{ sentrum.select_unnested(['insights.workspace_id', 'insights.ad_id'], 'insights.actions', 'action', 'insights') }}
#}
{% macro select_unnested(columns, list_expr, element, from_clause) -%}
    {{ return(adapter.dispatch('select_unnested', 'sentrum')(columns, list_expr, element, from_clause)) }}
{%- endmacro %}

{% macro default__select_unnested(columns, list_expr, element, from_clause) -%}
    select
        {{ columns | join(',\n        ') }},
        {{ element }}
    from {{ from_clause }}
    cross join {{ sentrum.unnest_rows(list_expr, element) }}
{%- endmacro %}

{#
    DuckDB: unnest() in the select list streams the rows out; a `cross join unnest(t.list)` is a correlated join
    there, planned with a deduplication of every list (measured: 97 s instead of ~2 s for 1.8 M insights rows).
#}
{% macro duckdb__select_unnested(columns, list_expr, element, from_clause) -%}
    select
        {{ columns | join(',\n        ') }},
        unnest({{ list_expr }}) as {{ element }}
    from {{ from_clause }}
{%- endmacro %}


{#
    The sum of `field` over the records of `list_expr` whose `key` is one of `values` (a list of strings checked by
    the caller): null when none matches. Per row, without a join: the list is the row's own.
#}
{% macro sum_record_field(list_expr, field, key, values) -%}
    {{ return(adapter.dispatch('sum_record_field', 'sentrum')(list_expr, field, key, values)) }}
{%- endmacro %}

{% macro default__sum_record_field(list_expr, field, key, values) -%}
    (
        select sum(record.{{ field }})
        from {{ sentrum.unnest_rows(list_expr, 'record') }}
        where {{ sentrum.record_key_in('record.' ~ key, values) }}
    )
{%- endmacro %}

{# DuckDB: list functions (a correlated subquery over a list would be planned as a join). #}
{% macro duckdb__sum_record_field(list_expr, field, key, values) -%}
    list_sum(list_transform(
        list_filter({{ list_expr }}, lambda record: {{ sentrum.record_key_in('record.' ~ key, values) }}),
        lambda record: record.{{ field }}
    ))
{%- endmacro %}

{% macro record_key_in(expr, values) -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ expr }} in (
            {%- for value in values -%}
            {{ sentrum.string_literal(value) }}{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}


{#
    True when two records of `list_expr` share the same `key` (the test `unique_in_record_list`).
#}
{% macro record_list_has_duplicate_keys(list_expr, key) -%}
    {{ return(adapter.dispatch('record_list_has_duplicate_keys', 'sentrum')(list_expr, key)) }}
{%- endmacro %}

{% macro default__record_list_has_duplicate_keys(list_expr, key) -%}
    (select count(distinct record.{{ key }}) from {{ sentrum.unnest_rows(list_expr, 'record') }})
    < (select count(*) from {{ sentrum.unnest_rows(list_expr, 'record') }})
{%- endmacro %}

{% macro duckdb__record_list_has_duplicate_keys(list_expr, key) -%}
    len(list_distinct(list_transform({{ list_expr }}, lambda record: record.{{ key }}))) < len({{ list_expr }})
{%- endmacro %}


{#
    A literal list of records of the type `record_list_type(fields)`, for unit-test fixtures (`format: sql`):
    `records` is a list of dicts; fields missing from a dict are typed nulls. None or [] give a typed null.
#}
{% macro record_list_literal(fields, records) -%}
    {%- if not records -%}
        {{ return('cast(null as ' ~ sentrum.record_list_type(fields) ~ ')') }}
    {%- endif -%}
    {{ return(adapter.dispatch('record_list_literal', 'sentrum')(fields, records)) }}
{%- endmacro %}

{% macro record_field_literal(value, logical_type) -%}
    {%- if value is none -%}
        {{ return('cast(null as ' ~ sentrum.column_type(logical_type) ~ ')') }}
    {%- elif value is string -%}
        {{ return('cast(' ~ sentrum.string_literal(value) ~ ' as ' ~ sentrum.column_type(logical_type) ~ ')') }}
    {%- endif -%}
    {{ return('cast(' ~ value ~ ' as ' ~ sentrum.column_type(logical_type) ~ ')') }}
{%- endmacro %}

{% macro default__record_list_literal(fields, records) -%}
    {%- set items = [] -%}
    {%- for record in records -%}
        {%- set parts = [] -%}
        {%- for name, logical_type in fields -%}
            {%- do parts.append(name ~ ' := ' ~ sentrum.record_field_literal(record.get(name), logical_type)) -%}
        {%- endfor -%}
        {%- do items.append('struct_pack(' ~ parts | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ return('[' ~ items | join(', ') ~ ']') }}
{%- endmacro %}

{% macro bigquery__record_list_literal(fields, records) -%}
    {%- set items = [] -%}
    {%- for record in records -%}
        {%- set parts = [] -%}
        {%- for name, logical_type in fields -%}
            {%- do parts.append(sentrum.record_field_literal(record.get(name), logical_type) ~ ' as ' ~ name) -%}
        {%- endfor -%}
        {%- do items.append('struct(' ~ parts | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ return('[' ~ items | join(', ') ~ ']') }}
{%- endmacro %}


{#
    Rows of stg_meta__insights for a unit-test fixture (`format: sql`): every column typed, missing ones null, the
    nested `actions` written with record_list_literal (a list of dicts). `rows`: a list of dicts.
#}
{% macro insights_fixture_rows(rows) -%}
    {%- set columns = sentrum.get_meta_insights_columns() -%}
    {%- set selects = [] -%}
    {%- for row in rows -%}
        {%- set parts = [] -%}
        {%- for column in columns -%}
            {%- set value = row.get(column.name) -%}
            {%- if column.name == 'actions' -%}
                {%- do parts.append(
                    sentrum.record_list_literal(sentrum.meta_action_record_fields(), value) ~ ' as actions'
                ) -%}
            {%- elif value is none -%}
                {%- do parts.append('cast(null as ' ~ column.datatype ~ ') as ' ~ column.name) -%}
            {%- elif value is string -%}
                {%- do parts.append('cast(' ~ sentrum.string_literal(value) ~ ' as ' ~ column.datatype ~ ') as ' ~ column.name) -%}
            {%- else -%}
                {%- do parts.append('cast(' ~ value ~ ' as ' ~ column.datatype ~ ') as ' ~ column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do selects.append('select ' ~ parts | join(', ')) -%}
    {%- endfor -%}
    {{ return(selects | join('\nunion all\n')) }}
{%- endmacro %}
