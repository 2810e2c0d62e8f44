"""AI diagnostics per workspace, after the marts. Thin: the work is in diagnostics/.

Partitioned by workspace like the extraction; the marts run carries the partition range of the workspaces it
concerns (all of them at night, one after `sentrum sync`), so dbt runs once and diagnostics once per workspace.
One narrator per run: its circuit breaker and its slot are shared by every workspace of the run, and up to
`SENTRUM_LLM_CONCURRENCY` workspaces are narrated at once.
"""

import base64
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg

from diagnostics import FINDINGS_TABLE, run_night
from orchestration.asset_keys import FINDINGS_KEY
from orchestration.partitions import workspaces_partitions
from orchestration.resources import LlmResource, RegistryResource, WarehouseResource
from orchestration.tags import NIGHT_TAG

UPSTREAM = [
    dg.AssetKey(["marts", name])
    for name in (
        "fct_ad_insights_daily",
        "fct_adset_insights_daily",
        "fct_campaign_insights_daily",
        "fct_ad_insights_daily_by_age_gender",
        "fct_ad_insights_daily_by_country",
        "fct_ad_insights_daily_by_placement",
        "fct_ad_insights_daily_by_device",
        "dim_ad_accounts",
        "dim_campaigns",
        "dim_adsets",
        "dim_ads",
        "dim_budget_history",
    )
]
# Charts shown inline in a materialization's metadata (the most severe first); the rest are in `sentrum report`.
METADATA_CHARTS = 3


def findings_markdown(rows: list[dict[str, Any]], charts: int = METADATA_CHARTS) -> str:
    """The night's findings as a markdown table, with the charts of the most severe inline (SVG data URIs)."""
    if not rows:
        return "No findings this night."
    lines = ["| severity | finding | entity | summary |", "|---|---|---|---|"]
    for r in rows:
        entity = f"{r['entity_level']} {r['entity_name'] or r['entity_id']}".replace("|", "/")
        summary = (r["summary"] or "").replace("|", "/").replace("\n", " ")
        lines.append(f"| {r['severity']} | {r['finding_type']} | {entity} | {summary} |")
    for r in [r for r in rows if r.get("chart_svg")][:charts]:
        data = base64.b64encode(r["chart_svg"].encode()).decode()
        lines += ["", f"![{r['finding_type']} {r['entity_id']}](data:image/svg+xml;base64,{data})"]
    return "\n".join(lines)


def _night_rows(wh: Any, workspace_id: str, night: date) -> list[dict[str, Any]]:
    ref = wh.table_ref(FINDINGS_TABLE.schema, FINDINGS_TABLE.name)
    return wh.query(
        "select severity, finding_type, entity_level, entity_id, entity_name, summary, chart_svg "
        f"from {ref} where workspace_id = @ws and night = @night "
        "order by case severity when 'high' then 0 when 'warning' then 1 else 2 end, finding_type, entity_id",
        {"ws": workspace_id, "night": night},
    )


@dg.asset(
    key=FINDINGS_KEY,
    deps=UPSTREAM,
    partitions_def=workspaces_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,  # materialized per workspace partition, by events
    kinds={"python", "openai", "anthropic"},
    description="Findings a media buyer would act on (deterministic detectors over the marts), each with a chart of "
    "its series, narrated offline or by OpenAI / Anthropic (structured output, aggregates only); one set per "
    "workspace and night, replaced on re-runs. `sentrum report --workspace W` renders a night as HTML.",
)
def diagnostics_findings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, registry: RegistryResource, llm: LlmResource
):
    tags = context.run.tags
    night = date.fromisoformat(tags[NIGHT_TAG]) if NIGHT_TAG in tags else datetime.now(UTC).date()
    active = {w.id for w in registry.get().list() if w.extractable}
    wanted = [ws for ws in context.partition_keys if ws in active]
    for ws in sorted(set(context.partition_keys) - active):
        context.log.info(f"{ws}: not active, no diagnostics")
    failed: dict[str, str] = {}
    with warehouse.open() as wh:

        def on_result(ws: str, result: Any) -> None:
            # one workspace's trouble never stops the others' diagnostics
            if isinstance(result, Exception):
                failed[ws] = f"{type(result).__name__}: {result}"
                context.log.error(f"{ws}: diagnostics failed: {failed[ws]}")
                return
            metadata = {"night": str(night), **result.as_metadata()}
            metadata["findings_table"] = dg.MetadataValue.md(findings_markdown(_night_rows(wh, ws, night)))
            metadata["report"] = f"sentrum report --workspace {ws} --night {night}"
            context.log_event(dg.AssetMaterialization(asset_key=FINDINGS_KEY, partition=ws, metadata=metadata))

        run_night(wh, wanted, night, llm.narrator(), concurrency=llm.concurrency, on_result=on_result)
    if failed:
        raise dg.Failure(f"diagnostics failed for {sorted(failed)}", metadata={"errors": failed}, allow_retries=False)
    yield from ()


defs = dg.Definitions(assets=[diagnostics_findings])
