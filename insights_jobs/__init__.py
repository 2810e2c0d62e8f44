"""Meta Marketing API extraction: read-only SDK client, error policy, windows, normalisation, extraction.

`insights_jobs.sandbox` is the local Graph API simulator used by the demo, the tests and the benchmarks.
"""

from insights_jobs.client import ReadOnlyViolation, check_read_only, make_api
from insights_jobs.errors import Action, ExtractionError, ReconnectNeeded, classify
from insights_jobs.extract import AccountResult, ExtractConfig, Sink, WorkspaceResult, extract_workspace
from insights_jobs.windows import Window, clamp_window, restatement_window

__all__ = [
    "AccountResult",
    "Action",
    "ExtractConfig",
    "ExtractionError",
    "ReadOnlyViolation",
    "ReconnectNeeded",
    "Sink",
    "Window",
    "WorkspaceResult",
    "check_read_only",
    "clamp_window",
    "classify",
    "extract_workspace",
    "make_api",
    "restatement_window",
]
