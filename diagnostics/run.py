"""`run_diagnostics`: one workspace, one night: read the marts, detect, narrate, store. The Dagster asset calls this."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from diagnostics.config import DiagnosticsConfig
from diagnostics.detectors import run_detectors
from diagnostics.findings import Finding
from diagnostics.marts import FCT_AD, MartReader
from diagnostics.narrators import NarrationOutcome, Narrator
from diagnostics.offline import OfflineNarrator
from diagnostics.store import FINDINGS_TABLE, finding_row, load_cache, write_night
from warehouse.base import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiagnosticsResult:
    workspace_id: str
    night: date
    findings: int
    by_severity: dict[str, int]
    by_type: dict[str, int]
    providers: dict[str, int]  # offline | openai | offline-fallback -> findings
    llm_requests: int  # requests that left the process
    cached: int  # narratives reused from stored rows (nothing sent)
    tokens_used: int  # input + output tokens spent this run
    fallbacks: int
    fallback_reasons: dict[str, int]  # reason code (text before ':') -> findings
    skipped: dict[str, str] = field(default_factory=dict)  # mart or account -> why it was not read
    rows_written: int = 0

    def as_metadata(self) -> dict[str, Any]:
        """Flat values for a Dagster materialization's metadata."""
        return {
            "findings": self.findings,
            **{f"severity_{k}": self.by_severity.get(k, 0) for k in ("high", "warning", "info")},
            "providers": dict(self.providers),
            "llm_requests": self.llm_requests,
            "llm_cached": self.cached,
            "llm_tokens": self.tokens_used,
            "fallbacks": self.fallbacks,
            "fallback_reasons": dict(self.fallback_reasons),
            "skipped": dict(self.skipped),
        }


def detect(
    warehouse: Warehouse, workspace_id: str, night: date, config: DiagnosticsConfig | None = None
) -> tuple[list[Finding], dict[str, str]]:
    """The night's findings for one workspace (no narration, no writes) and what could not be read."""
    config = config or DiagnosticsConfig()
    data = MartReader(warehouse, workspace_id, config).read(night)
    findings, left_out = run_detectors(data, config)
    skipped = dict(data.skipped)
    if left_out:
        log.warning("diagnostics %s %s: %d findings over max_findings left out", workspace_id, night, left_out)
        skipped["findings"] = f"{left_out} less severe findings over max_findings={config.max_findings} left out"
    return findings, skipped


def run_diagnostics(
    warehouse: Warehouse,
    workspace_id: str,
    night: date,
    narrator: Narrator | None = None,
    config: DiagnosticsConfig | None = None,
    *,
    now: datetime | None = None,
) -> DiagnosticsResult:
    """Detect, narrate and store one workspace's findings for `night` (the run date; windows end at night - 1 in each
    account's timezone). Re-running a night replaces its rows. Raises only for warehouse or detector errors (the
    stored rows of the night are then left as they were); the narrator's provider can never make it fail.

    Of `warehouse` it uses query, execute, table_ref, tables_with_column, ensure_table and replace_rows.
    `narrator`: from `build_narrator`; offline when None."""
    config = config or DiagnosticsConfig()
    narrator = narrator or OfflineNarrator()
    created_at = now or datetime.now(UTC)
    warehouse.ensure_table(FINDINGS_TABLE)

    findings, skipped = detect(warehouse, workspace_id, night, config)
    if FCT_AD in skipped:
        # Nothing could be judged: leave whatever an earlier run stored for the night rather than clearing it.
        log.warning("diagnostics %s %s: %s", workspace_id, night, skipped[FCT_AD])
        return _result(workspace_id, night, [], [], skipped, 0)
    cache = load_cache(warehouse, workspace_id, night) if narrator.uses_cache and findings else {}
    outcomes = _narrate(narrator, findings, cache)
    rows = [finding_row(f, o, night, created_at) for f, o in zip(findings, outcomes, strict=True)]
    written = write_night(warehouse, workspace_id, night, rows)

    result = _result(workspace_id, night, findings, outcomes, skipped, written)
    log.info("diagnostics %s %s: %s", workspace_id, night, result.as_metadata())
    return result


def _result(
    workspace_id: str,
    night: date,
    findings: list[Finding],
    outcomes: list[NarrationOutcome],
    skipped: dict[str, str],
    written: int,
) -> DiagnosticsResult:
    fallback_codes = Counter((o.fallback_reason or "").split(":", 1)[0] for o in outcomes if o.fallback_reason)
    return DiagnosticsResult(
        workspace_id=workspace_id,
        night=night,
        findings=len(findings),
        by_severity=dict(Counter(f.severity for f in findings)),
        by_type=dict(Counter(f.finding_type for f in findings)),
        providers=dict(Counter(o.provider for o in outcomes)),
        llm_requests=sum(o.requested for o in outcomes),
        cached=sum(o.cached for o in outcomes),
        tokens_used=sum(o.input_tokens + o.output_tokens for o in outcomes),
        fallbacks=sum(o.provider == "offline-fallback" for o in outcomes),
        fallback_reasons=dict(fallback_codes),
        skipped=skipped,
        rows_written=written,
    )


def _narrate(narrator: Narrator, findings: list[Finding], cache: Mapping[str, Any]) -> list[NarrationOutcome]:
    if not findings:
        return []
    try:
        outcomes = narrator.narrate(findings, cache)
        if len(outcomes) != len(findings):
            raise RuntimeError(f"narrator returned {len(outcomes)} outcomes for {len(findings)} findings")
        return outcomes
    except Exception as exc:  # noqa: BLE001 - narrators promise not to raise; if one does, the night still completes
        log.warning("narrator %s failed; narrating offline", getattr(narrator, "kind", "?"), exc_info=True)
        offline = OfflineNarrator()
        reason = f"narrator_error: {type(exc).__name__}: {exc}"[:300]
        return [
            NarrationOutcome(
                narrative=offline.narrative(f),
                provider="offline-fallback",
                model=offline.model,
                prompt_version=offline.prompt_version,
                input_hash=offline.input_hash(f),
                fallback_reason=reason,
            )
            for f in findings
        ]
