"""Budgets: daily-budget pacing against the budget in force each day (from the budget history the raw entity
snapshots hold, `dim_budget_history`), and lifetime budgets paced against the days left to their end date.

Meta's documented delivery rule for daily budgets: a day may spend up to 75% over the daily budget, a calendar week
never more than 7 times it. So over a 7-day window spend above the budgets in force is impossible unless the budget
changed in a way the snapshots did not catch (or the spend is governed by another budget)."""

from __future__ import annotations

from datetime import date, timedelta

from diagnostics.config import DiagnosticsConfig
from diagnostics.detect_common import active, make_finding
from diagnostics.findings import Finding, Metric, Severity, grade
from diagnostics.mart_types import BudgetVersion, EntityStats, MartData

WEEKLY_CAP_DAYS = 7  # Meta: a week's spend stays within 7 x the daily budget


def budget_on(versions: list[BudgetVersion], day: date) -> tuple[float | None, bool]:
    """The daily budget in force on `day`, and whether the history actually covers that day (False: the day is
    before the first snapshot, so the oldest known budget is assumed)."""
    for v in versions:
        if v.valid_from <= day and (v.valid_to is None or day < v.valid_to):
            return v.daily_budget, True
    if versions and day < versions[0].valid_from:
        return versions[0].daily_budget, False
    return (versions[-1].daily_budget, False) if versions else (None, False)


def detect_budget_pacing(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Spend over the current window against the daily budget in force on each day the entity delivered (at least
    `pacing_min_days`), for active campaigns (budget optimisation) and active ad sets with a daily budget.
    With the budget history the finding says what changed and when (a raise the delivery has not caught up with, a
    cut that makes the week look over-paced); without it, only the latest budget is known and the finding says so
    instead of guessing."""
    candidates: list[tuple[EntityStats, float]] = []
    for cid, cdim in data.campaign_dims.items():
        if cdim.daily_budget and active(cdim.status, cdim.effective_status) and cid in data.campaigns:
            candidates.append((data.campaigns[cid], cdim.daily_budget))
    for sid, sdim in data.adset_dims.items():
        if sdim.daily_budget and active(sdim.status, sdim.effective_status) and sid in data.adsets:
            candidates.append((data.adsets[sid], sdim.daily_budget))
    out: list[Finding] = []
    for stats, latest in candidates:
        c = stats.sums["cur"]
        if c.spend <= 0 or stats.first_spend_day is None:
            continue
        window = data.accounts[stats.account_id].windows.windows["cur"]
        start = max(window.start, stats.first_spend_day)  # launched or resumed inside the window
        days = (window.end - start).days + 1
        if days < config.pacing_min_days:
            continue
        versions = data.budget_history.get((stats.level, stats.id), [])
        per_day = [budget_on(versions, start + timedelta(days=i)) for i in range(days)] if versions else []
        if per_day and all(b is not None for b, _ in per_day):
            expected = sum(b for b, _ in per_day if b is not None)
            first, last = per_day[0][0], per_day[-1][0]
            history = "complete" if all(covered for _, covered in per_day) else "partial"
        else:
            expected, first, last = latest * days, None, None
            history = "none"
        changes = [
            v for v in versions if v.valid_from > start and v.valid_from <= window.end and v.daily_budget is not None
        ]
        pacing = c.spend / expected
        if pacing >= config.pacing_over_info:
            direction = "over"
            # Over Meta's weekly cap with a complete history: the budgets recorded cannot explain the spend.
            beyond_cap = history == "complete" and not changes and pacing > 1.0 + 1e-9
            severity: Severity | None = "warning" if beyond_cap else "info"
        else:
            severity = grade(1.0 - pacing, 1.0 - config.pacing_under_warning, 1.0 - config.pacing_under_high)
            direction = "under"
        if severity is None:
            continue
        evidence = [
            Metric("pacing", pacing),
            Metric("spend", c.spend),
            Metric("expected_spend", expected),
            Metric("daily_budget", latest),
            Metric("avg_daily_spend", c.spend / days),
            Metric("days_delivering", days),
        ]
        if first is not None:
            evidence.append(Metric("budget_at_start", first))
        if last is not None:
            evidence.append(Metric("budget_at_end", last))
        context: list[tuple[str, str | float | int | None]] = [
            ("direction", direction),
            ("budget_level", stats.level),
            ("budget_history", history),
            ("budget_changes", len(changes)),
            ("last_change_day", changes[-1].valid_from.isoformat() if changes else None),
            ("weekly_cap_days", WEEKLY_CAP_DAYS),
        ]
        out.append(make_finding(data, stats, "budget_pacing", severity, ("cur", None, None), evidence, context))
    return out


def detect_lifetime_budgets(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """Active campaigns and ad sets with a lifetime budget and an end date still ahead: the spend since the start
    (read from the facts) plus the current window's daily rate times the days left, against the budget.
    - under: the projection reaches less than `lifetime_under_warning` (60%) / `lifetime_under_high` (30%) of the
      budget: the flight will end with money unspent;
    - early: at the current rate the budget runs out before `lifetime_exhaust_share` of the remaining days have
      passed: delivery will stop early (Meta paces toward the end date, so this means the pacing broke or the
      schedule was shortened)."""
    out: list[Finding] = []
    entities = [
        ("campaign", cid, c.lifetime_budget, c.start_day, c.end_day, c.status, c.effective_status)
        for cid, c in data.campaign_dims.items()
    ] + [
        ("adset", sid, a.lifetime_budget, a.start_day, a.end_day, a.status, a.effective_status)
        for sid, a in data.adset_dims.items()
    ]
    for level, entity_id, budget, start, end, status, effective in entities:
        stats = data.stats(level).get(entity_id)
        if not budget or start is None or end is None or stats is None or not active(status, effective):
            continue
        if (level, entity_id) not in data.lifetime_spend:
            continue
        window = data.accounts[stats.account_id].windows.windows["cur"]
        last = window.end
        elapsed, remaining = (last - start).days + 1, (end - last).days
        if remaining <= 0 or elapsed < config.pacing_min_days:
            continue
        spent = data.lifetime_spend[(level, entity_id)]
        rate = stats.sums["cur"].spend / min(window.days, elapsed)
        projected = spent + rate * remaining
        left = max(budget - spent, 0.0)
        days_of_budget = left / rate if rate > 0 else float("inf")
        share = projected / budget
        severity: Severity | None = grade(
            1.0 - share, 1.0 - config.lifetime_under_warning, 1.0 - config.lifetime_under_high
        )
        direction = "under"
        if severity is None and days_of_budget < config.lifetime_exhaust_share * remaining:
            severity, direction = "warning", "early"
        if severity is None:
            continue
        out.append(
            make_finding(
                data,
                stats,
                "lifetime_budget_pacing",
                severity,
                ("cur", None, None),
                [
                    Metric("projected_share_of_budget", share),
                    Metric("lifetime_budget", budget),
                    Metric("spent_to_date", spent),
                    Metric("avg_daily_spend", rate),
                    Metric("days_elapsed", elapsed),
                    Metric("days_remaining", remaining),
                    Metric("even_pace_daily", budget / (elapsed + remaining)),
                    Metric("days_of_budget_left", days_of_budget if days_of_budget != float("inf") else None),
                ],
                [("direction", direction), ("start_day", start.isoformat()), ("end_day", end.isoformat())],
            )
        )
    return out
