"""Dates shared by the rooms: the inclusive `Window` of days, cutting a window into chunks, and the restatement
default. Standard library only, so every room may import it (the extractor, diagnostics, orchestration).

Days are calendar days in whatever timezone the caller means (an ad account's, for Meta's numbers); a `Window`
does not know it, the functions that build one do (`insights_jobs.windows`, `orchestration.planning`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# Meta's insights "do not change after 28 days of being reported": day D can still change during day D+28, which a
# night reads as its yesterday, so each night re-pulls yesterday and the 28 days before it (docs/meta-conformance.md).
RESTATEMENT_DAYS = 29


@dataclass(frozen=True)
class Window:
    """An inclusive range of days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"window start {self.start} is after its end {self.end}")

    @classmethod
    def ending(cls, end: date, days: int) -> Window:
        """The `days` days up to and including `end`."""
        if days < 1:
            raise ValueError("a window has at least one day")
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, days: int) -> Window:
        """The same number of days, `days` earlier."""
        return Window(self.start - timedelta(days=days), self.end - timedelta(days=days))

    def as_list(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat()]

    def chunks(self, days: int) -> list[Window]:
        """Consecutive windows of at most `days` days, oldest first, covering this one exactly (the last one may be
        shorter): report chunks of one extraction, runs of one backfill."""
        if days < 1:
            raise ValueError("chunks have at least one day")
        out = []
        start = self.start
        while start <= self.end:
            end = min(self.end, start + timedelta(days=days - 1))
            out.append(Window(start, end))
            start = end + timedelta(days=1)
        return out


__all__ = ["RESTATEMENT_DAYS", "Window"]
