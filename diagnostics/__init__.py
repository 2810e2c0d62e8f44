"""AI diagnostics: deterministic detectors over the marts, narrated offline or by OpenAI or Anthropic, with a chart
per finding, stored per night.

Entry points for the orchestrator: `build_narrator(...)` once per run from settings, then `run_night(...)` for the
run's workspaces (or `run_diagnostics(...)` for one); `write_report(...)` renders a night as HTML.
"""

from dates import Window
from diagnostics.config import DiagnosticsConfig
from diagnostics.findings import Entity, Finding, Metric
from diagnostics.narrative import PROMPT_VERSION, Narrative
from diagnostics.narrators import NarrationOutcome, Narrator
from diagnostics.offline import OfflineNarrator
from diagnostics.providers import build_narrator
from diagnostics.report import write_report
from diagnostics.run import DiagnosticsResult, detect, narrate_workspaces, run_diagnostics, run_night
from diagnostics.store import DIAGNOSTICS_SCHEMA, FINDINGS_TABLE

__all__ = [
    "DIAGNOSTICS_SCHEMA",
    "FINDINGS_TABLE",
    "PROMPT_VERSION",
    "DiagnosticsConfig",
    "DiagnosticsResult",
    "Entity",
    "Finding",
    "Metric",
    "NarrationOutcome",
    "Narrative",
    "Narrator",
    "OfflineNarrator",
    "Window",
    "build_narrator",
    "detect",
    "narrate_workspaces",
    "run_diagnostics",
    "run_night",
    "write_report",
]
