"""Pure planning for runs: nightly batches of workspaces, backfill chunks, the marts' date window.

No Dagster here beyond names; the schedule, sensors and CLI all plan through these functions, so what a night or a
backfill will do is unit-tested once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from dates import Window
from orchestration.tags import RANGE_END_TAG, RANGE_START_TAG


@dataclass(frozen=True)
class WorkspaceBatch:
    """A contiguous range of partition keys, all extractable when planned: one run."""

    workspace_ids: tuple[str, ...]

    @property
    def start(self) -> str:
        return self.workspace_ids[0]

    @property
    def end(self) -> str:
        return self.workspace_ids[-1]

    @property
    def label(self) -> str:
        """For the `workspace` run tag: the workspace, or the range (tag values are capped in length)."""
        return self.start if len(self.workspace_ids) == 1 else f"{self.start}..{self.end} ({len(self.workspace_ids)})"

    def run_tags(self) -> dict[str, str]:
        return {
            RANGE_START_TAG: self.start,
            RANGE_END_TAG: self.end,
        }


def plan_batches(partition_keys: Sequence[str], extractable: Iterable[str], batch_size: int) -> list[WorkspaceBatch]:
    """Cut the ordered partition keys into runs of at most `batch_size` extractable workspaces.

    A run targets a partition *range*, so a range must not span a workspace that is not to be extracted
    (disconnected, deletion requested): such a key ends the current batch. Batching matters because a Dagster
    run has fixed overhead; one run per workspace would not scale to thousands of workspaces a night.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ok = set(extractable)
    batches: list[WorkspaceBatch] = []
    current: list[str] = []
    for key in partition_keys:
        if key in ok:
            current.append(key)
            if len(current) == batch_size:
                batches.append(WorkspaceBatch(tuple(current)))
                current = []
        elif current:
            batches.append(WorkspaceBatch(tuple(current)))
            current = []
    if current:
        batches.append(WorkspaceBatch(tuple(current)))
    return batches


@dataclass(frozen=True)
class BackfillChunk:
    index: int  # 0-based
    count: int
    window: Window

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.count}"


def plan_backfill_chunks(window: Window, max_days: int) -> list[BackfillChunk]:
    """Consecutive windows of at most `max_days`, oldest first, covering `window` exactly."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    chunks = window.chunks(max_days)
    return [BackfillChunk(i, len(chunks), chunk) for i, chunk in enumerate(chunks)]


def backfill_id(workspace_id: str, window: Window, max_days: int) -> str:
    """Deterministic: asking for the same backfill again finds the chunks already done and resumes."""
    key = f"{workspace_id}:{window.start}:{window.end}:{max_days}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def marts_window_days(restatement_days: int) -> int:
    """How many UTC dates one nightly dbt build rebuilds: every account's restatement window, whatever its timezone.

    Account days end "yesterday" in timezones from UTC-12 to UTC+14, so yesterday spans two UTC dates; one extra
    day at each end covers them all. Also dbt's default window (var `sentrum_default_window_days`) when a marts run
    is given no dates: the same number, passed on every build.
    """
    return restatement_days + 2


def nightly_marts_window(today_utc: date, restatement_days: int) -> Window:
    """The dates one nightly dbt build rebuilds, ending on the UTC date of the night."""
    return Window.ending(today_utc, marts_window_days(restatement_days))
