"""Per-workspace extraction health: the `ops.workspace_health` table a data engineer (and the app) reads to see
which workspaces are fresh, failing, or need the customer to reconnect Meta, now or within a few days (the token's
expiry and its data access's expiry, from Meta's debug_token)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from warehouse import OPS_SCHEMA, Table, Warehouse


class TokenState(Protocol):
    """What a health row needs of Meta's verdict on a token (`insights_jobs.token_health.TokenHealth`)."""

    valid: bool | None  # None: debug_token could not be asked
    inspected: bool
    kind: str | None
    expires_at: datetime | None
    data_access_expires_at: datetime | None

    def days_left(self, now: datetime) -> float | None: ...


class AccountOutcome(Protocol):
    """One ad account's outcome of an extraction (`insights_jobs.AccountResult`)."""

    @property
    def ok(self) -> bool: ...

    @property
    def action(self) -> str | None: ...


class ExtractionOutcome(Protocol):
    """One workspace's outcome of an extraction (`insights_jobs.WorkspaceResult`)."""

    @property
    def workspace_id(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def reconnect_needed(self) -> bool: ...

    @property
    def accounts(self) -> Sequence[AccountOutcome]: ...

    @property
    def errors(self) -> list[str]: ...

    @property
    def rows(self) -> Mapping[str, int]: ...


HEALTH = Table(
    "workspace_health",
    (
        ("workspace_id", "string"),
        ("status", "string"),  # ok | failed
        ("reconnect_needed", "bool"),
        ("last_attempt_at", "timestamp"),
        ("last_success_at", "timestamp"),  # kept from earlier runs when this attempt failed
        ("last_error_class", "string"),  # the error policy's verdict: stop_workspace, stop_account, retry, ...
        ("last_error", "string"),
        ("accounts_ok", "int64"),
        ("accounts_failed", "int64"),
        ("rows_last_run", "int64"),  # insights rows written by the last attempt
        ("run_id", "string"),
        # The token as Meta's debug_token saw it at the last attempt (null: not known). Added later: older tables
        # get these columns (null) on the first write.
        ("token_type", "string"),  # USER | SYSTEM_USER | ...
        ("token_valid", "bool"),
        ("token_expires_at", "timestamp"),  # null: never expires (or unknown)
        ("token_data_access_expires_at", "timestamp"),  # null: does not expire (or unknown)
        ("token_checked_at", "timestamp"),
        ("reconnect_within_days", "int64"),  # whole days until the earlier expiry; null: neither expires
        ("reconnect_soon", "bool"),  # invalid, or expiring within the warning days: ask the customer to reconnect
    ),
    schema=OPS_SCHEMA,
)
MAX_ERROR_CHARS = 2000
DEFAULT_WARNING_DAYS = 14


def token_columns(token: TokenState | None, now: datetime, warning_days: int = DEFAULT_WARNING_DAYS) -> dict[str, Any]:
    """The token columns of a health row from Meta's verdict on the token (None: not inspected)."""
    if token is None or (token.valid is None and not token.inspected):
        return {
            "token_type": None, "token_valid": None, "token_expires_at": None, "token_data_access_expires_at": None,
            "token_checked_at": None, "reconnect_within_days": None, "reconnect_soon": None,
        }  # fmt: skip
    left = token.days_left(now)
    within = None if left is None else max(0, math.floor(left))
    return {
        "token_type": token.kind,
        "token_valid": token.valid,
        "token_expires_at": token.expires_at,
        "token_data_access_expires_at": token.data_access_expires_at,
        "token_checked_at": now,
        "reconnect_within_days": within,
        "reconnect_soon": token.valid is False or (within is not None and within <= warning_days),
    }


def describe_token(row: Mapping[str, Any] | None) -> str:
    """One line for `sentrum workspaces list` (and the logs) from a health row."""
    if not row or row.get("token_checked_at") is None:
        return "not checked yet"
    if row.get("token_valid") is False:
        return "INVALID: reconnect now"
    within, token_at, data_at = (
        row.get("reconnect_within_days"), row.get("token_expires_at"), row.get("token_data_access_expires_at")
    )  # fmt: skip
    if within is None:
        return f"ok ({row.get('token_type') or 'token'}, never expires)"
    what = "data access expires" if data_at is not None and (token_at is None or data_at < token_at) else "expires"
    when = min(t for t in (token_at, data_at) if t is not None)
    flag = "RECONNECT within" if row.get("reconnect_soon") else "ok, reconnect within"
    return f"{flag} {within} day(s) ({row.get('token_type') or 'token'} {what} {when:%Y-%m-%d})"


def health_rows(
    results: Iterable[ExtractionOutcome],
    previous: Mapping[str, Mapping[str, Any]],
    run_id: str,
    now: datetime,
    tokens: Mapping[str, TokenState] | None = None,  # workspace -> Meta's verdict on its token
    warning_days: int = DEFAULT_WARNING_DAYS,
    scrub: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """New health rows for the workspaces of one run; `previous` holds their current rows (to keep last success).
    `scrub` cleans the error text before it is stored (the extraction passes its token redaction)."""
    rows = []
    for r in results:
        prev = previous.get(r.workspace_id, {})
        failed = [a for a in r.accounts if not a.ok]
        error_class = None
        if r.reconnect_needed:
            error_class = "stop_workspace"
        elif failed:
            error_class = failed[0].action or "error"
        rows.append(
            {
                "workspace_id": r.workspace_id,
                "status": "ok" if r.ok else "failed",
                "reconnect_needed": bool(r.reconnect_needed),
                "last_attempt_at": now,
                "last_success_at": now if r.ok else prev.get("last_success_at"),
                "last_error_class": error_class,
                "last_error": scrub("; ".join(r.errors))[:MAX_ERROR_CHARS] or None,
                "accounts_ok": sum(1 for a in r.accounts if a.ok),
                "accounts_failed": len(failed),
                "rows_last_run": int(r.rows.get("meta_insights", 0)),
                "run_id": run_id,
                **token_columns((tokens or {}).get(r.workspace_id), now, warning_days),
            }
        )
    return rows


def record_health(
    warehouse: Warehouse,
    results: Sequence[ExtractionOutcome],
    run_id: str,
    now: datetime,
    tokens: Mapping[str, TokenState] | None = None,
    warning_days: int = DEFAULT_WARNING_DAYS,
    scrub: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """Upsert the health rows of `results` (one per workspace) and return them."""
    if not results:
        return []
    warehouse.ensure_table(HEALTH)
    ref = warehouse.table_ref(OPS_SCHEMA, HEALTH.name)
    # one row per workspace: reading them all is cheap and portable (no list parameters across backends)
    previous = {row["workspace_id"]: row for row in warehouse.query(f"select workspace_id, last_success_at from {ref}")}
    rows = health_rows(results, previous, run_id, now, tokens, warning_days, scrub)
    warehouse.replace_rows(HEALTH, ["workspace_id"], rows)
    return rows


def read_health(warehouse: Warehouse) -> dict[str, dict[str, Any]]:
    """Every workspace's health row by id (the table must exist; rows of an older table lack the token columns)."""
    ref = warehouse.table_ref(OPS_SCHEMA, HEALTH.name)
    return {row["workspace_id"]: row for row in warehouse.query(f"select * from {ref}")}
