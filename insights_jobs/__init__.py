"""Meta Marketing API extraction: read-only SDK client, rate-limit governor, async report runs with splitting,
error policy, windows, normalisation. See README.md.

The local Graph API simulator used by the demo, the tests and the benchmarks is its own room, `graph_sandbox`.
"""

from insights_jobs.client import ReadOnlyViolation, check_read_only, make_api
from insights_jobs.config import ExtractConfig, WorkspaceJob
from insights_jobs.errors import Action, ExtractionError, ReconnectNeeded, classify
from insights_jobs.extract import extract_workspace, extract_workspaces, make_governor
from insights_jobs.governor import RateGovernor
from insights_jobs.reports import DEFAULT_REPORTS, REPORTS, ReportSpec
from insights_jobs.results import AccountResult, FailedSlice, WorkspaceResult
from insights_jobs.sink import Sink
from insights_jobs.windows import Window, clamp_window, restatement_window

__all__ = [
    "DEFAULT_REPORTS",
    "REPORTS",
    "AccountResult",
    "Action",
    "ExtractConfig",
    "ExtractionError",
    "FailedSlice",
    "RateGovernor",
    "ReadOnlyViolation",
    "ReconnectNeeded",
    "ReportSpec",
    "Sink",
    "Window",
    "WorkspaceJob",
    "WorkspaceResult",
    "check_read_only",
    "clamp_window",
    "classify",
    "extract_workspace",
    "extract_workspaces",
    "make_api",
    "make_governor",
    "restatement_window",
]
