{#- The batch manifest: one row per complete batch. Visibility of every other raw table is decided from it. -#}
with

source as (

    select * from {{ source('meta', 'meta_batches') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_batches'), sentrum.get_meta_batches_columns()) }}
    from source

)

select * from renamed
