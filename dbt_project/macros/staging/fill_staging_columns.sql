{#
    Typed staging, in the manner of Fivetran's dbt_facebook_ads: each raw table has ONE macro listing the columns
    staging expects (name, type, optional alias; macros/staging/get_meta_columns.sql). A column present in the raw
    table is cast to its type; a column missing from it (an API field not fetched, a raw table created by an older
    writer) becomes a typed null here, in one place, instead of a compile error in every model downstream.

    relation: the raw relation (a `source(...)`), introspected at run time only.
    staging_columns: a list of {"name": ..., "datatype": ..., "alias": ...} from a get_meta_*_columns() macro.
#}
{% macro fill_staging_columns(relation, staging_columns, indent=8) -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set expressions = [] -%}
    {%- for column in staging_columns -%}
        {%- set value = column.name if column.name | lower in present else 'null' -%}
        {%- do expressions.append(
            'cast(' ~ value ~ ' as ' ~ column.datatype ~ ') as ' ~ (column.alias | default(column.name))
        ) -%}
    {%- endfor -%}
    {{ expressions | join(',\n' ~ ' ' * indent) }}
{%- endmacro %}


{#
    The output names of a get_meta_*_columns() list, comma-separated, optionally qualified (explicit select lists;
    `select * except (...)` is spelled `exclude` on DuckDB, so it is avoided).
#}
{% macro staging_column_names(staging_columns, relation_alias=none, indent=8) -%}
    {%- set names = [] -%}
    {%- for column in staging_columns -%}
        {%- do names.append(
            (relation_alias ~ '.' if relation_alias else '') ~ (column.alias | default(column.name))
        ) -%}
    {%- endfor -%}
    {{ names | join(',\n' ~ ' ' * indent) }}
{%- endmacro %}
