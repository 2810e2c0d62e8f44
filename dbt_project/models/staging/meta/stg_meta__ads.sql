{%- set staging_columns = sentrum.get_meta_ads_columns() -%}

with

source as (

    select * from {{ source('meta', 'meta_ads') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_ads'), staging_columns) }}
    from source

),

latest_snapshot as (

    {{ sentrum.meta_latest_snapshot('renamed', 'ad_id', staging_columns) }}

)

select * from latest_snapshot
