"""Read ad accounts of many workspaces at once: entities, then every insights report through async report runs.

`extract_workspaces` interleaves the accounts of all the workspaces it is given under shared caps (accounts at once,
report runs in flight in all and per account) and one rate-limit governor; `extract_workspace` is the one-workspace
form. Each account lands as:

- one "entities" batch (account, campaigns, ad sets, ads, creatives; every status);
- per insights report and date chunk (`chunk_days`), one batch, committed only when every row of that report for
  those days has been read. A chunk whose report run fails is split by time into smaller chunks, each its own
  batch; so when one day stays unreadable, only that day's batch is not committed: the previous night's data for
  that day stays visible, every other day is replaced, and the unreadable slice is written to
  `meta_extraction_errors` (README.md, "Batches");
- one "extraction_errors" batch when some slice could not be read.

Accounts fail independently; an unusable token (190) stops its workspace ("reconnect needed") and no other.

The parts: `config.py` (what the extractor is told), `engine.py` (accounts interleaved under the caps),
`account_runner.py` (one account), `entity_reads.py`, `calls.py` (the error policy around each call, paging),
`report_runs.py` (report runs in flight and their poller), `results.py`, `sink.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from dates import Window
from insights_jobs.calls import Log
from insights_jobs.config import ExtractConfig, WorkspaceJob
from insights_jobs.engine import Engine
from insights_jobs.governor import RateGovernor
from insights_jobs.results import WorkspaceResult
from insights_jobs.sink import Sink


def make_governor(config: ExtractConfig) -> RateGovernor:
    """The governor for one run, from the config's defaults (the orchestrator may build its own and pass it)."""
    return RateGovernor(
        target_pct=config.usage_target_pct,
        window_s=config.usage_window_s,
        fallback_s=config.throttle_fallback_s,
        seed=config.seed,
    )


def extract_workspaces(
    jobs: Sequence[WorkspaceJob],
    sink: Sink,
    config: ExtractConfig,
    governor: RateGovernor | None = None,
    window: Window | None = None,
    now: datetime | None = None,
    log: Log | None = None,
) -> list[WorkspaceResult]:
    """Extract the ad accounts of every workspace in `jobs`, interleaved under the config's caps and one governor
    (pass the process's shared one; one is made from the config otherwise). Results come back in `jobs` order.

    `window`: an explicit date window (a backfill; clamped to Meta's 37 months); None: each account's restatement
    window ending yesterday in its own timezone. One workspace's failure never stops another; a 190 stops that
    workspace and marks it `reconnect_needed`."""
    if not jobs:
        return []
    engine = Engine(
        jobs, sink, config, governor or make_governor(config), window, now, log or logging.getLogger(__name__)
    )
    return engine.run()


def extract_workspace(
    workspace_id: str,
    token: str,
    account_ids: Sequence[str],
    sink: Sink,
    config: ExtractConfig,
    window: Window | None = None,
    now: datetime | None = None,
    log: Log | None = None,
    governor: RateGovernor | None = None,
) -> WorkspaceResult:
    """Extract every ad account of one workspace (`extract_workspaces` with one job)."""
    return extract_workspaces(
        [WorkspaceJob(workspace_id, token, tuple(account_ids))], sink, config, governor, window, now, log
    )[0]
