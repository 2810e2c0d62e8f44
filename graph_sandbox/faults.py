"""Fault injection: the trouble Meta's API really causes, at fixed rates and reproducible from a seed.

    FaultSpec.parse("transient=0.05,ratelimit=0.02,jobfail=0.1,stuck=0.05,badjson=0.01,expired_token=act_1001")

| key | effect |
|---|---|
| `transient=P` | a call fails with a transient error: 1 (HTTP 500), 2 "temporarily unavailable" (HTTP 503) |
| `ratelimit=P` | a call is refused as throttled: 80000 / 80004 (estimated_time_to_regain_access), |
|   | 17 / 2446079 (reset_time_duration), 613, 4 |
| `badjson=P` | a call answers HTTP 200 with a truncated, unparseable JSON body (in a batch: one item's body) |
| `jobfail=P` | an async report run ends "Job Failed" (error_code 2 / 1504038, too much data) |
| `jobskip=P` | an async report run ends "Job Skipped" ("Job has expired and skipped. Please resubmit") |
| `stuck=P` | an async report run stops progressing (at some percent, or at 100% "Job Running") and never completes |
| `expired_token=act_X[+act_Y]` | every call about that account answers 190 / 463 (session expired) |
| `poison=AD@YYYY-MM-DD[:field][+...]` | any insights request covering that ad on that day (and asking for |
|   | `field`, if given) fails, however it is split: a permanently unreadable slice |
| `ratelimit_wait=S` | seconds the injected throttles ask to wait (default 2) |
| `seed=N` | the seed of the draws (default 0) |

A draw depends on the seed, the request (method, path, parameters without secrets) and how many times that very
request was made before, never on thread timing: the same run of requests meets the same faults. Retries are new
draws, so a retried call eventually passes.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from graph_sandbox.graph_errors import GraphError
from graph_sandbox.rng import stable_unit

RATE_KEYS = ("transient", "ratelimit", "jobfail", "stuck", "badjson", "jobskip")


@dataclass(frozen=True)
class Poison:
    """An ad-day (optionally one field of it) that no insights request can read."""

    ad_id: str
    day: date
    field: str | None = None

    @classmethod
    def parse(cls, text: str) -> Poison:
        try:
            ad_id, rest = text.split("@", 1)
            day_text, _, field_name = rest.partition(":")
            return cls(ad_id.strip(), date.fromisoformat(day_text.strip()), field_name.strip() or None)
        except ValueError:
            raise ValueError(f"poison must look like AD_ID@YYYY-MM-DD[:field], not {text!r}") from None


@dataclass(frozen=True)
class FaultSpec:
    transient: float = 0.0
    ratelimit: float = 0.0
    jobfail: float = 0.0
    stuck: float = 0.0
    badjson: float = 0.0
    jobskip: float = 0.0
    expired_token: frozenset[str] = frozenset()
    poison: tuple[Poison, ...] = ()
    ratelimit_wait: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        for key in RATE_KEYS:
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {key}={value} is not between 0 and 1")
        if self.transient + self.ratelimit + self.badjson > 1.0:
            raise ValueError("transient + ratelimit + badjson must not exceed 1")
        if self.jobfail + self.stuck + self.jobskip > 1.0:
            raise ValueError("jobfail + stuck + jobskip must not exceed 1")
        if self.ratelimit_wait < 0:
            raise ValueError("ratelimit_wait must not be negative")

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """`key=value` pairs separated by commas (see the module docstring); empty or None: no faults."""
        if not text or not text.strip():
            return cls()
        values: dict[str, object] = {}
        expired: set[str] = set()
        poisons: list[Poison] = []
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not value:
                raise ValueError(f"fault {part!r} is not key=value")
            if key in RATE_KEYS:
                try:
                    values[key] = float(value)
                except ValueError:
                    raise ValueError(f"fault rate {key}={value!r} is not a number") from None
            elif key == "expired_token":
                for account in value.split("+"):
                    account = account.strip()
                    if not account:
                        continue
                    expired.add(account if account.startswith("act_") else f"act_{account}")
            elif key == "poison":
                poisons.extend(Poison.parse(p) for p in value.split("+") if p.strip())
            elif key == "ratelimit_wait":
                values[key] = float(value)
            elif key == "seed":
                values[key] = int(value)
            else:
                known = ", ".join([*RATE_KEYS, "expired_token", "poison", "ratelimit_wait", "seed"])
                raise ValueError(f"unknown fault {key!r}; known: {known}")
        return cls(**values, expired_token=frozenset(expired), poison=tuple(poisons))  # type: ignore[arg-type]

    @property
    def active(self) -> bool:
        return bool(any(getattr(self, k) for k in RATE_KEYS) or self.expired_token or self.poison)


@dataclass
class CallFault:
    """What to do to one call: answer `error`, or (badjson) answer a truncated body."""

    kind: str
    error: GraphError | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


class FaultInjector:
    """Decides faults for calls and report runs; counts what it injected (`injected`)."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()

    def _draw(self, *parts: object) -> float:
        key = "\x1f".join(str(p) for p in parts)
        with self._lock:
            occurrence = self._seen[key]
            self._seen[key] += 1
        return stable_unit(self.spec.seed, "fault", key, occurrence)

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def expired(self, account_id: str | None) -> GraphError | None:
        if account_id is None or account_id not in self.spec.expired_token:
            return None
        self._count("expired_token")
        return GraphError(
            190,
            "Error validating access token: Session has expired on Thursday, 26-Nov-26 09:00:00 PST.",
            subcode=463,
        )

    def for_call(
        self, method: str, path: str, params: dict[str, str], *, insights: bool, business_id: str | None
    ) -> CallFault | None:
        """A fault for one call (params already without secrets), or None."""
        s = self.spec
        if not (s.transient or s.ratelimit or s.badjson):
            return None
        u = self._draw(method, path, json.dumps(params, sort_keys=True))
        if u < s.transient:
            self._count("transient")
            pick = stable_unit(s.seed, "transient-kind", u)
            if pick < 0.5:
                return CallFault("transient", GraphError(1, "An unknown error occurred", subcode=99, http_status=500))
            return CallFault(
                "transient", GraphError(2, "Service temporarily unavailable", transient=True, http_status=503)
            )
        if u < s.transient + s.ratelimit:
            self._count("ratelimit")
            return self._throttle(stable_unit(s.seed, "ratelimit-kind", u), insights, business_id)
        if u < s.transient + s.ratelimit + s.badjson:
            self._count("badjson")
            return CallFault("badjson")
        return None

    def _throttle(self, pick: float, insights: bool, business_id: str | None) -> CallFault:
        wait_s = self.spec.ratelimit_wait
        minutes = round(wait_s / 60, 4)
        if business_id and pick < 0.6:
            use_case = "ads_insights" if insights else "ads_management"
            code = 80000 if insights else 80004
            entry = {
                "type": use_case,
                "call_count": 100,
                "total_cputime": 40,
                "total_time": 60,
                "estimated_time_to_regain_access": minutes,
                "ads_api_access_tier": "standard_access",
            }
            return CallFault(
                "ratelimit",
                GraphError(code, "There have been too many calls to this ad-account. Wait a bit and try again."),
                {"x-business-use-case-usage": json.dumps({business_id: [entry]}, separators=(",", ":"))},
            )
        if pick < 0.8:
            usage = {
                "acc_id_util_pct": 100,
                "reset_time_duration": round(wait_s),
                "ads_api_access_tier": "standard_access",
            }
            return CallFault(
                "ratelimit",
                GraphError(17, "(#17) User request limit reached", subcode=2446079, transient=True),
                {"x-ad-account-usage": json.dumps(usage, separators=(",", ":"))},
            )
        if pick < 0.9:
            return CallFault("ratelimit", GraphError(613, "(#613) Calls to this api have exceeded the rate limit."))
        return CallFault("ratelimit", GraphError(4, "(#4) Application request limit reached", transient=True))

    def for_report_run(self, fingerprint: str) -> str | None:
        """ "fail", "stuck", "skip" or None for a new report run (drawn per request and occurrence, like calls)."""
        s = self.spec
        if not (s.jobfail or s.stuck or s.jobskip):
            return None
        u = self._draw("report-run", fingerprint)
        if u < s.jobfail:
            self._count("jobfail")
            return "fail"
        if u < s.jobfail + s.stuck:
            self._count("stuck")
            return "stuck"
        if u < s.jobfail + s.stuck + s.jobskip:
            self._count("jobskip")
            return "skip"
        return None

    def stuck_percent(self, fingerprint: str) -> int:
        """Where a stuck run stops: half of them at 100% (still "Job Running"), the others part-way."""
        u = stable_unit(self.spec.seed, "stuck-at", fingerprint)
        return 100 if u < 0.5 else 20 + int(u * 140) % 70

    def poisoned(self, ad_ids: set[str], since: date, until: date, fields: tuple[str, ...]) -> Poison | None:
        """The poison an insights request runs into (its ads, days and fields), if any."""
        for p in self.spec.poison:
            if p.ad_id in ad_ids and since <= p.day <= until and (p.field is None or p.field in fields):
                self._count("poison")
                return p
        return None
