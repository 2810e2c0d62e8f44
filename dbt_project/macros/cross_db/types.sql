{#
    Column types by logical name, the same names as warehouse/schema.py:
    string, int64, float64, numeric, date, timestamp, bool.

        cast(spend as {{ sentrum.column_type('numeric') }})

    dbt's own helpers fall short here: `dbt.type_numeric()` is numeric(28, 6), `dbt.type_float()` is a 4-byte
    float on DuckDB and `dbt.type_timestamp()` is a zone-less timestamp there (casting the raw TIMESTAMPTZ to it
    would shift values by the session time zone). Raw money is DECIMAL(38, 9) on DuckDB and NUMERIC on BigQuery.
#}
{% macro column_type(logical_type) -%}
    {{ return(adapter.dispatch('column_type', 'sentrum')(logical_type)) }}
{%- endmacro %}

{# ANSI names (DuckDB accepts all of them) #}
{% macro default__column_type(logical_type) -%}
    {%- set types = {
        'string': dbt.type_string(),
        'int64': 'bigint',
        'float64': 'double precision',
        'numeric': 'decimal(38, 9)',
        'date': 'date',
        'timestamp': 'timestamp with time zone',
        'bool': 'boolean',
    } -%}
    {{ return(sentrum.lookup_column_type(types, logical_type)) }}
{%- endmacro %}

{% macro duckdb__column_type(logical_type) -%}
    {%- set types = {
        'string': 'varchar',
        'int64': 'bigint',
        'float64': 'double',
        'numeric': 'decimal(38, 9)',
        'date': 'date',
        'timestamp': 'timestamptz',
        'bool': 'boolean',
    } -%}
    {{ return(sentrum.lookup_column_type(types, logical_type)) }}
{%- endmacro %}

{% macro bigquery__column_type(logical_type) -%}
    {%- set types = {
        'string': 'string',
        'int64': 'int64',
        'float64': 'float64',
        'numeric': 'numeric',
        'date': 'date',
        'timestamp': 'timestamp',
        'bool': 'bool',
    } -%}
    {{ return(sentrum.lookup_column_type(types, logical_type)) }}
{%- endmacro %}

{% macro lookup_column_type(types, logical_type) -%}
    {%- if logical_type not in types -%}
        {{ exceptions.raise_compiler_error(
            "unknown logical column type '" ~ logical_type ~ "'; known: " ~ (types.keys() | sort | join(', '))
        ) }}
    {%- endif -%}
    {{ return(types[logical_type]) }}
{%- endmacro %}


{#
    A list of records (raw's nested action lists): `fields` is [(name, logical type)]. DuckDB `struct(...)[]`,
    BigQuery `array<struct<...>>` (a REPEATED RECORD).
#}
{% macro record_list_type(fields) -%}
    {{ return(adapter.dispatch('record_list_type', 'sentrum')(fields)) }}
{%- endmacro %}

{% macro default__record_list_type(fields) -%}
    {%- set parts = [] -%}
    {%- for name, logical_type in fields -%}
        {%- do parts.append(name ~ ' ' ~ sentrum.column_type(logical_type)) -%}
    {%- endfor -%}
    {{ return('struct(' ~ parts | join(', ') ~ ')[]') }}
{%- endmacro %}

{% macro bigquery__record_list_type(fields) -%}
    {%- set parts = [] -%}
    {%- for name, logical_type in fields -%}
        {%- do parts.append(name ~ ' ' ~ sentrum.column_type(logical_type)) -%}
    {%- endfor -%}
    {{ return('array<struct<' ~ parts | join(', ') ~ '>>') }}
{%- endmacro %}
