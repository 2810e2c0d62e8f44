"""The rate-limit governor: paces calls by Meta's usage headers, per app, business use case, ad account and token.

One governor is shared by every workspace extracted in the process (the orchestrator creates one per run and passes
it in): Meta counts one app's calls across all workspaces that connect through it, so pacing per workspace would let
the workspaces together overrun the app.

How it paces. Every reply (errors included) carries usage percentages:

| header | scope |
|---|---|
| `x-app-usage` (max of call_count, total_time, total_cputime) | the app |
| `x-business-use-case-usage` ({business: [{type, call_count, ..., estimated_time_to_regain_access}]}) | (business, |
|   | use case) |
| `x-ad-account-usage` (acc_id_util_pct, reset_time_duration) | the ad account |
| `x-fb-ads-insights-throttle` (app_id_util_pct, acc_id_util_pct) | insights of the app / of the ad account |

For each scope the governor keeps the last reported percentage, the start times of its own calls in the usage
window, and an estimate of what one call costs (reported % / own calls in the window). Before a call it predicts the
scope's usage (last report + cost x calls started since, - cost x counted calls that have left the window since) and
lets the call go only if the prediction stays under `target_pct`; otherwise the caller waits until enough of its own
calls leave the window (a window after their reply: Meta counts a call on arrival, before its reply). Every reply
resets the picture to the truth of that moment, so a wrong guess about the window costs at most the calls in flight;
usage that is not ours (other processes of the app) is re-checked with one probe call after a window.

When Meta throttles anyway (4, 17, 32, 613, 80000-80008) only the scope the error names waits, for
`estimated_time_to_regain_access` (minutes) or `reset_time_duration` (seconds) when the headers give one, else a
jittered backoff that doubles with each consecutive throttle of that scope. Other accounts, businesses and
workspaces go on.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from insights_jobs.errors import WorkspaceStopped

Scope = tuple[str, ...]

APP: Scope = ("app",)
INSIGHTS_APP: Scope = ("insights_app",)
# Business use case per throttling code (80000..80008); codes not listed throttle the calling use case.
_BUC_OF_CODE = {
    80000: "ads_insights",
    80001: "pages",
    80002: "instagram",
    80003: "custom_audience",
    80004: "ads_management",
    80005: "leadgen_api",
    80006: "messenger",
    80008: "whatsapp_business_management",
}


def act(account_id: str | None) -> str | None:
    """Ad account ids as "act_<n>" (Meta uses both forms)."""
    if account_id is None:
        return None
    return account_id if account_id.startswith("act_") else f"act_{account_id}"


@dataclass
class Ticket:
    """One admitted call: when it started and which scopes it counts against (handed back with its reply)."""

    start: float
    scopes: tuple[Scope, ...]
    workspace_id: str | None
    account_id: str | None
    insights: bool
    seq: int = 0
    entries: list[list[float]] = field(default_factory=list, repr=False)  # its [start, done, seq] in each scope


def _anchor(entry: list[float]) -> float:
    """When a call leaves the usage window: a window after its reply. Meta counts a call when it arrives, which is
    after we let it go (by as much as a busy client takes to send it) and before its reply, so the reply is the
    safe end; a call without a reply counts until then."""
    return entry[1] if entry[1] >= 0 else math.inf


@dataclass
class _State:
    pct: float | None = None  # last reported utilisation, percent
    ref: float = -math.inf  # start time of the call whose reply reported `pct`
    ref_seq: int = -1  # its sequence number (calls started in the same clock tick are still ordered)
    cost: float = 0.0  # estimated percent per call
    own: deque[list[float]] = field(default_factory=deque)  # [start, reply or -1, seq] of our calls in the window
    expired_since: int = 0  # our calls counted in `pct` that have left the window since
    blocked_until: float = 0.0
    probe_until: float = 0.0
    strikes: int = 0  # consecutive throttles (the fallback backoff doubles with each)
    peak: float = 0.0


@dataclass
class GovernorStats:
    throttle_errors: int = 0
    throttles_by_code: Counter[int] = field(default_factory=Counter)
    waits: int = 0
    waited_s: float = 0.0
    blocks_by_scope: Counter[str] = field(default_factory=Counter)
    peak_pct: dict[str, float] = field(default_factory=dict)


class RateGovernor:
    """Thread-safe pacing by usage headers; see the module docstring.

    `target_pct`: keep each scope's predicted usage under this. `window_s`: the usage window assumed for the
    decay of our own calls (60 s; Meta's longer windows show in the headers of the next reply, which always wins).
    `fallback_s` / `max_wait_s`: backoff when a throttle gives no time to wait (doubling per consecutive throttle
    of the scope, capped).
    """

    def __init__(
        self,
        *,
        target_pct: float = 90.0,
        window_s: float = 60.0,
        fallback_s: float = 30.0,
        max_wait_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float, threading.Event | None], bool] | None = None,
        seed: int | None = None,
    ) -> None:
        if not 0 < target_pct <= 100:
            raise ValueError("target_pct must be in (0, 100]")
        self.target_pct = target_pct
        self.window_s = window_s
        self.fallback_s = fallback_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep or _sleep
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._states: dict[Scope, _State] = {}
        self._business: dict[str, str] = {}  # ad account -> business
        self._seq = 0
        self.stats = GovernorStats()

    # ---- scopes -------------------------------------------------------------------------------------------

    def register_business(self, account_id: str, business_id: str | None) -> None:
        """Tell the governor which business an ad account belongs to (its business use case scope)."""
        if business_id:
            with self._lock:
                self._business[act(account_id) or account_id] = str(business_id)

    def scopes_for(self, workspace_id: str | None, account_id: str | None, insights: bool) -> tuple[Scope, ...]:
        """The scopes a call counts against."""
        account = act(account_id)
        scopes: list[Scope] = [APP]
        if workspace_id:
            scopes.append(("workspace", workspace_id))
        if account:
            scopes.append(("account", account))
            business = self._business.get(account)
            if business:
                scopes.append(("buc", business, "ads_insights" if insights else "ads_management"))
        if insights:
            scopes.append(INSIGHTS_APP)
            if account:
                scopes.append(("insights_account", account))
        return tuple(scopes)

    def _state(self, scope: Scope) -> _State:
        state = self._states.get(scope)
        if state is None:
            state = self._states[scope] = _State()
        return state

    # ---- pacing -------------------------------------------------------------------------------------------

    def _trim(self, st: _State, now: float) -> None:
        horizon = now - self.window_s
        lost = now - 10 * self.window_s  # a call whose reply never came (the batch answered null) counts no longer
        while st.own and (_anchor(st.own[0]) <= horizon or st.own[0][0] <= lost):
            seq = st.own.popleft()[2]
            if seq <= st.ref_seq:
                st.expired_since += 1

    def _since_ref(self, st: _State) -> int:
        n = 0
        for entry in reversed(st.own):
            if entry[2] <= st.ref_seq:
                break
            n += 1
        return n

    def predicted(self, scope: Scope) -> float | None:
        """The scope's predicted usage now (None before any report)."""
        with self._lock:
            st = self._state(scope)
            self._trim(st, self._clock())
            return self._predict(st)

    def _predict(self, st: _State) -> float | None:
        if st.pct is None:
            return None
        return max(0.0, st.pct + st.cost * (self._since_ref(st) - st.expired_since))

    def _wait_for(self, st: _State, now: float) -> tuple[float, bool]:
        """(seconds to wait, whether the call would be a probe) for one more call on the scope."""
        if st.blocked_until > now:
            return st.blocked_until - now, False
        pred = self._predict(st)
        if pred is None or st.cost <= 0 or pred + st.cost <= self.target_pct:
            return 0.0, False
        # Wait for enough of our counted calls to leave the window.
        need = math.ceil((pred + st.cost - self.target_pct) / st.cost)
        leaving = sorted(_anchor(e) for e in st.own if e[2] <= st.ref_seq)
        if need <= len(leaving):
            return max(0.01, min(leaving[need - 1] + self.window_s - now, self.max_wait_s)), False
        # Our calls cannot make room (the usage is someone else's): after a whole window the report is surely out
        # of date, and one call (a probe) brings a fresh one.
        next_probe = max(st.ref + self.window_s, st.probe_until) - now
        if next_probe <= 0:
            return 0.0, True
        return max(0.01, min(next_probe, self.max_wait_s)), False

    def wait_for(self, scopes: Iterable[Scope]) -> float:
        """Seconds until a call on these scopes could go (0: now), without admitting one."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for scope in scopes:
                st = self._state(scope)
                self._trim(st, now)
                wait = max(wait, self._wait_for(st, now)[0])
            return wait

    def try_acquire(
        self, scopes: Iterable[Scope], *, workspace_id: str | None = None, account_id: str | None = None,
        insights: bool = False,
    ) -> tuple[Ticket | None, float]:  # fmt: skip
        """Admit one call now if every scope allows it: (ticket, 0). Otherwise (None, seconds to wait)."""
        scopes = tuple(scopes)
        with self._lock:
            now = self._clock()
            wait, probes = 0.0, []
            for scope in scopes:
                st = self._state(scope)
                self._trim(st, now)
                w, probe = self._wait_for(st, now)
                wait = max(wait, w)
                if probe:
                    probes.append(st)
            if wait > 0:
                return None, wait
            for st in probes:
                st.probe_until = now + self.window_s
            self._seq += 1
            ticket = Ticket(now, scopes, workspace_id, act(account_id), insights, self._seq)
            for scope in scopes:
                entry = [now, -1.0, self._seq]
                self._states[scope].own.append(entry)
                ticket.entries.append(entry)
            return ticket, 0.0

    def acquire(
        self,
        workspace_id: str | None,
        account_id: str | None,
        insights: bool,
        stop: threading.Event | None = None,
    ) -> Ticket:
        """Block until the call may go (raises WorkspaceStopped if `stop` is set meanwhile)."""
        waited = 0.0
        while True:
            scopes = self.scopes_for(workspace_id, account_id, insights)
            ticket, wait = self.try_acquire(scopes, workspace_id=workspace_id, account_id=account_id, insights=insights)
            if ticket is not None:
                if waited:
                    with self._lock:
                        self.stats.waits += 1
                        self.stats.waited_s += waited
                return ticket
            chunk = min(wait, 1.0)  # re-check often: a reply elsewhere may free the scope early
            if self._sleep(chunk, stop):
                raise WorkspaceStopped("stopped while waiting for the rate limit")
            waited += chunk

    # ---- replies ------------------------------------------------------------------------------------------

    def observe(
        self, ticket: Ticket | None, headers: Mapping[str, Any] | Iterable[Any] | None, *, ok: bool = True
    ) -> None:
        """Take in a reply's usage headers (a requests header mapping, or a batch item's [{name, value}]); call it
        for every reply, failed ones too (`ok` False; headers None when there was none). A successful reply ends
        the backoff streak of its scopes."""
        if ticket is None:
            return
        usage = parse_usage(headers)
        with self._lock:
            now = self._clock()
            for entry in ticket.entries:
                if entry[1] < 0:
                    entry[1] = now
            if ok:
                for scope in ticket.scopes:
                    self._state(scope).strikes = 0
            if not usage:
                return
            account = ticket.account_id
            if account and len(usage.businesses) == 1 and account not in self._business:
                self._business[account] = next(iter(usage.businesses))
            for scope, pct in usage.pcts(account):
                self._report(scope, pct, ticket, now)
            for scope, seconds in usage.regain(account):
                if seconds > 0:
                    self._block(scope, seconds, now)

    def _report(self, scope: Scope, pct: float, ticket: Ticket, now: float) -> None:
        st = self._state(scope)
        if ticket.seq < st.ref_seq:
            return  # an older reply arriving late: the state already knows better
        self._trim(st, now)
        counted = sum(1 for e in st.own if e[2] <= ticket.seq) if scope in ticket.scopes else 0
        if counted and pct > 0:
            # Reported % over our calls in the window: exact when the usage is all ours, too high when it is not.
            # The lowest recent ratio is the better bound; a higher one is followed only gradually.
            ratio = pct / counted
            st.cost = ratio if st.cost <= 0 or ratio < st.cost else st.cost + 0.25 * (ratio - st.cost)
        st.pct, st.ref, st.ref_seq, st.expired_since = pct, ticket.start, ticket.seq, 0
        st.peak = max(st.peak, pct)
        key = scope[0]
        self.stats.peak_pct[key] = max(self.stats.peak_pct.get(key, 0.0), pct)

    def _block(self, scope: Scope, seconds: float, now: float) -> None:
        st = self._state(scope)
        until = now + min(seconds, self.max_wait_s)
        if until > st.blocked_until:
            st.blocked_until = until
            self.stats.blocks_by_scope[scope[0]] += 1

    def on_throttle(self, ticket: Ticket | None, code: int | None, subcode: int | None, headers: Any = None) -> float:
        """A call was throttled: block the scope the error names. Returns the seconds it waits."""
        usage = parse_usage(headers)
        with self._lock:
            now = self._clock()
            self.stats.throttle_errors += 1
            self.stats.throttles_by_code[code or 0] += 1
            workspace = ticket.workspace_id if ticket else None
            account = ticket.account_id if ticket else None
            insights = ticket.insights if ticket else False
            business = self._business.get(account) if account else None
            scopes: list[Scope] = []
            if code == 4:
                scopes.append(INSIGHTS_APP if insights else APP)
            elif account and (code == 613 or (code == 17 and subcode == 2446079)):
                scopes.append(("account", account))
            elif code is not None and 80000 <= code <= 80008:
                use_case = _BUC_OF_CODE.get(code) or ("ads_insights" if insights else "ads_management")
                if business:
                    scopes.append(("buc", business, use_case))
                elif account:
                    scopes.append(("account", account))
                if insights and account:
                    scopes.append(("insights_account", account))
            if not scopes:  # 17 (user), 32, or no account to pin it on: the token's scope
                scopes.append(("workspace", workspace) if workspace else APP)
            hinted = max((s for _, s in usage.regain(account)), default=0.0) if usage else 0.0
            wait = 0.0
            for scope in scopes:
                st = self._state(scope)
                if hinted > 0:
                    seconds = hinted
                else:
                    seconds = min(self.max_wait_s, self.fallback_s * 2**st.strikes)
                    seconds *= 0.75 + 0.5 * self._rng.random()  # jitter: throttled callers must not return together
                st.strikes += 1
                self._block(scope, seconds, now)
                wait = max(wait, st.blocked_until - now)
            return wait

    def blocked(self) -> dict[Scope, float]:
        """Scopes blocked right now, with the seconds left."""
        with self._lock:
            now = self._clock()
            return {s: st.blocked_until - now for s, st in self._states.items() if st.blocked_until > now}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "throttle_errors": self.stats.throttle_errors,
                "throttles_by_code": dict(self.stats.throttles_by_code),
                "waits": self.stats.waits,
                "waited_s": round(self.stats.waited_s, 3),
                "blocks_by_scope": dict(self.stats.blocks_by_scope),
                "peak_pct": dict(self.stats.peak_pct),
            }


def _sleep(seconds: float, stop: threading.Event | None) -> bool:
    if stop is not None:
        return stop.wait(seconds)
    time.sleep(seconds)
    return False


# ---- header parsing -----------------------------------------------------------------------------------------


@dataclass
class Usage:
    """The usage headers of one reply, parsed."""

    app: float | None = None
    account: float | None = None
    account_reset_s: float = 0.0
    insights_app: float | None = None
    insights_account: float | None = None
    # business -> use case -> (percent, seconds to regain access)
    businesses: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.app, self.account, self.insights_app, self.insights_account)) or bool(
            self.businesses
        )

    def pcts(self, account: str | None) -> list[tuple[Scope, float]]:
        out: list[tuple[Scope, float]] = []
        if self.app is not None:
            out.append((APP, self.app))
        if self.insights_app is not None:
            out.append((INSIGHTS_APP, self.insights_app))
        if account and self.account is not None:
            out.append((("account", account), self.account))
        if account and self.insights_account is not None:
            out.append((("insights_account", account), self.insights_account))
        for business, cases in self.businesses.items():
            for use_case, (pct, _) in cases.items():
                out.append((("buc", business, use_case), pct))
        return out

    def regain(self, account: str | None) -> list[tuple[Scope, float]]:
        out: list[tuple[Scope, float]] = []
        if account and self.account_reset_s > 0 and (self.account or 0) >= 100:
            out.append((("account", account), self.account_reset_s))
        for business, cases in self.businesses.items():
            for use_case, (_, seconds) in cases.items():
                if seconds > 0:
                    out.append((("buc", business, use_case), seconds))
        return out


def _headers_dict(headers: Mapping[str, Any] | Iterable[Any] | None) -> dict[str, str]:
    if not headers:
        return {}
    if isinstance(headers, Mapping):
        return {str(k).lower(): str(v) for k, v in headers.items()}
    out = {}
    for item in headers:  # batch items: [{"name": ..., "value": ...}]
        if isinstance(item, Mapping) and "name" in item:
            out[str(item["name"]).lower()] = str(item.get("value", ""))
    return out


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_usage(headers: Mapping[str, Any] | Iterable[Any] | None) -> Usage:
    """The four usage headers of a reply; malformed or missing parts are left out, never raised."""
    h = _headers_dict(headers)
    usage = Usage()
    app = _json(h.get("x-app-usage"))
    if isinstance(app, Mapping):
        values = [_num(app.get(k)) for k in ("call_count", "total_time", "total_cputime")]
        present = [v for v in values if v is not None]
        usage.app = max(present) if present else None
    account = _json(h.get("x-ad-account-usage"))
    if isinstance(account, Mapping):
        usage.account = _num(account.get("acc_id_util_pct"))
        usage.account_reset_s = _num(account.get("reset_time_duration")) or 0.0
    throttle = _json(h.get("x-fb-ads-insights-throttle"))
    if isinstance(throttle, Mapping):
        usage.insights_app = _num(throttle.get("app_id_util_pct"))
        usage.insights_account = _num(throttle.get("acc_id_util_pct"))
    buc = _json(h.get("x-business-use-case-usage"))
    if isinstance(buc, Mapping):
        for business, entries in buc.items():
            if not isinstance(entries, list):
                continue
            cases: dict[str, tuple[float, float]] = {}
            for e in entries:
                if not isinstance(e, Mapping) or not e.get("type"):
                    continue
                values = [_num(e.get(k)) for k in ("call_count", "total_time", "total_cputime")]
                present = [v for v in values if v is not None]
                minutes = _num(e.get("estimated_time_to_regain_access")) or 0.0
                cases[str(e["type"])] = (max(present) if present else 0.0, minutes * 60.0)
            if cases:
                usage.businesses[str(business)] = cases
    return usage
