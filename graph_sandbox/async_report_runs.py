"""Async insights report runs: created by POST act_X/insights, completed after `job_seconds` of wall time.

A run can be marked to fail ("Job Failed" once its time is up, with v25's error_code/error_subcode/error_message) or
to get stuck (it stops progressing, at some percentage or at 100%, and never completes), as Meta's runs sometimes do.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph_sandbox.insights import InsightsQuery
from graph_sandbox.model import Account, TruthRow

NOT_STARTED = "Job Not Started"
STARTED = "Job Started"
RUNNING = "Job Running"
COMPLETED = "Job Completed"
FAILED = "Job Failed"
SKIPPED = "Job Skipped"  # "Job has expired and skipped. Please resubmit your job and try again."

REPORT_RUN_FIELDS: tuple[str, ...] = (
    "id",
    "account_id",
    "async_percent_completion",
    "async_status",
    "date_start",
    "date_stop",
    "emails",
    "friendly_name",
    "is_bookmarked",
    "is_running",
    "time_completed",
    "time_ref",
    "error_code",
    "error_subcode",
    "error_message",
    "error_user_title",
    "error_user_msg",
)
# Reported by default on a node read without `fields` (null ones left out). "Beginning with Marketing API v25.0, if
# the report fails, you will see the corresponding error_code, error_message, error_subcode, error_user_title, and
# error_user_msg fields returned by default."
DEFAULT_REPORT_RUN_FIELDS: tuple[str, ...] = (
    "id",
    "account_id",
    "time_ref",
    "time_completed",
    "async_status",
    "async_percent_completion",
    "date_start",
    "date_stop",
    "is_running",
    "error_code",
    "error_subcode",
    "error_message",
    "error_user_title",
    "error_user_msg",
)


@dataclass
class ReportRun:
    """One async report run and the rows it will serve."""

    id: str
    account: Account
    query: InsightsQuery
    rows: list[TruthRow]
    created_monotonic: float
    time_ref: int
    duration: float
    # A run marked failed reports "Job Failed" once its time is up, with this (code, subcode, message).
    fail: bool = False
    failure: tuple[int, int | None, str] = (1, 99, "An unknown error occurred while running the report")
    # A stuck run stops at `stuck_at` percent ("Job Running") and never completes; None: it progresses normally.
    stuck_at: int | None = None
    # A skipped run reports "Job Skipped" once its time is up (Meta expired it; it must be resubmitted).
    skip: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def progress(self, now: float) -> tuple[str, int]:
        """(async_status, async_percent_completion) at monotonic time `now`."""
        elapsed = now - self.created_monotonic
        if self.stuck_at is not None and (self.duration <= 0 or elapsed >= self.duration * self.stuck_at / 100):
            return RUNNING, self.stuck_at
        if self.duration <= 0 or elapsed >= self.duration:
            if self.skip:
                return SKIPPED, 0
            return (FAILED, 100) if self.fail else (COMPLETED, 100)
        fraction = elapsed / self.duration
        if fraction < 0.15:
            return NOT_STARTED, 0
        if fraction < 0.35:
            return STARTED, int(fraction * 100)
        return RUNNING, min(99, int(fraction * 100))

    def node(self, now: float) -> dict[str, Any]:
        """Every field of the report run node (error fields are null unless the run failed)."""
        status, percent = self.progress(now)
        done = status in (COMPLETED, FAILED, SKIPPED)
        failed = status == FAILED
        return {
            "id": self.id,
            "account_id": self.account.account_id,
            "async_percent_completion": percent,
            "async_status": status,
            "date_start": self.query.date_start.isoformat(),
            "date_stop": self.query.date_stop.isoformat(),
            "emails": [],
            "friendly_name": f"sandbox report {self.id}",
            "is_bookmarked": False,
            "is_running": not done,
            "time_completed": self.time_ref + max(1, round(self.duration)) if done else 0,
            "time_ref": self.time_ref,
            "error_code": self.failure[0] if failed else None,
            "error_subcode": self.failure[1] if failed else None,
            "error_message": self.failure[2] if failed else None,
            "error_user_title": "Report Failed" if failed else None,
            "error_user_msg": self.failure[2] if failed else None,
        }


class ReportRunStore:
    """Thread-safe store of report runs (oldest evicted past `max_runs`)."""

    def __init__(
        self,
        job_seconds: float,
        *,
        max_runs: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.job_seconds = job_seconds
        self.max_runs = max_runs
        self.clock = clock
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, ReportRun] = OrderedDict()
        self._ids = itertools.count(1)

    def create(self, account: Account, query: InsightsQuery, rows: list[TruthRow]) -> ReportRun:
        with self._lock:
            run_id = str(1571860060000000 + next(self._ids))
            run = ReportRun(
                id=run_id,
                account=account,
                query=query,
                rows=rows,
                created_monotonic=self.clock(),
                time_ref=int(self._wall()),
                duration=self.job_seconds,
            )
            self._runs[run_id] = run
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)
            return run

    def get(self, run_id: str) -> ReportRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
