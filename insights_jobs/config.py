"""What the extractor is told: `ExtractConfig` (how to read: window length, reports, caps, chunking, polling,
retries, pacing) and `WorkspaceJob` (what to read: a workspace, its token, its ad accounts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dates import RESTATEMENT_DAYS
from insights_jobs.reports import DEFAULT_REPORTS, report


@dataclass(frozen=True)
class ExtractConfig:
    """Everything the extractor can be told. Only `graph_url` and `api_version` have no default."""

    graph_url: str
    api_version: str
    # Nightly window: this many days ending yesterday in each account's timezone (`dates.RESTATEMENT_DAYS`: why 29).
    restatement_days: int = RESTATEMENT_DAYS
    reports: tuple[str, ...] = DEFAULT_REPORTS
    # Caps, shared by every workspace of one extract_workspaces call.
    concurrency: int = 8  # accounts extracted at once
    max_jobs_in_flight: int = 100  # report runs in flight in all
    max_jobs_per_account: int = 10  # report runs in flight per account
    # One batch (and one report run, unless split) per report and this many days.
    chunk_days: int = 31
    # A report slice expected to fit in this many rows is read with a sync call; larger ones run async.
    sync_max_rows: int = 500
    page_limit: int = 500
    request_timeout_s: float = 120.0
    # Report runs: polls (batched) and when a run counts as stuck.
    job_poll_initial_s: float = 0.5
    job_poll_min_s: float = 0.25
    job_poll_max_s: float = 10.0
    poll_batch_size: int = 50
    job_stuck_s: float = 600.0  # no progress for this long
    job_stuck_at_100_s: float = 180.0  # at 100% but not completed for this long
    job_timeout_s: float = 3600.0  # in all
    max_resubmits: int = 2  # a stuck/lost run is resubmitted this often before it is split
    max_slices_per_group: int = 256  # splitting of one chunk's report gives up past this many slices
    max_group_restarts: int = 2  # a chunk whose results could not be read is redone this often
    # Retries of transient errors (backoff with jitter), and of throttles (the governor says how long).
    max_attempts: int = 5
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0
    max_throttle_waits: int = 30
    # The governor extract_workspaces creates when none is passed in.
    usage_target_pct: float = 90.0
    usage_window_s: float = 60.0
    throttle_fallback_s: float = 30.0
    seed: int | None = None  # jitter seed (tests)

    def __post_init__(self) -> None:
        for name in self.reports:
            report(name)
        if not 1 <= self.poll_batch_size <= 50:
            raise ValueError("poll_batch_size must be 1..50 (Meta's batch limit)")
        if self.chunk_days < 1 or self.concurrency < 1 or self.max_jobs_in_flight < 1 or self.max_jobs_per_account < 1:
            raise ValueError("chunk_days, concurrency and the job caps must be at least 1")


@dataclass(frozen=True)
class WorkspaceJob:
    """One workspace to extract. The token never shows in repr (logs, tracebacks)."""

    workspace_id: str
    token: str = field(repr=False)
    account_ids: Sequence[str] = ()
