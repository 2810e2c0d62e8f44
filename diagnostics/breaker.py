"""The run's circuit breaker: one per narrator, i.e. per run, shared by every workspace the run narrates.

A provider that is down (hangs, answers 5xx, serves an HTML error page) must not cost `timeout x retries` per finding
per workspace: 1,000 workspaces times a 30 s timeout is a night. After `failures` transport failures in a row
(counted across all workspaces and threads) the breaker opens and every later request of the run is narrated offline
without being sent. The run's slot (`deadline_s`) closes it too: past it, nothing new is sent, so a night's
diagnostics end within the slot plus one request's timeout whatever the provider does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class CircuitBreaker:
    def __init__(self, failures: int = 2, *, deadline_s: float | None = None, clock: Clock = time.monotonic) -> None:
        if failures < 1:
            raise ValueError("the breaker needs failures >= 1")
        if deadline_s is not None and deadline_s <= 0:
            raise ValueError("deadline_s must be positive (or None: no slot)")
        self.failures = failures
        self._clock = clock
        self._deadline = clock() + deadline_s if deadline_s is not None else None
        self._deadline_s = deadline_s
        self._lock = threading.Lock()
        self._in_a_row = 0
        self._opened_by: str | None = None

    def refusal(self) -> str | None:
        """Why a request must not be sent now (`code: detail`), or None when it may be."""
        with self._lock:
            if self._opened_by is not None:
                return f"provider_unavailable: {self._opened_by}"
            if self._deadline is not None and self._clock() >= self._deadline:
                return f"deadline_exceeded: the run's narration slot of {self._deadline_s:g} s is over"
            return None

    def success(self) -> None:
        with self._lock:
            self._in_a_row = 0

    def failure(self, reason: str) -> None:
        with self._lock:
            self._in_a_row += 1
            if self._in_a_row >= self.failures and self._opened_by is None:
                self._opened_by = f"{self._in_a_row} transport failures in a row (last: {reason[:120]})"

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_by is not None
