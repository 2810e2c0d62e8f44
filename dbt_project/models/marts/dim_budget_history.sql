{{ config(cluster_by=sentrum.bigquery_cluster_by(['workspace_id'])) }}

{#-
    The budgets of campaigns and ad sets over time: one row per (workspace_id, object, budget version), from the
    nightly entity snapshots. A version starts with the first snapshot that showed it (valid_from) and ends with the
    first snapshot that showed the next one (valid_to; null while in force). A change is known to the night of the
    snapshot, not to the minute: it happened between the previous snapshot and valid_from.
-#}

with

snapshots as (

    select * from {{ ref('int_meta__budget_snapshots') }}

),

compared as (

    select
        workspace_id,
        account_id,
        object_level,
        object_id,
        daily_budget,
        lifetime_budget,
        snapshot_at,
        lag(daily_budget) over (
            partition by workspace_id, object_level, object_id order by snapshot_at
        ) as previous_daily_budget,
        lag(lifetime_budget) over (
            partition by workspace_id, object_level, object_id order by snapshot_at
        ) as previous_lifetime_budget,
        row_number() over (
            partition by workspace_id, object_level, object_id order by snapshot_at
        ) as snapshot_number
    from snapshots

),

versions as (

    select
        workspace_id,
        account_id,
        object_level,
        object_id,
        daily_budget,
        lifetime_budget,
        snapshot_at as valid_from
    from compared
    where
        snapshot_number = 1
        or daily_budget is distinct from previous_daily_budget
        or lifetime_budget is distinct from previous_lifetime_budget

),

final as (

    select
        workspace_id,
        account_id,
        object_level,
        object_id,
        daily_budget,
        lifetime_budget,
        valid_from,
        lead(valid_from) over (
            partition by workspace_id, object_level, object_id order by valid_from
        ) as valid_to
    from versions

)

select * from final
