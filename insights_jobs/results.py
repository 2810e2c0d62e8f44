"""What an extraction returns: per workspace (`WorkspaceResult`) and per ad account (`AccountResult`), with the
slices Meta would not serve (`FailedSlice`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from insights_jobs.windows import Window


@dataclass
class FailedSlice:
    """A slice Meta would not serve at its narrowest (also written to meta_extraction_errors)."""

    report: str
    since: date
    until: date
    object_level: str
    object_ids: list[str]
    fields: list[str]
    error_code: int | None
    error_subcode: int | None
    action: str
    message: str
    fbtrace_id: str | None = None

    def describe(self) -> str:
        ids = ",".join(self.object_ids[:3]) + ("..." if len(self.object_ids) > 3 else "")
        code = f" ({self.error_code}/{self.error_subcode})" if self.error_code is not None else ""
        return (
            f"{self.report} {self.since}..{self.until} {self.object_level} {ids} fields {','.join(self.fields)}: "
            f"{self.message}{code}"
        )


@dataclass
class AccountResult:
    account_id: str
    ok: bool = False
    window: Window | None = None
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    action: str | None = None  # the error policy's verdict when it failed
    throttle_errors: int = 0
    jobs: Counter[str] = field(default_factory=Counter)  # submitted, completed, failed, stuck, split, sync, ...
    batches: int = 0  # committed
    failed_slices: list[FailedSlice] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


@dataclass
class WorkspaceResult:
    workspace_id: str
    accounts: list[AccountResult] = field(default_factory=list)
    reconnect_needed: bool = False
    api_calls: int = 0  # HTTP requests (a batch request counts once; its items are in calls["batch_items"])
    seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)  # by method and kind, plus "batch_items"
    poll_throttle_errors: int = 0  # whole status-poll batches that were throttled

    @property
    def ok(self) -> bool:
        return bool(self.accounts) and all(a.ok for a in self.accounts)

    @property
    def rows(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for a in self.accounts:
            for t, n in a.rows.items():
                total[t] = total.get(t, 0) + n
        return total

    @property
    def errors(self) -> list[str]:
        return [f"{a.account_id}: {a.error}" for a in self.accounts if a.error]

    @property
    def throttle_errors(self) -> int:
        return sum(a.throttle_errors for a in self.accounts) + self.poll_throttle_errors

    @property
    def failed_slices(self) -> list[FailedSlice]:
        return [s for a in self.accounts for s in a.failed_slices]

    @property
    def jobs(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for a in self.accounts:
            total.update(a.jobs)
        return dict(total)
