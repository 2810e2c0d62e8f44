{%- set staging_columns = sentrum.get_meta_insights_actions_columns() -%}

with

source as (

    select * from {{ source('meta', 'meta_insights_actions') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_insights_actions'), staging_columns) }}
    from source

),

visible as (

    {{ sentrum.meta_visible_insight_rows('renamed', staging_columns) }}

)

select * from visible
