"""Per-workspace extraction health: the `ops.workspace_health` table a data engineer (and the app) reads to see
which workspaces are fresh, failing, or need the customer to reconnect Meta."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from warehouse.schema import OPS_SCHEMA, Table

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
    ),
    schema=OPS_SCHEMA,
)
MAX_ERROR_CHARS = 2000


def health_rows(
    results: Iterable[Any],  # insights_jobs.WorkspaceResult
    previous: Mapping[str, Mapping[str, Any]],
    run_id: str,
    now: datetime,
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
            }
        )
    return rows


def record_health(
    warehouse: Any, results: list[Any], run_id: str, now: datetime, scrub: Callable[[str], str] = str
) -> list[dict[str, Any]]:
    """Upsert the health rows of `results` (one per workspace) and return them."""
    if not results:
        return []
    warehouse.ensure_table(HEALTH)
    ref = warehouse.table_ref(OPS_SCHEMA, HEALTH.name)
    # one row per workspace: reading them all is cheap and portable (no list parameters across backends)
    previous = {row["workspace_id"]: row for row in warehouse.query(f"select workspace_id, last_success_at from {ref}")}
    rows = health_rows(results, previous, run_id, now, scrub)
    warehouse.replace_rows(HEALTH, ["workspace_id"], rows)
    return rows
