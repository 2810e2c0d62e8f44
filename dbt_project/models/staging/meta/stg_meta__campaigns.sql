{%- set staging_columns = sentrum.get_meta_campaigns_columns() -%}

with

source as (

    select * from {{ source('meta', 'meta_campaigns') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_campaigns'), staging_columns) }}
    from source

),

latest_snapshot as (

    {{ sentrum.meta_latest_snapshot('renamed', 'campaign_id', staging_columns) }}

)

select * from latest_snapshot
