"""Rate limits: usage headers from sliding-window call counts, and throttling past 100%.

Each scope counts its calls over the last `window_seconds` (60: budgets are per minute) against its budget:
the app (`x-app-usage`), each ad account (`x-ad-account-usage`), each business use case (`x-business-use-case-usage`,
ads_management or ads_insights), and the insights throttle per account and per app (`x-fb-ads-insights-throttle`).
A call that takes a scope past its budget is refused with Meta's error for that scope (the refused call still
counts, as at Meta: a client that ignores the wait stays throttled):

| scope over budget | error | how long to wait |
|---|---|---|
| app | 4 "Application request limit reached" | no estimate (x-app-usage only) |
| ad account | 17 / 2446079 "User request limit reached" | `reset_time_duration` (s) in x-ad-account-usage |
| business use case | 80004 (ads_management) / 80000 (ads_insights) | `estimated_time_to_regain_access` (minutes) |
| insights of an ad account | 80000 | `estimated_time_to_regain_access` of its ads_insights entry |
| insights of the app | 4 | no estimate |

`estimated_time_to_regain_access` is in whole minutes when the window is a minute or more (as Meta sends it); a
time-scaled sandbox (window_seconds < 60, for fast tests) sends fractions of a minute.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from graph_sandbox.graph_errors import GraphError

ACCESS_TIER = "standard_access"

Key = tuple[str, ...]


@dataclass(frozen=True)
class CallScope:
    """What one call counts against."""

    account_id: str | None = None  # bare number
    business_id: str | None = None
    insights: bool = False

    @property
    def use_case(self) -> str:
        return "ads_insights" if self.insights else "ads_management"


def app_limit() -> GraphError:
    return GraphError(4, "(#4) Application request limit reached", transient=True)


def account_limit() -> GraphError:
    return GraphError(
        17,
        "(#17) User request limit reached",
        subcode=2446079,
        user_title="Ad Account Has Too Many API Calls",
        user_msg="There have been too many calls to this ad account. Wait a bit and try again.",
        transient=True,
    )


def business_limit(use_case: str) -> GraphError:
    if use_case == "ads_insights":
        return GraphError(80000, "There have been too many calls from this ad-account. Wait a bit and try again.")
    return GraphError(80004, "There have been too many calls to this ad-account. Wait a bit and try again.")


class UsageTracker:
    """Thread-safe sliding-window counters, the headers Meta derives from them, and throttling.

    `calls_per_minute`: budget per ad account and (times the business's number of accounts) per business use
    case. `insights_calls_per_minute`: insights calls per ad account (default: `calls_per_minute`).
    `app_calls_per_minute` / `insights_app_calls_per_minute`: the app's budgets (default: the per-account
    budget times `accounts`). `throttle=False` only reports usage, never refuses.
    """

    def __init__(
        self,
        calls_per_minute: int = 6000,
        *,
        insights_calls_per_minute: int | None = None,
        app_calls_per_minute: int | None = None,
        insights_app_calls_per_minute: int | None = None,
        accounts: int = 1,
        business_accounts: Mapping[str, int] | None = None,
        window_seconds: float = 60.0,
        throttle: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if calls_per_minute <= 0:
            raise ValueError("calls_per_minute must be positive")
        self.calls_per_minute = calls_per_minute
        self.insights_calls_per_minute = insights_calls_per_minute or calls_per_minute
        self.app_calls_per_minute = app_calls_per_minute or calls_per_minute * max(1, accounts)
        self.insights_app_calls_per_minute = insights_app_calls_per_minute or self.insights_calls_per_minute * max(
            1, accounts
        )
        self.business_accounts = dict(business_accounts or {})
        self.window_seconds = window_seconds
        self.throttle = throttle
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[Key, deque[float]] = {}
        self.throttled: dict[str, int] = {}

    def budget(self, key: Key) -> int:
        kind = key[0]
        if kind == "app":
            return self.app_calls_per_minute
        if kind == "account":
            return self.calls_per_minute
        if kind == "buc":
            return self.calls_per_minute * max(1, self.business_accounts.get(key[1], 1))
        if kind == "insights-app":
            return self.insights_app_calls_per_minute
        if kind == "insights-account":
            return self.insights_calls_per_minute
        raise KeyError(key)

    def _keys(self, scope: CallScope) -> list[Key]:
        keys: list[Key] = [("app",)]
        if scope.account_id:
            keys.append(("account", scope.account_id))
        if scope.business_id:
            keys.append(("buc", scope.business_id, scope.use_case))
        if scope.insights:
            keys.append(("insights-app",))
            if scope.account_id:
                keys.append(("insights-account", scope.account_id))
        return keys

    def _count(self, key: Key, now: float) -> int:
        calls = self._calls.get(key)
        if not calls:
            return 0
        horizon = now - self.window_seconds
        while calls and calls[0] <= horizon:
            calls.popleft()
        return len(calls)

    def _regain_seconds(self, key: Key, now: float) -> float:
        """Seconds until the scope can take one more call (0 when it can now)."""
        count = self._count(key, now)
        excess = count - self.budget(key) + 1
        if excess <= 0:
            return 0.0
        calls = self._calls[key]
        return max(0.0, calls[excess - 1] + self.window_seconds - now)

    def _minutes(self, seconds: float) -> float | int:
        if seconds <= 0:
            return 0
        if self.window_seconds >= 60:
            return max(1, math.ceil(seconds / 60))
        return math.ceil(seconds / 60 * 1000) / 1000

    def _pct(self, key: Key, count: int) -> float:
        return 100.0 * count / self.budget(key)

    def utilisation(self, key: tuple[str, ...]) -> float:
        """Current percent of budget used by one scope key (e.g. ("app",) or ("account", "1001"))."""
        with self._lock:
            return self._pct(key, self._count(key, self._clock()))

    def record(self, scope: CallScope) -> dict[str, str]:
        """Count one call against its scopes and return the usage headers for its response (never refuses)."""
        headers, _ = self._admit(scope, throttle=False)
        return headers

    def admit(self, scope: CallScope) -> tuple[dict[str, str], GraphError | None]:
        """Count one call; the headers for its response and, when a scope is past its budget, the error to refuse
        it with."""
        return self._admit(scope, throttle=self.throttle)

    def _admit(self, scope: CallScope, *, throttle: bool) -> tuple[dict[str, str], GraphError | None]:
        with self._lock:
            now = self._clock()
            keys = self._keys(scope)
            counts: dict[Key, int] = {}
            for key in keys:
                self._calls.setdefault(key, deque()).append(now)
                counts[key] = self._count(key, now)
            error: GraphError | None = None
            over = [k for k in keys if counts[k] > self.budget(k)] if throttle else []
            if over:
                kind = over[0][0]
                if kind in ("app", "insights-app"):
                    error = app_limit()
                elif kind == "account":
                    error = account_limit()
                elif kind == "buc":
                    error = business_limit(over[0][2])
                else:
                    error = business_limit("ads_insights")
                self.throttled[kind] = self.throttled.get(kind, 0) + 1
            headers = self._headers(scope, counts, now)
        return headers, error

    def _headers(self, scope: CallScope, counts: dict[Key, int], now: float) -> dict[str, str]:
        app = self._pct(("app",), counts[("app",)])
        headers = {
            "x-app-usage": _json(
                {"call_count": round(app), "total_cputime": round(app * 0.6), "total_time": round(app * 0.8)}
            ),
        }
        if scope.account_id:
            key = ("account", scope.account_id)
            headers["x-ad-account-usage"] = _json(
                {
                    "acc_id_util_pct": round(self._pct(key, counts[key]), 2),
                    "reset_time_duration": math.ceil(self._regain_seconds(key, now)),
                    "ads_api_access_tier": ACCESS_TIER,
                }
            )
        if scope.business_id:
            entries = []
            for use_case in ("ads_insights", "ads_management"):
                key = ("buc", scope.business_id, use_case)
                n = counts.get(key, self._count(key, now))
                if not n:
                    continue
                pct = self._pct(key, n)
                regain = self._regain_seconds(key, now)
                if use_case == "ads_insights" and scope.account_id:
                    # The insights throttle of the account is enforced as its ads_insights use case (80000).
                    regain = max(regain, self._regain_seconds(("insights-account", scope.account_id), now))
                entries.append(
                    {
                        "type": use_case,
                        "call_count": round(pct),
                        "total_cputime": round(pct * 0.6),
                        "total_time": round(pct * 0.8),
                        "estimated_time_to_regain_access": self._minutes(regain),
                        "ads_api_access_tier": ACCESS_TIER,
                    }
                )
            headers["x-business-use-case-usage"] = _json({scope.business_id: entries})
        if scope.insights:
            acc_key = ("insights-account", scope.account_id or "")
            acc_insights = counts.get(acc_key, 0)
            headers["x-fb-ads-insights-throttle"] = _json(
                {
                    "app_id_util_pct": round(self._pct(("insights-app",), counts[("insights-app",)]), 2),
                    "acc_id_util_pct": round(self._pct(acc_key, acc_insights), 2) if scope.account_id else 0,
                    "ads_api_access_tier": ACCESS_TIER,
                }
            )
        return headers

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self.throttled.clear()


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
