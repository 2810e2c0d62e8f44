{#-
    Slices Meta would not serve even after splitting (one row per failed slice), from complete batches only: the
    explanation of a gap in the marts. A later complete batch of the same report that covers the dates supersedes
    the gap (int_meta__report_coverage tells which batch owns each date).
-#}
{%- set staging_columns = sentrum.get_meta_extraction_errors_columns() -%}

with

source as (

    select * from {{ source('meta', 'meta_extraction_errors') }}

),

renamed as (

    select
        {{ sentrum.fill_staging_columns(source('meta', 'meta_extraction_errors'), staging_columns) }}
    from source

),

batches as (

    select * from {{ ref('stg_meta__batches') }}

),

visible as (

    select
        {{ sentrum.staging_column_names(staging_columns, 'renamed') }},
        batches.completed_at as batch_completed_at
    from renamed
    inner join batches
        on
            renamed.batch_id = batches.batch_id
            and renamed.workspace_id = batches.workspace_id

)

select * from visible
