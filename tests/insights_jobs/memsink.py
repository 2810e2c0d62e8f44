"""An in-memory Sink with the warehouse's visibility rules, for tests and benchmarks.

Batches become visible on commit; for insights, the latest committed batch per (workspace, account, report, date)
wins (dbt staging's rule, dbt_project/macros/staging/meta_visibility.sql); entities and errors: every committed
batch's rows."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from insights_jobs.windows import Window


@dataclass
class MemoryBatch:
    sink: MemorySink
    batch_id: int
    workspace_id: str
    account_id: str
    report: str
    window: Window | None
    params: Mapping[str, Any]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    committed: bool = False

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        assert not self.committed, "append after commit"
        self.rows.setdefault(table, []).extend(dict(r) for r in rows)

    def commit(self) -> MemoryBatch:
        with self.sink.lock:
            assert not self.committed, "committed twice"
            self.committed = True
            self.sink.commit_order.append(self)
        return self


class MemorySink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[MemoryBatch] = []
        self.commit_order: list[MemoryBatch] = []
        self._ids = itertools.count(1)

    def open_batch(
        self, workspace_id: str, account_id: str, report: str, window: Window | None, params: Mapping[str, Any]
    ) -> MemoryBatch:
        with self.lock:
            batch = MemoryBatch(self, next(self._ids), workspace_id, account_id, report, window, dict(params))
            self.batches.append(batch)
            return batch

    def committed(self, report: str | None = None, workspace_id: str | None = None) -> list[MemoryBatch]:
        return [
            b
            for b in self.commit_order
            if (report is None or b.report == report) and (workspace_id is None or b.workspace_id == workspace_id)
        ]

    def visible(self, table: str, report: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        """Rows of an insights table that dbt would show: per date, the rows of the latest batch covering it."""
        winners: dict[tuple[str, str, date], int] = {}
        for b in self.committed(report, workspace_id):
            assert b.window is not None
            d = b.window.start
            while d <= b.window.end:
                winners[(b.workspace_id, b.account_id, d)] = b.batch_id
                d += timedelta(days=1)
        out = []
        for b in self.committed(report, workspace_id):
            for r in b.rows.get(table, []):
                if winners.get((b.workspace_id, b.account_id, r["date_day"])) == b.batch_id:
                    out.append({**r, "workspace_id": b.workspace_id, "account_id": b.account_id})
        return out

    def all_rows(self, table: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {**r, "workspace_id": b.workspace_id, "account_id": b.account_id}
            for b in self.commit_order
            if workspace_id is None or b.workspace_id == workspace_id
            for r in b.rows.get(table, [])
        ]
