{%- set staging_columns = sentrum.get_meta_adsets_columns() -%}

with

source as (

    select * from {{ source('meta', 'meta_adsets') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_adsets'), staging_columns) }}
    from source

),

latest_snapshot as (

    {{ sentrum.meta_latest_snapshot('renamed', 'adset_id', staging_columns) }}

)

select * from latest_snapshot
