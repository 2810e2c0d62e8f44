"""A picture per finding: the daily series behind it (the judged metric over the baseline and the current window,
the anomalous days marked), or for a breakdown outlier the cells side by side. Read after detection, for the
findings' entities only (one query per level), and rendered by `diagnostics.svg`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from diagnostics.config import DiagnosticsConfig
from diagnostics.detectors_budget import budget_on
from diagnostics.detectors_market import weekday_baseline
from diagnostics.findings import Finding
from diagnostics.mart_types import ADDITIVE, MartData, Sums
from diagnostics.marts import FCT_AD, MARTS
from diagnostics.svg import Band, BarChart, LineChart, render_bars, render_line

Daily = dict[date, Sums]


def _pct(x: float | None) -> float | None:
    return None if x is None else 100 * x


def _cpm(s: Sums) -> float | None:
    return 1000 * s.spend / s.impressions if s.impressions else None


# finding type -> (axis label, value of one day)
METRICS: dict[str, tuple[str, Callable[[Sums], float | None]]] = {
    "cpa_increase": ("CPA", lambda s: s.cpa),
    "roas_decrease": ("ROAS", lambda s: s.roas),
    "ctr_drop": ("CTR %", lambda s: _pct(s.ctr)),
    "creative_fatigue": ("CTR %", lambda s: _pct(s.ctr)),
    "zero_conversions": ("spend", lambda s: s.spend),
    "tracking_breakage": ("conv. / link click %", lambda s: _pct(s.cvr)),
    "value_tracking_break": (
        "value / conversion",
        lambda s: s.conversion_value / s.conversions if s.conversions else None,
    ),
    "budget_pacing": ("spend", lambda s: s.spend),
    "lifetime_budget_pacing": ("spend", lambda s: s.spend),
    "concentration": ("spend", lambda s: s.spend),
    "auction_cost_spike": ("CPM", _cpm),
    "ad_disapproved": ("impressions", lambda s: s.impressions),
    "ad_with_issues": ("impressions", lambda s: s.impressions),
    "ad_not_delivering": ("impressions", lambda s: s.impressions),
    "account_disabled": ("spend", lambda s: s.spend),
    "account_unpaid": ("spend", lambda s: s.spend),
    "spend_cap": ("spend", lambda s: s.spend),
    "learning_limited": ("conversions", lambda s: s.conversions),
}
CHART_DAYS = 42  # at most six weeks on the x axis


def chart_findings(
    warehouse: Any, data: MartData, findings: Sequence[Finding], config: DiagnosticsConfig
) -> dict[str, str]:
    """finding_id -> SVG for every finding. The entities' daily sums come from one query per level."""
    series = _read_daily(warehouse, data, findings)
    out: dict[str, str] = {}
    for f in findings:
        if f.finding_type == "breakdown_outlier":
            out[f.finding_id] = render_bars(_cells(data, f))
        else:
            daily = series.get((f.entity.level, f.entity.id), {})
            out[f.finding_id] = render_line(line_chart(data, f, daily, config))
    return out


def _title(f: Finding, label: str) -> str:
    level = {"adset": "ad set"}.get(f.entity.level, f.entity.level)
    return f"{label}: {level} {f.entity.name or f.entity.id}"[:90]


def line_chart(data: MartData, f: Finding, daily: Daily, config: DiagnosticsConfig) -> LineChart:
    label, value = METRICS.get(f.finding_type, ("spend", lambda s: s.spend))
    account = data.accounts.get(f.account_id)
    end = account.windows.last_day if account else f.period.end
    starts = [w.start for w in (f.trailing, f.previous, f.period) if w is not None]
    start = max(min([*starts, end - timedelta(days=27)]), end - timedelta(days=CHART_DAYS - 1))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    values = [value(daily.get(d, Sums())) for d in days]
    marked = {d for d in days if f.period.start <= d <= f.period.end}
    if f.finding_type == "zero_conversions":
        marked = {d for d in marked if daily.get(d, Sums()).spend > 0 and not daily.get(d, Sums()).conversions}
    bands = [Band(k, w.start, w.end) for k, w in (("trailing", f.trailing), ("previous", f.previous)) if w is not None]
    bands.append(Band("current", f.period.start, f.period.end))
    reference, ref_label = _reference(data, f, days, daily, config)
    return LineChart(
        title=_title(f, label),
        metric=label,
        days=days,
        values=values,
        bands=bands,
        reference=reference,
        reference_label=ref_label,
        marked=frozenset(marked),
    )


def _reference(
    data: MartData, f: Finding, days: list[date], daily: Daily, config: DiagnosticsConfig
) -> tuple[list[float | None] | None, str | None]:
    if f.finding_type == "budget_pacing":
        versions = data.budget_history.get((f.entity.level, f.entity.id), [])
        latest = f.metric("daily_budget")
        if versions:
            return [budget_on(versions, d)[0] for d in days], "daily budget (history)"
        return [latest.current if latest else None] * len(days), "daily budget (latest)"
    if f.finding_type == "lifetime_budget_pacing":
        even = f.metric("even_pace_daily")
        return [even.current if even else None] * len(days), "even pace"
    if f.finding_type == "auction_cost_spike":
        account_daily = data.account_daily.get(f.account_id, {})
        ref: list[float | None] = []
        for d in days:
            base = weekday_baseline(account_daily, d, config.cpm_baseline_weeks)
            ref.append(sorted(base)[len(base) // 2] if base else None)
        return ref, "same weekday, weeks before"
    return None, None


def _cells(data: MartData, f: Finding) -> BarChart:
    dimension = dict(f.context).get("dimension")
    judged = dict(f.context).get("judged", "cpa")
    members = [c for c in data.breakdowns.get(str(dimension), []) if c.campaign_id == f.entity.id]
    members.sort(key=lambda c: c.cell)
    labels = [" ".join(v for _, v in c.cell) for c in members]
    values = [(c.sums.roas if judged == "roas" else c.sums.cpa) for c in members]
    marked = frozenset(i for i, c in enumerate(members) if c.cell == f.entity.breakdown)
    metric = "ROAS" if judged == "roas" else "CPA"
    return BarChart(_title(f, f"{metric} by {dimension}"), metric, labels, values, marked)


def _read_daily(warehouse: Any, data: MartData, findings: Sequence[Finding]) -> dict[tuple[str, str], Daily]:
    out: dict[tuple[str, str], Daily] = {}
    for f in findings:
        if f.entity.level == "account":
            out[("account", f.entity.id)] = data.account_daily.get(f.entity.id, {})
    if not data.accounts:
        return out
    lo = min(a.windows.lookback.start for a in data.accounts.values())
    hi = max(a.windows.last_day for a in data.accounts.values())
    for level, key in (("campaign", "campaign_id"), ("adset", "adset_id"), ("ad", "ad_id")):
        ids = sorted({f.entity.id for f in findings if f.entity.level == level})
        if not ids:
            continue
        params: dict[str, Any] = {f"e{i}": entity_id for i, entity_id in enumerate(ids)}
        placeholders = ", ".join(f"@e{i}" for i in range(len(ids)))
        rows = warehouse.query(
            f"select {key} as entity_id, date_day, "
            + ", ".join(f"sum(coalesce({m}, 0)) as {m}" for m in ADDITIVE)
            + f" from {warehouse.table_ref(MARTS, FCT_AD)} where workspace_id = @ws and date_day between @lo and @hi "
            f"and {key} in ({placeholders}) group by {key}, date_day",
            {"ws": data.workspace_id, "lo": lo, "hi": hi, **params},
            labels={"sentrum_component": "diagnostics"},
        )
        for r in rows:
            sums = Sums(**{m: float(r[m] or 0) for m in ADDITIVE})
            out.setdefault((level, r["entity_id"]), {})[r["date_day"]] = sums
    return out
