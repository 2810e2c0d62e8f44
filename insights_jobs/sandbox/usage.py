"""Rate-limit usage headers from sliding-window call counts.

Each scope (the app, an ad account, a business use case, the insights throttle) counts its calls over the last
`window_seconds`; utilisation is calls / `calls_per_minute` budget, in percent. Nothing is throttled
yet: a later `over_budget` check can refuse calls once a scope passes 100.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

ACCESS_TIER = "standard_access"


@dataclass(frozen=True)
class CallScope:
    """What one call counts against."""

    account_id: str | None = None  # bare number
    business_id: str | None = None
    insights: bool = False

    @property
    def use_case(self) -> str:
        return "ads_insights" if self.insights else "ads_management"


class UsageTracker:
    """Thread-safe sliding-window counters and the headers Meta derives from them."""

    def __init__(
        self,
        calls_per_minute: int = 6000,
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if calls_per_minute <= 0:
            raise ValueError("calls_per_minute must be positive")
        self.calls_per_minute = calls_per_minute
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, ...], deque[float]] = {}

    def _keys(self, scope: CallScope) -> list[tuple[str, ...]]:
        keys: list[tuple[str, ...]] = [("app",)]
        if scope.account_id:
            keys.append(("account", scope.account_id))
        if scope.business_id:
            keys.append(("buc", scope.business_id, scope.use_case))
        if scope.insights:
            keys.append(("insights-app",))
            if scope.account_id:
                keys.append(("insights-account", scope.account_id))
        return keys

    def _count(self, key: tuple[str, ...], now: float) -> int:
        calls = self._calls.get(key)
        if not calls:
            return 0
        horizon = now - self.window_seconds
        while calls and calls[0] <= horizon:
            calls.popleft()
        return len(calls)

    def _pct(self, count: int) -> float:
        return 100.0 * count / self.calls_per_minute

    def utilisation(self, key: tuple[str, ...]) -> float:
        """Current percent of budget used by one scope key (e.g. ("app",) or ("account", "1001"))."""
        with self._lock:
            return self._pct(self._count(key, self._clock()))

    def record(self, scope: CallScope) -> dict[str, str]:
        """Count one call against its scopes and return the usage headers for its response."""
        with self._lock:
            now = self._clock()
            counts = {}
            for key in self._keys(scope):
                self._calls.setdefault(key, deque()).append(now)
                counts[key] = self._count(key, now)
            buc_types = {}
            if scope.business_id:
                for use_case in ("ads_management", "ads_insights"):
                    key = ("buc", scope.business_id, use_case)
                    n = counts.get(key, self._count(key, now))
                    if n:
                        buc_types[use_case] = n
        return self._headers(scope, counts, buc_types)

    def _headers(
        self, scope: CallScope, counts: dict[tuple[str, ...], int], buc_types: dict[str, int]
    ) -> dict[str, str]:
        app = self._pct(counts[("app",)])
        headers = {
            "x-app-usage": _json(
                {"call_count": round(app), "total_cputime": round(app * 0.6), "total_time": round(app * 0.8)}
            ),
        }
        if scope.account_id:
            acc = self._pct(counts[("account", scope.account_id)])
            headers["x-ad-account-usage"] = _json(
                {
                    "acc_id_util_pct": round(acc, 2),
                    "reset_time_duration": 0,
                    "ads_api_access_tier": ACCESS_TIER,
                }
            )
        if scope.business_id:
            entries = [
                {
                    "type": use_case,
                    "call_count": round(self._pct(n)),
                    "total_cputime": round(self._pct(n) * 0.6),
                    "total_time": round(self._pct(n) * 0.8),
                    "estimated_time_to_regain_access": 0,
                    "ads_api_access_tier": ACCESS_TIER,
                }
                for use_case, n in sorted(buc_types.items())
            ]
            headers["x-business-use-case-usage"] = _json({scope.business_id: entries})
        if scope.insights:
            acc_insights = counts.get(("insights-account", scope.account_id or ""), 0)
            headers["x-fb-ads-insights-throttle"] = _json(
                {
                    "app_id_util_pct": round(self._pct(counts[("insights-app",)]), 2),
                    "acc_id_util_pct": round(self._pct(acc_insights), 2),
                    "ads_api_access_tier": ACCESS_TIER,
                }
            )
        return headers

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
