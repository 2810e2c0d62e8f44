{#
    The visibility rules of raw (architecture.md, design rule 1), shared by the staging models.

    Raw is append-only; `meta_batches` is the manifest, one row per COMPLETE batch. A raw row whose batch has no
    manifest row (a crashed or still-running batch) never appears. The macros read the manifest through
    `stg_meta__batches`, so the typing of the manifest lives in one place.
#}


{#
    Insights: for each (workspace_id, account_id, report, date_day) covered by a complete batch's
    [date_start, date_end], the winning batch: greatest completed_at, ties broken by the greater batch_id.

    Rows are then taken from that batch only, for that date. A re-pull therefore replaces the older numbers
    instead of adding to them, and an object absent from the newest batch for a date (restated to nothing) does not
    fall back to an older batch's row: the date belongs to the newest batch as a whole.
#}
{% macro meta_insight_batch_winners() -%}
select
    ranked.workspace_id,
    ranked.account_id,
    ranked.report,
    ranked.covered_date as date_day,
    ranked.batch_id,
    ranked.completed_at as batch_completed_at
from (
    select
        batches.workspace_id,
        batches.account_id,
        batches.report,
        batches.batch_id,
        batches.completed_at,
        covered_date,
        row_number() over (
            partition by batches.workspace_id, batches.account_id, batches.report, covered_date
            order by batches.completed_at desc, batches.batch_id desc
        ) as batch_rank
    from {{ ref('stg_meta__batches') }} as batches
    cross join {{ sentrum.date_range_rows('batches.date_start', 'batches.date_end', 'covered_date') }}
    where
        batches.date_start is not null
        and batches.date_end is not null
) as ranked
where ranked.batch_rank = 1
{%- endmacro %}


{#
    The rows of `typed_relation` (a CTE of typed raw insights rows) that belong to their date's winning batch.
#}
{% macro meta_visible_insight_rows(typed_relation, staging_columns) -%}
    select
        {{ sentrum.staging_column_names(staging_columns, typed_relation) }}
    from {{ typed_relation }}
    inner join (
        {{ sentrum.meta_insight_batch_winners() | indent(8) }}
    ) as winning_batches
        on
            {{ typed_relation }}.batch_id = winning_batches.batch_id
            and {{ typed_relation }}.date_day = winning_batches.date_day
            and {{ typed_relation }}.workspace_id = winning_batches.workspace_id
            and {{ typed_relation }}.account_id = winning_batches.account_id
            and {{ typed_relation }}.report = winning_batches.report
{%- endmacro %}


{#
    Entity snapshots: one row per object (workspace_id, object_key), the one from the complete batch with the
    greatest completed_at (ties: the greater batch_id, then the later extracted_at). An object missing from later
    snapshots keeps its last known state, so archived and deleted objects stay in the dimensions.
    Adds `batch_completed_at` (when the winning snapshot became visible).
#}
{% macro meta_latest_snapshot(typed_relation, object_key, staging_columns) -%}
    select
        {{ sentrum.staging_column_names(staging_columns, 'ranked') }},
        ranked.batch_completed_at
    from (
        select
            {{ sentrum.staging_column_names(staging_columns, typed_relation, indent=12) }},
            batches.completed_at as batch_completed_at,
            row_number() over (
                partition by {{ typed_relation }}.workspace_id, {{ typed_relation }}.{{ object_key }}
                order by
                    batches.completed_at desc,
                    {{ typed_relation }}.batch_id desc,
                    {{ typed_relation }}.extracted_at desc nulls last
            ) as snapshot_rank
        from {{ typed_relation }}
        inner join {{ ref('stg_meta__batches') }} as batches
            on
                {{ typed_relation }}.batch_id = batches.batch_id
                and {{ typed_relation }}.workspace_id = batches.workspace_id
        where {{ typed_relation }}.{{ object_key }} is not null
    ) as ranked
    where ranked.snapshot_rank = 1
{%- endmacro %}
