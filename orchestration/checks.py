"""Asset checks beyond dbt's tests (those appear as checks too, from dagster-dbt): freshness per workspace, tokens
about to expire, delivery without ad rows. They run in the marts job. (Ad-level spend reconciled with the account's
is dbt's test `assert_ads_sum_to_accounts`, a check on the same mart: not repeated here.)"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.asset_keys import FCT_ACCOUNT, FCT_AD, HEALTH_KEY
from orchestration.resources import RegistryResource, WarehouseResource
from workspaces.health import HEALTH, describe_token


def stale_workspaces(health_rows: list[dict], extractable: list[str], now: datetime, max_age: timedelta) -> dict:
    """Extractable workspaces without a successful extraction within `max_age` (or never): id -> last success."""
    last = {r["workspace_id"]: r.get("last_success_at") for r in health_rows}
    out = {}
    for ws in extractable:
        seen = last.get(ws)
        if seen is None or now - seen > max_age:
            out[ws] = seen.isoformat() if seen else "never"
    return out


def tokens_to_reconnect(health_rows: list[dict], extractable: list[str]) -> dict[str, str]:
    """Extractable workspaces whose token is invalid or expires (or loses data access) within the warning days:
    id -> what the customer must do, from `ops.workspace_health`."""
    by_id = {r["workspace_id"]: r for r in health_rows}
    return {ws: describe_token(by_id[ws]) for ws in extractable if ws in by_id and by_id[ws].get("reconnect_soon")}


def build_checks(freshness_hours: int, token_warning_days: int = 14) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(
        asset=HEALTH_KEY,
        name="workspaces_fresh",
        description=f"Every active workspace had a successful extraction in the last {freshness_hours} hours.",
    )
    def workspaces_fresh(warehouse: WarehouseResource, registry: RegistryResource) -> dg.AssetCheckResult:
        extractable = [w.id for w in registry.get().list() if w.extractable]
        with warehouse.open() as wh:
            wh.ensure_table(HEALTH)
            rows = wh.query(f"select workspace_id, last_success_at from {wh.table_ref('ops', HEALTH.name)}")
        stale = stale_workspaces(rows, extractable, datetime.now(UTC), timedelta(hours=freshness_hours))
        return dg.AssetCheckResult(
            passed=not stale,
            metadata={"stale_workspaces": stale, "active_workspaces": len(extractable)},
            description=f"{len(stale)} stale workspace(s)" if stale else "all fresh",
        )

    @dg.asset_check(
        asset=HEALTH_KEY,
        name="tokens_not_expiring",
        description=f"No active workspace's Meta token is invalid or expires (or loses data access) within "
        f"{token_warning_days} days: the customer must reconnect before extraction fails.",
    )
    def tokens_not_expiring(warehouse: WarehouseResource, registry: RegistryResource) -> dg.AssetCheckResult:
        extractable = [w.id for w in registry.get().list() if w.extractable]
        with warehouse.open() as wh:
            wh.ensure_table(HEALTH)
            rows = wh.query(f"select * from {wh.table_ref('ops', HEALTH.name)}")
        flagged = tokens_to_reconnect(rows, extractable)
        invalid = [ws for ws, what in flagged.items() if what.startswith("INVALID")]
        return dg.AssetCheckResult(
            passed=not flagged,
            # an expiring token is a warning (it still works); an invalid one stops the workspace now
            severity=dg.AssetCheckSeverity.ERROR if invalid else dg.AssetCheckSeverity.WARN,
            metadata={"reconnect": flagged, "warning_days": token_warning_days},
            description=f"{len(flagged)} workspace(s) must reconnect Meta" if flagged else "no token expiring soon",
        )

    @dg.asset_check(
        asset=FCT_ACCOUNT,
        name="accounts_with_delivery_have_ad_rows",
        description="An account-day with impressions has ad-level rows (a missing ad report would hide spend).",
    )
    def accounts_with_delivery_have_ad_rows(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.open() as wh:
            acc, ad = wh.table_ref(*FCT_ACCOUNT.path), wh.table_ref(*FCT_AD.path)
            missing = wh.query(
                f"""
                select a.workspace_id, a.account_id, count(*) as days
                from {acc} as a
                left join (select distinct workspace_id, account_id, date_day from {ad}) as d
                    on a.workspace_id = d.workspace_id and a.account_id = d.account_id and a.date_day = d.date_day
                where a.impressions > 0 and d.date_day is null
                group by a.workspace_id, a.account_id
                order by a.workspace_id, a.account_id
                """
            )
        return dg.AssetCheckResult(
            passed=not missing,
            metadata={"accounts": [f"{m['workspace_id']}/{m['account_id']}: {m['days']} day(s)" for m in missing]},
        )

    return [workspaces_fresh, tokens_not_expiring, accounts_with_delivery_have_ad_rows]
