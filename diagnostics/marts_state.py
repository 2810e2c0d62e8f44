"""Readers of object state: the dims (statuses, budgets, schedules, learning stage), the budget history and the spend
of lifetime-budget entities since their start.

Columns added to the marts later (`spend_cap`, `amount_spent`, `disable_reason` on accounts; `learning_stage_status`,
`learning_stage_conversions`, `learning_stage_last_edit_at` on ad sets, extracted since issue 16 phase 2) are read
when the mart has them and are None otherwise (marts built before; ad sets Meta sent no learning_stage_info for): the
detectors that need them stay silent and say so in `skipped`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from diagnostics.mart_types import (
    AccountDim,
    AdDim,
    AdsetDim,
    BudgetVersion,
    CampaignDim,
    MartData,
    StateReader,
)

DIM_ACCOUNTS = "dim_ad_accounts"
DIM_CAMPAIGNS = "dim_campaigns"
DIM_ADSETS = "dim_adsets"
DIM_ADS = "dim_ads"
DIM_BUDGET_HISTORY = "dim_budget_history"
FCT_AD = "fct_ad_insights_daily"

# ad effective statuses the detectors judge (the rest are paused, archived, deleted, in review: nothing to flag)
AD_STATES = ("ACTIVE", "DISAPPROVED", "WITH_ISSUES")


def _num(value: Any) -> float | None:
    return float(value) if value is not None else None


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(UTC)).date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()


def read_account_dims(reader: StateReader, data: MartData) -> None:
    if not reader.present(DIM_ACCOUNTS):
        data.skipped[DIM_ACCOUNTS] = "mart not built yet: no account names, currencies or statuses"
        return
    cols = reader.select_columns(
        DIM_ACCOUNTS,
        ("account_id", "account_name", "account_currency", "timezone_name", "account_status")
        + ("disable_reason", "spend_cap", "amount_spent"),
    )
    for r in reader.query(f"select {cols} from {reader.ref(DIM_ACCOUNTS)} where workspace_id = @ws", {}):
        data.account_dims[r["account_id"]] = AccountDim(
            account_id=r["account_id"],
            name=r["account_name"],
            currency=r["account_currency"],
            timezone=r["timezone_name"],
            status=int(r["account_status"]) if r["account_status"] is not None else None,
            disable_reason=int(r["disable_reason"]) if r["disable_reason"] is not None else None,
            spend_cap=_num(r["spend_cap"]),
            amount_spent=_num(r["amount_spent"]),
        )


def read_dims(reader: StateReader, data: MartData) -> None:
    q, ref = reader.query, reader.ref
    if reader.present(DIM_CAMPAIGNS):
        cols = reader.select_columns(
            DIM_CAMPAIGNS,
            ("campaign_id", "account_id", "campaign_name", "objective", "status", "effective_status")
            + ("daily_budget", "lifetime_budget", "start_at", "stop_at"),
        )
        for r in q(f"select {cols} from {ref(DIM_CAMPAIGNS)} where workspace_id = @ws", {}):
            data.campaign_dims[r["campaign_id"]] = CampaignDim(
                campaign_id=r["campaign_id"],
                account_id=r["account_id"],
                name=r["campaign_name"],
                objective=r["objective"],
                status=r["status"],
                effective_status=r["effective_status"],
                daily_budget=_num(r["daily_budget"]),
                lifetime_budget=_num(r["lifetime_budget"]),
                start_day=_day(r["start_at"]),
                end_day=_day(r["stop_at"]),
            )
    else:
        data.skipped[DIM_CAMPAIGNS] = "mart not built yet: no campaign names, objectives or budgets"
    if reader.present(DIM_ADSETS):
        learning = ("learning_stage_status", "learning_stage_conversions", "learning_stage_last_edit_at")
        cols = reader.select_columns(
            DIM_ADSETS,
            ("adset_id", "campaign_id", "adset_name", "status", "effective_status", "daily_budget")
            + ("lifetime_budget", "start_at", "end_at", "optimization_goal", *learning),
        )
        if not reader.has_column(DIM_ADSETS, "learning_stage_status"):
            data.skipped["learning_stage_info"] = "dim_adsets has no learning_stage_status: no learning findings"
        for r in q(f"select {cols} from {ref(DIM_ADSETS)} where workspace_id = @ws", {}):
            data.adset_dims[r["adset_id"]] = AdsetDim(
                adset_id=r["adset_id"],
                campaign_id=r["campaign_id"],
                name=r["adset_name"],
                status=r["status"],
                effective_status=r["effective_status"],
                daily_budget=_num(r["daily_budget"]),
                lifetime_budget=_num(r["lifetime_budget"]),
                start_day=_day(r["start_at"]),
                end_day=_day(r["end_at"]),
                optimization_goal=r["optimization_goal"],
                learning_status=r["learning_stage_status"],
                learning_conversions=_num(r["learning_stage_conversions"]),
                learning_last_edit_day=_day(r["learning_stage_last_edit_at"]),
            )
    else:
        data.skipped[DIM_ADSETS] = "mart not built yet: no ad set names or budgets"
    if reader.present(DIM_ADS) and reader.has_column(DIM_ADS, "effective_status"):
        cols = reader.select_columns(
            DIM_ADS,
            ("ad_id", "account_id", "campaign_id", "adset_id", "ad_name", "status", "effective_status", "created_at"),
        )
        states = ", ".join(f"'{s}'" for s in AD_STATES)
        for r in q(
            f"select {cols} from {ref(DIM_ADS)} where workspace_id = @ws and effective_status in ({states})", {}
        ):
            data.ad_dims[r["ad_id"]] = AdDim(
                ad_id=r["ad_id"],
                account_id=r["account_id"],
                campaign_id=r["campaign_id"],
                adset_id=r["adset_id"],
                name=r["ad_name"],
                status=r["status"],
                effective_status=r["effective_status"],
                created_day=_day(r["created_at"]),
            )


def read_budgets(reader: StateReader, data: MartData) -> None:
    """The budget versions that overlap the lookback (so pacing knows the budget in force each day instead of
    guessing from the latest one), and the spend since start of every entity with a lifetime budget."""
    since = min(a.windows.lookback.start for a in data.accounts.values())
    if reader.present(DIM_BUDGET_HISTORY):
        data.has_budget_history = True
        rows = reader.query(
            "select object_level, object_id, daily_budget, lifetime_budget, valid_from, valid_to "
            f"from {reader.ref(DIM_BUDGET_HISTORY)} where workspace_id = @ws "
            "and (valid_to is null or valid_to >= @since)",
            {"since": datetime.combine(since, time(), tzinfo=UTC)},
        )
        for r in sorted(rows, key=lambda r: (r["object_level"], r["object_id"], _day(r["valid_from"]))):
            versions = data.budget_history.setdefault((r["object_level"], r["object_id"]), [])
            versions.append(
                BudgetVersion(
                    _num(r["daily_budget"]), _num(r["lifetime_budget"]), _day(r["valid_from"]), _day(r["valid_to"])
                )
            )
    else:
        data.skipped[DIM_BUDGET_HISTORY] = "mart not built yet: pacing judged against the latest budget only"
    _lifetime_spend(reader, data)


def _lifetime_spend(reader: StateReader, data: MartData) -> None:
    starts: dict[tuple[str, str], date] = {}
    for cid, c in data.campaign_dims.items():
        if c.lifetime_budget and c.start_day and cid in data.campaigns:
            starts[("campaign", cid)] = c.start_day
    for sid, a in data.adset_dims.items():
        if a.lifetime_budget and a.start_day and sid in data.adsets:
            starts[("adset", sid)] = a.start_day
    for level, key in (("campaign", "campaign_id"), ("adset", "adset_id")):
        mine = {i: d for (lv, i), d in starts.items() if lv == level}
        if not mine:
            continue
        selects, params = [], {}
        for n, (entity_id, start) in enumerate(sorted(mine.items())):
            selects.append(f"select @id{n} as entity_id, @start{n} as start_day")
            params[f"id{n}"], params[f"start{n}"] = entity_id, start
        params["lo"] = min(mine.values())
        params["hi"] = max(a.last_day for a in (acc.windows for acc in data.accounts.values()))
        rows = reader.query(
            f"with e as ({' union all '.join(selects)}) select e.entity_id, sum(coalesce(f.spend, 0)) as spend "
            f"from {reader.ref(FCT_AD)} as f join e on f.{key} = e.entity_id "
            "where f.workspace_id = @ws and f.date_day between @lo and @hi and f.date_day >= e.start_day "
            "group by e.entity_id",
            params,
        )
        for r in rows:
            data.lifetime_spend[(level, r["entity_id"])] = float(r["spend"] or 0)
