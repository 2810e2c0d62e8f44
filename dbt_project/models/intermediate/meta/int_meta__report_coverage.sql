{#-
    Which complete batch owns each (workspace_id, account_id, report, date_day): greatest completed_at, ties to the
    greater batch_id (the rule staging applies). A date listed here is "visible" for that report even if the batch
    holds no row for it (an account without delivery). The reconciliation tests compare two reports only on dates
    visible in both.
-#}
with

winners as (

    {{ sentrum.meta_insight_batch_winners() | indent(4) }}

),

final as (

    select
        winners.workspace_id,
        winners.account_id,
        winners.report,
        winners.date_day,
        winners.batch_id,
        winners.batch_completed_at
    from winners

)

select * from final
