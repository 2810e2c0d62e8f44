"""Fixtures for the extractor against the Graph API sandbox: a fixed clock, fast configs, an in-memory sink.

The sandbox runs time-scaled where rate limits matter (a usage window of a few seconds instead of a minute), and
the extractor's governor is told the same window, so pacing and throttling play out in seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from graph_sandbox import SandboxServer, Scenario
from insights_jobs import ExtractConfig, RateGovernor, Window, WorkspaceJob, WorkspaceResult, extract_workspaces
from tests.insights_jobs.memsink import MemorySink

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
VERSION = "v26.0"
OCTOBER = Window(date(2026, 10, 1), date(2026, 10, 31))


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def demo() -> Scenario:
    # Function scope: tests change `as_of` on it.
    return Scenario("demo", 42, clock=fixed_clock)


def fast_config(url: str, **overrides) -> ExtractConfig:
    """Short polls, retries and timeouts: the sandbox's report runs take a fraction of a second."""
    values = dict(
        graph_url=url,
        api_version=VERSION,
        job_poll_initial_s=0.1,
        job_poll_min_s=0.05,
        job_poll_max_s=0.4,
        job_stuck_s=1.5,
        job_stuck_at_100_s=0.8,
        job_timeout_s=20.0,
        retry_base_s=0.02,
        retry_max_s=0.3,
        throttle_fallback_s=0.2,
        usage_window_s=60.0,
        seed=7,
    )
    values.update(overrides)
    return ExtractConfig(**values)


def governor(window_s: float = 60.0, fallback_s: float = 0.2) -> RateGovernor:
    return RateGovernor(window_s=window_s, fallback_s=fallback_s, max_wait_s=5.0, seed=3)


def jobs_of(scenario: Scenario, only: Sequence[str] | None = None) -> list[WorkspaceJob]:
    return [
        WorkspaceJob(w.workspace_id, w.token, w.account_ids)
        for w in scenario.workspaces()
        if only is None or w.workspace_id in only
    ]


@dataclass
class Run:
    results: list[WorkspaceResult]
    sink: MemorySink
    governor: RateGovernor
    logs: list[str] = field(default_factory=list)

    def result(self, workspace_id: str) -> WorkspaceResult:
        return next(r for r in self.results if r.workspace_id == workspace_id)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def extract() -> Iterator:
    """extract(server, scenario, config=None, window=OCTOBER, only=None, sink=None, gov=None) -> Run; every log
    line of the run is kept in Run.logs (to check that no token ever shows)."""
    handler = _Capture()
    logger = logging.getLogger("tests.insights_jobs.run")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)

    def run(server: SandboxServer, scenario: Scenario, config: ExtractConfig | None = None, *, window=OCTOBER,
            only=None, sink=None, gov=None) -> Run:  # fmt: skip
        sink = sink if sink is not None else MemorySink()
        gov = gov or governor()
        results = extract_workspaces(
            jobs_of(scenario, only), sink, config or fast_config(server.url), governor=gov, window=window, now=NOW,
            log=logger,
        )  # fmt: skip
        return Run(results, sink, gov, list(handler.lines))

    yield run
    logger.removeHandler(handler)
