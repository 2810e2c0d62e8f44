"""AI diagnostics per workspace, after the marts. Thin: the work is in diagnostics/.

Partitioned by workspace like the extraction; the marts run carries the partition range of the workspaces it
concerns (all of them at night, one after `sentrum sync`), so dbt runs once and diagnostics once per workspace.
"""

from datetime import UTC, date, datetime

import dagster as dg

from diagnostics import build_narrator, run_diagnostics
from orchestration.partitions import workspaces_partitions
from orchestration.resources import RegistryResource, WarehouseResource

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
    )
]


class LlmResource(dg.ConfigurableResource):
    """The narrator's provider (SENTRUM_LLM): `offline` by default, `openai` with structured output."""

    kind: str = "offline"
    model: str = "gpt-4.1-mini"
    api_key: str | None = None
    base_url: str | None = None
    redact_names: bool = False
    budget_tokens: int = 50_000

    def narrator(self):
        return build_narrator(
            "openai" if self.kind == "openai" else "offline",
            api_key=self.api_key,
            base_url=self.base_url,
            model=self.model,
            budget_tokens=self.budget_tokens,
            redact_names=self.redact_names,
        )


@dg.asset(
    key=FINDINGS_KEY,
    deps=UPSTREAM,
    partitions_def=workspaces_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,  # materialized per workspace partition, by events
    group_name="diagnostics",
    kinds={"python", "openai"},
    description="Findings a media buyer would act on (deterministic detectors over the marts), narrated offline or "
    "by OpenAI (structured output, store=false); one set per workspace and night, replaced on re-runs.",
)
def diagnostics_findings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, registry: RegistryResource, llm: LlmResource
):
    night = date.fromisoformat(context.run.tags["night"]) if "night" in context.run.tags else datetime.now(UTC).date()
    active = {w.id for w in registry.get().list() if w.extractable}
    narrator = llm.narrator()
    failed: dict[str, str] = {}
    with warehouse.open() as wh:
        for ws in context.partition_keys:
            if ws not in active:
                context.log.info(f"{ws}: not active, no diagnostics")
                continue
            try:
                result = run_diagnostics(wh, ws, night, narrator)
            except Exception as exc:  # one workspace's trouble never stops the others' diagnostics
                failed[ws] = f"{type(exc).__name__}: {exc}"
                context.log.error(f"{ws}: diagnostics failed: {failed[ws]}")
                continue
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=FINDINGS_KEY, partition=ws, metadata={"night": str(night), **result.as_metadata()}
                )
            )
    if failed:
        raise dg.Failure(f"diagnostics failed for {sorted(failed)}", metadata={"errors": failed}, allow_retries=False)
    yield from ()


defs = dg.Definitions(assets=[diagnostics_findings])
