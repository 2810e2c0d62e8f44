{%- set staging_columns = sentrum.get_meta_ad_creatives_columns() -%}

with

source as (

    select * from {{ source('meta', 'meta_ad_creatives') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_ad_creatives'), staging_columns) }}
    from source

),

latest_snapshot as (

    {{ sentrum.meta_latest_snapshot('renamed', 'creative_id', staging_columns) }}

)

select * from latest_snapshot
