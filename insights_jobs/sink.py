"""Where extracted rows go: a `Sink` opens one batch per (workspace, account, report, window); the batch becomes
visible only when committed. The warehouse adapter in orchestration/ implements it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from dates import Window


class BatchSink(Protocol):
    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def commit(self) -> Any: ...


class Sink(Protocol):
    """Where extracted rows go (the warehouse, through an adapter in orchestration/). May be called from several
    threads at once."""

    def open_batch(
        self, workspace_id: str, account_id: str, report: str, window: Window | None, params: Mapping[str, Any]
    ) -> BatchSink: ...
