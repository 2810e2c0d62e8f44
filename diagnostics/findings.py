"""What a detector reports: a finding about one entity over one period, with the numbers behind it."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from dates import Window

Severity = Literal["info", "warning", "high"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "high": 2}
Level = Literal["account", "campaign", "adset", "ad"]
LEVELS: tuple[str, ...] = ("account", "campaign", "adset", "ad")

FINDING_TYPES = (
    "cpa_increase",
    "roas_decrease",
    "ctr_drop",
    "creative_fatigue",
    "zero_conversions",
    "tracking_breakage",
    "budget_pacing",
    "concentration",
    "breakdown_outlier",
    # delivery and state (from the dims)
    "ad_disapproved",
    "ad_with_issues",
    "ad_not_delivering",
    "account_disabled",
    "account_unpaid",
    "spend_cap",
    "learning_limited",
    "lifetime_budget_pacing",
    # measurement and market
    "value_tracking_break",
    "auction_cost_spike",
)


@dataclass(frozen=True)
class Entity:
    level: Level
    id: str
    name: str | None = None
    # A breakdown cell inside the entity, e.g. (("age", "55-64"), ("gender", "male")); None for the whole entity.
    breakdown: tuple[tuple[str, str], ...] | None = None

    @property
    def breakdown_dict(self) -> dict[str, str] | None:
        return dict(self.breakdown) if self.breakdown is not None else None


def _clean(value: float | None) -> float | None:
    # Rounded so the stored evidence and the narrator's input hash do not move with float noise in the last digits.
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 6)


@dataclass(frozen=True)
class Metric:
    """One evidence number: its value in the current window and, where compared, in the baselines."""

    name: str
    current: float | None
    previous: float | None = None
    trailing: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.name, "current": _clean(self.current)}
        if self.previous is not None:
            out["previous"] = _clean(self.previous)
        if self.trailing is not None:
            out["trailing"] = _clean(self.trailing)
        return out


@dataclass(frozen=True)
class Finding:
    workspace_id: str
    finding_type: str
    severity: Severity
    entity: Entity
    account_id: str
    currency: str | None
    # The window judged ("current") and the windows it was compared with; conversion-based findings use matured
    # windows, so their current window ends maturity_days before the account's newest day.
    period: Window
    previous: Window | None
    trailing: Window | None
    evidence: tuple[Metric, ...]
    campaign_id: str | None = None
    adset_id: str | None = None
    # Facts for the narrator that are not metrics (objective, budget type, breakdown dimension, thresholds used).
    context: tuple[tuple[str, str | float | int | None], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.finding_type not in FINDING_TYPES:
            raise ValueError(f"unknown finding type {self.finding_type!r}")
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def finding_id(self) -> str:
        """Same workspace, type, entity and period → same id, on any machine and any night."""
        key = [
            self.workspace_id,
            self.finding_type,
            self.entity.level,
            self.entity.id,
            self.entity.breakdown_dict,
            self.period.start.isoformat(),
            self.period.end.isoformat(),
        ]
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        return digest[:24]

    def evidence_dicts(self) -> list[dict[str, Any]]:
        return [m.as_dict() for m in self.evidence]

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.evidence if m.name == name), None)

    @property
    def ancestors(self) -> tuple[tuple[str, str], ...]:
        """(level, id) of the entity's parents, outermost first."""
        chain: list[tuple[str, str]] = [("account", self.account_id)]
        if self.campaign_id and self.entity.level in ("adset", "ad"):
            chain.append(("campaign", self.campaign_id))
        if self.adset_id and self.entity.level == "ad":
            chain.append(("adset", self.adset_id))
        return tuple(c for c in chain if c != (self.entity.level, self.entity.id))

    def sort_key(self) -> tuple[int, str, int, str, str]:
        return (
            -SEVERITY_RANK[self.severity],
            self.finding_type,
            LEVELS.index(self.entity.level),
            self.entity.id,
            json.dumps(self.entity.breakdown_dict, sort_keys=True),
        )


def grade(value: float, warning: float, high: float) -> Severity | None:
    """Severity of a deterioration `value` (larger is worse) against two thresholds; None below both."""
    if value >= high:
        return "high"
    if value >= warning:
        return "warning"
    return None


def keep_most_specific(findings: Iterable[Finding]) -> list[Finding]:
    """Drop a finding when a descendant entity has a finding of the same type: the ad set whose CPA doubled is the
    news, not the campaign that averages it in."""
    items = list(findings)
    flagged = {(f.finding_type, a) for f in items if f.entity.breakdown is None for a in f.ancestors}
    return [f for f in items if f.entity.breakdown is not None or (f.finding_type, _key(f)) not in flagged]


def keep_most_general(findings: Iterable[Finding]) -> list[Finding]:
    """Drop a finding when an ancestor has a finding of the same type: a broken pixel shows in every campaign of the
    account, and one account-level finding is the actionable one."""
    items = list(findings)
    keys = {(f.finding_type, _key(f)) for f in items if f.entity.breakdown is None}
    return [f for f in items if not any((f.finding_type, a) in keys for a in f.ancestors)]


def _key(f: Finding) -> tuple[str, str]:
    return (f.entity.level, f.entity.id)
