"""Delivery problems read from the objects' state (the dims) next to what the facts show: ads disapproved or with
issues, active ads that stopped delivering, accounts disabled or unpaid, spend caps nearly reached, ad sets stuck in
learning. State is the latest snapshot, so these findings judge "now" (the account's newest day)."""

from __future__ import annotations

from datetime import timedelta

from dates import Window
from diagnostics.config import DiagnosticsConfig
from diagnostics.detect_common import active, make_finding
from diagnostics.findings import Finding, Metric, Severity, grade
from diagnostics.mart_types import EntityStats, MartData, Sums

# Meta account_status codes: cannot deliver at all vs. a payment to settle (IN_GRACE_PERIOD still delivers).
DISABLED = {2: "high", 100: "high", 101: "high", 7: "warning"}  # DISABLED, PENDING_CLOSURE, CLOSED, RISK_REVIEW
UNPAID = {3: "high", 8: "warning", 9: "warning"}  # UNSETTLED, PENDING_SETTLEMENT, IN_GRACE_PERIOD


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _ad_stats(data: MartData, ad_id: str) -> EntityStats | None:
    stats = data.ads.get(ad_id)
    if stats is not None:
        return stats
    dim = data.ad_dims[ad_id]
    if dim.account_id not in data.accounts:
        return None
    return EntityStats("ad", ad_id, dim.account_id, dim.campaign_id, dim.adset_id, dim.name)


def detect_ad_delivery(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """- `ad_disapproved` / `ad_with_issues`: the ad's effective_status, for ads that spent in the lookback or were
      created in it (an ad rejected a year ago is history, not news). A disapproved ad that carried
      `rejected_share_high` of its ad set's spend the week before is high: the ad set lost its delivery.
    - `ad_not_delivering`: an ACTIVE ad (so its ad set and campaign are active too) with zero impressions on the
      newest `stall_days` while its account delivered on those days, that delivered before or was created before
      them. High when it carried `stall_share_high` of its ad set's spend the week before."""
    out: list[Finding] = []
    for ad_id, dim in data.ad_dims.items():
        stats = _ad_stats(data, ad_id)
        if stats is None:
            continue
        account = data.accounts[stats.account_id]
        last = account.windows.last_day
        look = account.windows.lookback
        adset = data.adsets.get(stats.adset_id or "")
        # the share of its ad set's spend the ad carried the week before: what the ad set stands to lose
        share = _share(stats.sums["prev"].spend, adset.sums["prev"].spend if adset else 0.0)
        spent_lately = stats.sums["trail"].spend + stats.sums["prev"].spend + stats.sums["cur"].spend > 0
        recent_creation = dim.created_day is not None and dim.created_day >= look.start
        evidence = [
            Metric("spend", stats.sums["cur"].spend, stats.sums["prev"].spend, stats.sums["trail"].spend),
            Metric("impressions", stats.sums["cur"].impressions, stats.sums["prev"].impressions),
            Metric("share_of_adset_spend_previous", share),
        ]
        context: list[tuple[str, str | float | int | None]] = [("effective_status", dim.effective_status)]
        kind: str | None = None
        severity: Severity = "warning"
        if dim.effective_status in ("DISAPPROVED", "WITH_ISSUES") and (spent_lately or recent_creation):
            kind = "ad_disapproved" if dim.effective_status == "DISAPPROVED" else "ad_with_issues"
            if kind == "ad_disapproved" and share >= config.rejected_share_high:
                severity = "high"
        elif dim.effective_status == "ACTIVE":
            stalled = stats.daily[-config.stall_days :] if stats.daily else []
            account_days = [
                data.account_daily.get(stats.account_id, {}).get(last - timedelta(days=i))
                for i in range(config.stall_days)
            ]
            account_delivered = all(s is not None and s.impressions > 0 for s in account_days)
            old_enough = dim.created_day is None or dim.created_day <= last - timedelta(days=config.stall_days + 1)
            delivered_before = stats.sums["prev"].impressions + stats.sums["trail"].impressions > 0
            if (
                account_delivered
                and old_enough
                and (delivered_before or dim.created_day is not None)
                and sum(d.impressions for d in stalled) == 0
            ):
                kind = "ad_not_delivering"
                severity = "high" if share >= config.stall_share_high else "warning"
                context.append(("days_without_impressions", config.stall_days))
        if kind is None:
            continue
        period = Window(last - timedelta(days=config.stall_days - 1), last) if kind == "ad_not_delivering" else None
        out.append(
            make_finding(data, stats, kind, severity, ("cur", "prev", "trail"), evidence, context, period=period)
        )
    return out


def detect_account_state(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """`account_disabled` / `account_unpaid` from dim_ad_accounts.account_status, for every account of the workspace,
    stale ones included (a disabled account stops delivering, so its data goes stale: exactly when it matters)."""
    out: list[Finding] = []
    for account_id, dim in data.account_dims.items():
        code = dim.status
        if code in DISABLED:
            kind, severity = "account_disabled", DISABLED[code]
        elif code in UNPAID:
            kind, severity = "account_unpaid", UNPAID[code]
        else:
            continue
        account = data.accounts.get(account_id)
        last = account.windows.last_day if account else data.as_of
        assert last is not None  # as_of is set by the reader
        daily = data.account_daily.get(account_id, {})
        recent = Sums()
        for i in range(config.window_days):
            recent.add(daily.get(last - timedelta(days=i), Sums()))
        stats = data.account_stats.get(account_id) or EntityStats("account", account_id, account_id, name=dim.name)
        stats.name = stats.name or dim.name
        newest = max((d for d, s in daily.items() if s.spend > 0), default=None)
        out.append(
            make_finding(
                data,
                stats,
                kind,
                severity,  # type: ignore[arg-type]
                ("cur", None, None),
                [
                    Metric("account_status", code),
                    Metric("spend", recent.spend),
                    Metric("impressions", recent.impressions),
                    *([Metric("disable_reason", dim.disable_reason)] if dim.disable_reason is not None else []),
                ],
                [
                    ("account_status_name", dim.status_name),
                    ("last_spend_day", newest.isoformat() if newest else None),
                    ("stale", account is None),
                ],
                period=Window(last, last),
                currency=dim.currency,
            )
        )
    return out


def detect_spend_cap(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """`spend_cap`: the account's spend cap (when the dim has `spend_cap` and `amount_spent`, major units; a cap of 0
    means none) runs out within `spend_cap_warning_days` / `spend_cap_high_days` at the current window's daily
    spend, or is reached. Meta stops every ad of the account at the cap."""
    out: list[Finding] = []
    for account_id, dim in data.account_dims.items():
        if not dim.spend_cap or dim.amount_spent is None or account_id not in data.accounts:
            continue
        stats = data.account_stats.get(account_id)
        if stats is None:
            continue
        per_day = stats.sums["cur"].spend / data.accounts[account_id].windows.windows["cur"].days
        remaining = max(dim.spend_cap - dim.amount_spent, 0.0)
        days_left = remaining / per_day if per_day > 0 else float("inf")
        severity = grade(-days_left, -config.spend_cap_warning_days, -config.spend_cap_high_days)
        if severity is None:
            continue
        out.append(
            make_finding(
                data,
                stats,
                "spend_cap",
                severity,
                ("cur", None, None),
                [
                    Metric("spend_cap", dim.spend_cap),
                    Metric("amount_spent", dim.amount_spent),
                    Metric("remaining", remaining),
                    Metric("avg_daily_spend", per_day),
                    Metric("days_left", days_left if days_left != float("inf") else None),
                    Metric("cap_used", dim.amount_spent / dim.spend_cap),
                ],
                [("threshold_days", config.spend_cap_warning_days)],
            )
        )
    return out


def detect_learning(data: MartData, config: DiagnosticsConfig) -> list[Finding]:
    """`learning_limited`, from `learning_stage_info` on active, spending ad sets (dim_adsets.learning_stage_status;
    silent while the extraction does not provide it):
    - status FAIL ("Learning limited" in Ads Manager): warning; high when the ad set counts fewer than a fifth of the
      `learning_weekly_events` it needs (it will not get out by itself);
    - status LEARNING `learning_stuck_days` or more after the last significant edit, with fewer weekly events than
      needed: warning (stuck in learning).
    Weekly events: learning_stage_info.conversions when given, else the ad set's conversions in the matured week."""
    out: list[Finding] = []
    for adset_id, dim in data.adset_dims.items():
        stats = data.adsets.get(adset_id)
        if dim.learning_status is None or stats is None or not active(dim.status, dim.effective_status):
            continue
        if stats.sums["cur"].spend <= 0 or stats.account_id not in data.accounts:
            continue
        last = data.accounts[stats.account_id].windows.last_day
        events = dim.learning_conversions if dim.learning_conversions is not None else stats.sums["ccur"].conversions
        since_edit = (last - dim.learning_last_edit_day).days if dim.learning_last_edit_day else None
        severity: Severity | None = None
        if dim.learning_status == "FAIL":
            severity = "high" if events < config.learning_weekly_events / 5 else "warning"
        elif (
            dim.learning_status == "LEARNING"
            and since_edit is not None
            and since_edit >= config.learning_stuck_days
            and events < config.learning_weekly_events
        ):
            severity = "warning"
        if severity is None:
            continue
        out.append(
            make_finding(
                data,
                stats,
                "learning_limited",
                severity,
                ("cur", None, None),
                [
                    Metric("weekly_optimisation_events", events),
                    Metric("events_needed", config.learning_weekly_events),
                    Metric("spend", stats.sums["cur"].spend),
                    Metric("days_since_significant_edit", since_edit),
                ],
                [
                    ("learning_status", dim.learning_status),
                    ("optimization_goal", dim.optimization_goal),
                    ("events_source", "learning_stage_info" if dim.learning_conversions is not None else "marts"),
                ],
            )
        )
    return out
