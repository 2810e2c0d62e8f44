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

from diagnostics import FINDINGS_TABLE, build_narrator, run_night
from orchestration.partitions import workspaces_partitions
from orchestration.resources import RegistryResource, WarehouseResource
from orchestration.settings import Settings

FINDINGS_KEY = dg.AssetKey(["diagnostics", "diagnostics_findings"])
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


class LlmResource(dg.ConfigurableResource):
    """The narrator's provider (SENTRUM_LLM): `offline` by default, `openai` or `anthropic` with structured output."""

    kind: str = "offline"
    model: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    redact_names: bool = False
    budget_tokens: int = 50_000
    concurrency: int = 4
    slot_seconds: float = 1800.0

    def narrator(self):
        """A new narrator (one per run: its breaker and slot start now)."""
        return build_narrator(
            self.kind if self.kind in ("openai", "anthropic") else "offline",  # type: ignore[arg-type]
            api_key=self.api_key,
            base_url=self.base_url,
            model=self.model,
            budget_tokens=self.budget_tokens,
            redact_names=self.redact_names,
            deadline_s=self.slot_seconds,
        )


def llm_resource(settings: Settings) -> LlmResource:
    anthropic = settings.llm == "anthropic"
    key = settings.anthropic_api_key if anthropic else settings.openai_api_key
    return LlmResource(
        kind=settings.llm,
        model=settings.anthropic_model if anthropic else settings.openai_model,
        api_key=key.get_secret_value() if key else None,
        base_url=settings.anthropic_base_url if anthropic else settings.openai_base_url,
        redact_names=settings.llm_redact_names,
        budget_tokens=settings.llm_budget_tokens,
        concurrency=settings.llm_concurrency,
        slot_seconds=settings.llm_slot_seconds,
    )


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
    group_name="diagnostics",
    kinds={"python", "openai", "anthropic"},
    description="Findings a media buyer would act on (deterministic detectors over the marts), each with a chart of "
    "its series, narrated offline or by OpenAI / Anthropic (structured output, aggregates only); one set per "
    "workspace and night, replaced on re-runs. `sentrum report --workspace W` renders a night as HTML.",
)
def diagnostics_findings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, registry: RegistryResource, llm: LlmResource
):
    night = date.fromisoformat(context.run.tags["night"]) if "night" in context.run.tags else datetime.now(UTC).date()
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
