"""Token health in ops.workspace_health and the `tokens_not_expiring` asset check: a customer is asked to reconnect
Meta before the token (or its data access) runs out; an older health table gains the token columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from insights_jobs import AccountResult, WorkspaceResult
from insights_jobs.token_health import TokenHealth
from orchestration.checks import build_checks
from orchestration.resources import RegistryResource, WarehouseResource
from warehouse import DuckDBWarehouse
from workspaces import MetaConnection, Workspace, WorkspaceStatus, YamlRegistry
from workspaces.health import describe_token, read_health, record_health

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _result(ws: str) -> WorkspaceResult:
    return WorkspaceResult(ws, accounts=[AccountResult("act_1", ok=True)])


@pytest.fixture
def state(tmp_path: Path):
    registry = YamlRegistry(str(tmp_path / "workspaces.yaml"))
    for ws in ("system", "user", "data", "dead", "gone"):
        status = WorkspaceStatus.disconnected if ws == "gone" else WorkspaceStatus.active
        registry.upsert(
            Workspace(id=ws, name=ws, status=status, meta=MetaConnection(ad_accounts=["act_1"], token_secret=ws))
        )
    return tmp_path


def _check(state: Path, warning_days: int = 14) -> dg.AssetCheckResult:
    [check] = [c for c in build_checks(36, warning_days) if c.check_key.name == "tokens_not_expiring"]
    return check(
        warehouse=WarehouseResource(duckdb_path=str(state / "warehouse.duckdb")),
        registry=RegistryResource(location=str(state / "workspaces.yaml")),
    )


def _record(state: Path, tokens: dict[str, TokenHealth], warning_days: int = 14) -> dict[str, dict]:
    with DuckDBWarehouse(state / "warehouse.duckdb") as wh:
        record_health(wh, [_result(w) for w in tokens], "run-1", NOW, tokens=tokens, warning_days=warning_days)
        return read_health(wh)


def test_expiring_tokens_are_flagged_before_they_fail(state: Path) -> None:
    rows = _record(
        state,
        {
            "system": TokenHealth(valid=True, inspected=True, kind="SYSTEM_USER"),
            "user": TokenHealth(valid=True, inspected=True, kind="USER", expires_at=NOW + timedelta(days=10, hours=1)),
            "data": TokenHealth(
                valid=True,
                inspected=True,
                kind="USER",
                expires_at=NOW + timedelta(days=55),
                data_access_expires_at=NOW + timedelta(days=40),
            ),
        },
    )
    system, user, data = rows["system"], rows["user"], rows["data"]
    assert (system["token_type"], system["token_valid"], system["token_expires_at"]) == ("SYSTEM_USER", True, None)
    assert system["reconnect_within_days"] is None and system["reconnect_soon"] is False
    assert (user["reconnect_within_days"], user["reconnect_soon"]) == (10, True)
    assert (data["reconnect_within_days"], data["reconnect_soon"]) == (40, False)  # the earlier: data access
    assert describe_token(system) == "ok (SYSTEM_USER, never expires)"
    assert describe_token(user) == "RECONNECT within 10 day(s) (USER expires 2026-12-07)"
    assert describe_token(data) == "ok, reconnect within 40 day(s) (USER data access expires 2027-01-06)"

    result = _check(state)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert set(result.metadata["reconnect"].data) == {"user"}

    # 45 warning days: the data-access expiry is flagged too
    _record(
        state, {"data": TokenHealth(valid=True, inspected=True, data_access_expires_at=NOW + timedelta(days=40))}, 45
    )
    assert set(_check(state, 45).metadata["reconnect"].data) == {"user", "data"}


def test_an_invalid_token_fails_the_check_and_inactive_workspaces_are_ignored(state: Path) -> None:
    _record(
        state,
        {
            "system": TokenHealth(valid=True, inspected=True, kind="SYSTEM_USER"),
            "dead": TokenHealth(valid=False, inspected=True, problem="Meta error 190/463: Session has expired"),
            "gone": TokenHealth(valid=False, inspected=True),
        },
    )
    result = _check(state)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["reconnect"].data == {"dead": "INVALID: reconnect now"}


def test_unknown_token_health_flags_nothing(state: Path) -> None:
    # debug_token could not be asked (another Graph server, an app that may not inspect): nothing is claimed
    rows = _record(state, {"system": TokenHealth(valid=None, problem="debug_token unavailable")})
    assert rows["system"]["token_checked_at"] is None and rows["system"]["reconnect_soon"] is None
    assert _check(state).passed


def test_an_older_health_table_gains_the_token_columns(state: Path) -> None:
    with DuckDBWarehouse(state / "warehouse.duckdb") as wh:
        wh.query("create schema if not exists ops")
        wh.query(
            "create table ops.workspace_health (workspace_id varchar, status varchar, reconnect_needed boolean, "
            "last_attempt_at timestamptz, last_success_at timestamptz, last_error_class varchar, last_error varchar, "
            "accounts_ok bigint, accounts_failed bigint, rows_last_run bigint, run_id varchar)"
        )
        wh.query(
            "insert into ops.workspace_health (workspace_id, status, last_success_at) "
            "values ('system', 'ok', timestamptz '2026-11-20 03:00:00+00')"
        )
        assert describe_token(read_health(wh)["system"]) == "not checked yet"
    rows = _record(state, {"system": TokenHealth(valid=True, inspected=True, kind="SYSTEM_USER")})
    assert rows["system"]["token_type"] == "SYSTEM_USER" and rows["system"]["last_success_at"] == NOW
