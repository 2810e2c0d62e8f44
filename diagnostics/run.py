"""`run_diagnostics`: one workspace, one night: read the marts, detect, narrate, store. The Dagster asset calls this."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from diagnostics.charts import chart_findings
from diagnostics.config import DiagnosticsConfig
from diagnostics.detectors import run_detectors
from diagnostics.findings import Finding
from diagnostics.mart_types import MartData
from diagnostics.marts import FCT_AD, MartReader
from diagnostics.narrators import NarrationOutcome, Narrator
from diagnostics.offline import OfflineNarrator
from diagnostics.store import FINDINGS_TABLE, finding_row, load_cache, write_night
from warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiagnosticsResult:
    workspace_id: str
    night: date
    findings: int
    by_severity: dict[str, int]
    by_type: dict[str, int]
    providers: dict[str, int]  # offline | openai | anthropic | offline-fallback -> findings
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
    return _detected(MartReader(warehouse, workspace_id, config).read(night), config)


def _detected(data: MartData, config: DiagnosticsConfig) -> tuple[list[Finding], dict[str, str]]:
    findings, left_out = run_detectors(data, config)
    skipped = dict(data.skipped)
    if left_out:
        log.warning("diagnostics %s: %d findings over max_findings left out", data.workspace_id, left_out)
        skipped["findings"] = f"{left_out} less severe findings over max_findings={config.max_findings} left out"
    return findings, skipped


@dataclass
class _Prepared:
    """One workspace between detection and storage: what to narrate, and with what cache."""

    workspace_id: str
    findings: list[Finding]
    skipped: dict[str, str]
    cache: Mapping[str, Any]
    charts: dict[str, str]  # finding_id -> SVG
    judged: bool = True  # False: the primary fact is missing, leave the stored night alone


def _prepare(
    warehouse: Warehouse, workspace_id: str, night: date, narrator: Narrator, config: DiagnosticsConfig
) -> _Prepared:
    data = MartReader(warehouse, workspace_id, config).read(night)
    findings, skipped = _detected(data, config)
    if FCT_AD in skipped:
        log.warning("diagnostics %s %s: %s", workspace_id, night, skipped[FCT_AD])
        return _Prepared(workspace_id, [], skipped, {}, {}, judged=False)
    cache = load_cache(warehouse, workspace_id, night, narrator.kind) if narrator.uses_cache and findings else {}
    charts = chart_findings(warehouse, data, findings, config) if findings else {}
    return _Prepared(workspace_id, findings, skipped, cache, charts)


def _store(
    warehouse: Warehouse,
    prepared: _Prepared,
    outcomes: list[NarrationOutcome],
    night: date,
    created_at: datetime,
) -> DiagnosticsResult:
    if not prepared.judged:
        # Nothing could be judged: leave whatever an earlier run stored for the night rather than clearing it.
        return _result(prepared.workspace_id, night, [], [], prepared.skipped, 0)
    rows = [
        finding_row(f, o, night, created_at, prepared.charts.get(f.finding_id))
        for f, o in zip(prepared.findings, outcomes, strict=True)
    ]
    written = write_night(warehouse, prepared.workspace_id, night, rows)
    result = _result(prepared.workspace_id, night, prepared.findings, outcomes, prepared.skipped, written)
    log.info("diagnostics %s %s: %s", prepared.workspace_id, night, result.as_metadata())
    return result


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

    Of `warehouse` it uses query, execute, table_ref, tables_with_column, columns, ensure_table and replace_rows.
    `narrator`: from `build_narrator`; offline when None."""
    config = config or DiagnosticsConfig()
    narrator = narrator or OfflineNarrator()
    warehouse.ensure_table(FINDINGS_TABLE)
    prepared = _prepare(warehouse, workspace_id, night, narrator, config)
    outcomes = _narrate(narrator, prepared.findings, prepared.cache)
    return _store(warehouse, prepared, outcomes, night, now or datetime.now(UTC))


def run_night(
    warehouse: Warehouse,
    workspace_ids: Sequence[str],
    night: date,
    narrator: Narrator | None = None,
    config: DiagnosticsConfig | None = None,
    *,
    concurrency: int = 4,
    now: datetime | None = None,
    on_result: Callable[[str, DiagnosticsResult | Exception], None] | None = None,
) -> dict[str, DiagnosticsResult | Exception]:
    """`run_diagnostics` for many workspaces of one run: detection and storage in this thread (the warehouse is
    used by one thread only), narration of up to `concurrency` workspaces at once in worker threads, all through the
    one `narrator` (so one circuit breaker and one slot for the run). A workspace whose reads or writes fail gets
    its exception in the result and the others carry on. `on_result(workspace_id, result)` is called in this thread
    as each workspace is stored, in completion order."""
    config = config or DiagnosticsConfig()
    narrator = narrator or OfflineNarrator()
    created_at = now or datetime.now(UTC)
    warehouse.ensure_table(FINDINGS_TABLE)
    results: dict[str, DiagnosticsResult | Exception] = {}

    def done(workspace_id: str, result: DiagnosticsResult | Exception) -> None:
        results[workspace_id] = result
        if on_result is not None:
            on_result(workspace_id, result)

    prepared_of: dict[str, _Prepared] = {}

    def work() -> Iterator[tuple[str, list[Finding], Mapping[str, Any]]]:
        for workspace_id in workspace_ids:
            try:
                prepared = _prepare(warehouse, workspace_id, night, narrator, config)
            except Exception as exc:  # noqa: BLE001 - recorded per workspace
                log.warning("diagnostics %s %s: detection failed", workspace_id, night, exc_info=True)
                done(workspace_id, exc)
                continue
            prepared_of[workspace_id] = prepared
            yield workspace_id, prepared.findings, prepared.cache

    def store(workspace_id: str, outcomes: list[NarrationOutcome]) -> None:
        prepared = prepared_of.pop(workspace_id)
        try:
            done(workspace_id, _store(warehouse, prepared, outcomes, night, created_at))
        except Exception as exc:  # noqa: BLE001 - one workspace's trouble never stops the others
            log.warning("diagnostics %s %s: storing failed", workspace_id, night, exc_info=True)
            done(workspace_id, exc)

    narrate_workspaces(narrator, work(), concurrency=concurrency, on_done=store)
    return results


def narrate_workspaces(
    narrator: Narrator,
    work: Iterable[tuple[str, Sequence[Finding], Mapping[str, Any]]],
    *,
    concurrency: int,
    on_done: Callable[[str, list[NarrationOutcome]], None],
) -> None:
    """Narrate many workspaces' findings through one narrator, up to `concurrency` workspaces at once (worker
    threads). `work` is consumed in this thread (it may read the warehouse) and runs ahead of the narration by at
    most `2 * concurrency` workspaces, so memory stays flat for 1,000 of them; `on_done(workspace, outcomes)` is
    called in this thread as each workspace's narration completes. Never raises for a narrator's sake."""
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    pending: dict[Future[list[NarrationOutcome]], str] = {}

    def drain(until: int) -> None:
        while len(pending) > until:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                on_done(pending.pop(future), future.result())

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="narrate") as pool:
        for workspace_id, findings, cache in work:
            pending[pool.submit(_narrate, narrator, list(findings), cache)] = workspace_id
            drain(2 * concurrency - 1)
        drain(0)


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
