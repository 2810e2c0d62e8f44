"""`diagnostics.diagnostics_findings`: one row per finding per (workspace, night), replaced as a whole on re-run.

The table is also the narrator's cache: a stored provider narrative whose input hash matches a new finding's is reused
instead of sent again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from diagnostics.findings import Finding
from diagnostics.narrative import Narrative
from diagnostics.narrators import CachedNarrative, NarrationOutcome
from warehouse import Table

DIAGNOSTICS_SCHEMA = "diagnostics"

FINDINGS_TABLE = Table(
    "diagnostics_findings",
    (
        ("workspace_id", "string"),
        ("night", "date"),  # the nightly run's date (UTC); its windows end at night - 1 in each account's timezone
        ("finding_id", "string"),  # hash of workspace, type, entity, breakdown cell, period: stable across re-runs
        ("finding_type", "string"),
        ("severity", "string"),  # info | warning | high
        ("entity_level", "string"),  # account | campaign | adset | ad
        ("entity_id", "string"),
        ("entity_name", "string"),
        ("breakdown", "string"),  # JSON object of the breakdown cell, e.g. {"age": "55-64", "gender": "male"}
        ("account_id", "string"),
        ("campaign_id", "string"),  # parent of an ad set or ad
        ("adset_id", "string"),  # parent of an ad
        ("account_currency", "string"),  # currency of every money value in evidence
        ("period_start", "date"),  # the window judged
        ("period_end", "date"),
        ("previous_start", "date"),  # the window before it, when compared
        ("previous_end", "date"),
        ("trailing_start", "date"),  # the trailing baseline, when compared
        ("trailing_end", "date"),
        ("evidence", "string"),  # JSON list of {metric, current, previous?, trailing?}
        ("context", "string"),  # JSON object: facts used (thresholds, maturity days, breakdown dimension, ...)
        ("summary", "string"),
        ("likely_causes", "string"),  # JSON list of strings
        ("recommended_actions", "string"),  # JSON list of strings
        ("confidence", "string"),  # low | medium | high
        ("provider", "string"),  # offline | openai | offline-fallback
        ("fallback_reason", "string"),  # why the provider's narrative is not there (offline-fallback only)
        ("model", "string"),  # the model that wrote the narrative, or offline-template
        ("prompt_version", "string"),  # prompt (openai) or template (offline) version
        ("input_hash", "string"),  # hash of the narrator input + prompt version + model: the cache key
        ("llm_cached", "bool"),  # narrative reused from an earlier row: nothing sent this run
        ("llm_input_tokens", "int64"),  # tokens this run spent on this finding (0 when cached or offline)
        ("llm_output_tokens", "int64"),
        ("created_at", "timestamp"),
        ("chart_svg", "string"),  # a small self-contained SVG of the series behind the finding (diagnostics/charts.py)
    ),
    partition_by="night",
    schema=DIAGNOSTICS_SCHEMA,
)
KEY_COLUMNS = ("workspace_id", "night")
# How far back stored narratives are offered as a cache. Windows move every night, so older inputs never match.
CACHE_NIGHTS = 14


class StoreWarehouse(Protocol):
    def ensure_table(self, table: Table) -> None: ...

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]: ...

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> int: ...

    def replace_rows(self, table: Table, key_columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int: ...

    def table_ref(self, schema: str, table: str) -> str: ...


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def finding_row(
    finding: Finding, outcome: NarrationOutcome, night: date, created_at: datetime, chart_svg: str | None = None
) -> dict[str, Any]:
    n = outcome.narrative
    return {
        "workspace_id": finding.workspace_id,
        "night": night,
        "finding_id": finding.finding_id,
        "finding_type": finding.finding_type,
        "severity": finding.severity,
        "entity_level": finding.entity.level,
        "entity_id": finding.entity.id,
        "entity_name": finding.entity.name,
        "breakdown": _json(finding.entity.breakdown_dict) if finding.entity.breakdown is not None else None,
        "account_id": finding.account_id,
        "campaign_id": finding.campaign_id,
        "adset_id": finding.adset_id,
        "account_currency": finding.currency,
        "period_start": finding.period.start,
        "period_end": finding.period.end,
        "previous_start": finding.previous.start if finding.previous else None,
        "previous_end": finding.previous.end if finding.previous else None,
        "trailing_start": finding.trailing.start if finding.trailing else None,
        "trailing_end": finding.trailing.end if finding.trailing else None,
        "evidence": _json(finding.evidence_dicts()),
        "context": _json(dict(finding.context)),
        "summary": n.summary,
        "likely_causes": _json(n.likely_causes),
        "recommended_actions": _json(n.recommended_actions),
        "confidence": n.confidence,
        "provider": outcome.provider,
        "fallback_reason": outcome.fallback_reason,
        "model": outcome.model,
        "prompt_version": outcome.prompt_version,
        "input_hash": outcome.input_hash,
        "llm_cached": outcome.cached,
        "llm_input_tokens": outcome.input_tokens,
        "llm_output_tokens": outcome.output_tokens,
        "created_at": created_at,
        "chart_svg": chart_svg,
    }


def write_night(wh: StoreWarehouse, workspace_id: str, night: date, rows: Sequence[Mapping[str, Any]]) -> int:
    """Replace the (workspace, night)'s rows with `rows`: a re-run never duplicates, and a re-run that finds nothing
    clears what an earlier run of the night wrote."""
    if any(r["workspace_id"] != workspace_id or r["night"] != night for r in rows):
        raise ValueError("every row must belong to the (workspace, night) being replaced")
    if rows:
        return wh.replace_rows(FINDINGS_TABLE, KEY_COLUMNS, rows)
    # replace_rows derives the keys to delete from the rows, so an empty night needs its own delete.
    ref = wh.table_ref(FINDINGS_TABLE.schema, FINDINGS_TABLE.name)
    wh.execute(f"delete from {ref} where workspace_id = @ws and night = @night", {"ws": workspace_id, "night": night})
    return 0


def load_cache(
    wh: StoreWarehouse, workspace_id: str, night: date, provider: str = "openai"
) -> dict[str, CachedNarrative]:
    """Stored narratives of `provider` of the workspace's recent nights (this night's included, for a re-run), by input
    hash. Fallback and offline rows are never offered: their narrative is not the model's."""
    ref = wh.table_ref(FINDINGS_TABLE.schema, FINDINGS_TABLE.name)
    rows = wh.query(
        "select input_hash, summary, likely_causes, recommended_actions, confidence, model, prompt_version, created_at "
        f"from {ref} where workspace_id = @ws and provider = @provider and night between @since and @night",
        {"ws": workspace_id, "provider": provider, "since": night - timedelta(days=CACHE_NIGHTS), "night": night},
        labels={"sentrum_component": "diagnostics"},
    )
    out: dict[str, CachedNarrative] = {}
    for r in sorted(rows, key=lambda r: r["created_at"]):  # the newest row for a hash wins
        try:
            narrative = Narrative(
                summary=r["summary"],
                likely_causes=json.loads(r["likely_causes"]),
                recommended_actions=json.loads(r["recommended_actions"]),
                confidence=r["confidence"],
            )
        except (ValueError, TypeError):
            continue  # a row that no longer fits the schema is simply not a cache hit
        out[r["input_hash"]] = CachedNarrative(narrative, r["model"], r["prompt_version"])
    return out
