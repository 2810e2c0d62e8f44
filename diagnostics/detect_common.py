"""Shared pieces of the detectors: relative changes, the noise floor, and building a `Finding` from an entity's
stats and its account's windows."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from dates import Window
from diagnostics.config import DiagnosticsConfig
from diagnostics.findings import Entity, Finding, Metric, Severity
from diagnostics.mart_types import Account, EntityStats, MartData, Sums

Detector = Callable[[MartData, DiagnosticsConfig], list[Finding]]


def noise_floor(config: DiagnosticsConfig, events: float) -> float:
    """Relative change a Poisson count of `events` makes by chance at `noise_z` standard errors."""
    return config.noise_z / math.sqrt(events) if events > 0 else math.inf


def drop(current: float | None, baseline: float | None) -> float | None:
    """Relative fall from baseline to current (0.3 = 30% lower); None when not comparable."""
    if current is None or not baseline:
        return None
    return 1.0 - current / baseline


def rise(current: float | None, baseline: float | None) -> float | None:
    if current is None or not baseline:
        return None
    return current / baseline - 1.0


def make_finding(
    data: MartData,
    stats: EntityStats,
    finding_type: str,
    severity: Severity,
    windows: tuple[str, str | None, str | None],
    evidence: Iterable[Metric],
    context: Iterable[tuple[str, Any]] = (),
    breakdown: tuple[tuple[str, str], ...] | None = None,
    period: Window | None = None,
    currency: str | None = None,
) -> Finding:
    """`windows` names the account's windows (current, previous, trailing); `period` overrides the current one (a
    state finding about a stale account has no windows of its own)."""
    account: Account | None = data.accounts.get(stats.account_id)
    w = account.windows.windows if account else {}
    cur, prev, trail = windows
    return Finding(
        workspace_id=data.workspace_id,
        finding_type=finding_type,
        severity=severity,
        entity=Entity(stats.level, stats.id, stats.name, breakdown),  # type: ignore[arg-type]
        account_id=stats.account_id,
        currency=account.currency if account else currency,
        period=period or w[cur],
        previous=w[prev] if prev and w else None,
        trailing=w[trail] if trail and w else None,
        evidence=tuple(evidence),
        campaign_id=stats.campaign_id if stats.level in ("adset", "ad") else None,
        adset_id=stats.adset_id if stats.level == "ad" else None,
        context=tuple(context),
    )


def campaign_of(stats: EntityStats) -> str | None:
    return stats.id if stats.level == "campaign" else stats.campaign_id


def cpm(s: Sums) -> float | None:
    return 1000 * s.spend / s.impressions if s.impressions else None


def active(status: str | None, effective_status: str | None) -> bool:
    return (effective_status or status) == "ACTIVE"
