"""The append-only retention audit log: proof of each sweep. It holds no ad data and not even the workspace's id:
`workspace_ref` is a digest of the id, so the log proves a sweep to whoever knows the id (hash it, look it up) while a
search of the warehouse for the deleted id finds nothing. Times, table names, counts, the verification result."""

from __future__ import annotations

from warehouse import OPS_SCHEMA, Table
from warehouse.labels import workspace_digest

AUDIT_LOG = Table(
    "retention_audit_log",
    (
        ("workspace_ref", "string"),  # workspace_ref(id): the id itself is not kept
        ("requested_at", "timestamp"),
        ("swept_at", "timestamp"),
        ("tables_touched", "string"),  # JSON list of "<layer>.<table>" with rows deleted
        ("rows_deleted", "string"),  # JSON object: "<layer>.<table>" -> rows deleted
        ("rows_deleted_total", "int64"),
        ("verification", "string"),  # passed | failed
        ("remaining_rows", "string"),  # JSON object of what verification still found ({} when passed)
        ("tables_verified", "int64"),  # tables and views counted by the verification query
        ("secret_deleted", "bool"),
        ("partition_removed", "bool"),
        ("exports_removed", "int64"),
        ("registry_removed", "bool"),
        ("access_schema_dropped", "bool"),
        ("history", "string"),  # JSON object: Dagster runs deleted / scrubbed, dbt artefacts removed, ...
        ("problems", "string"),  # JSON list: what was refused or failed ([] when passed)
        ("forced", "bool"),  # swept on an explicit, confirmed override (no deletion request before)
        ("run_id", "string"),
    ),
    schema=OPS_SCHEMA,
)


def workspace_ref(workspace_id: str) -> str:
    """The audit log's name for a workspace: the first 32 hex digits of SHA-256 over a fixed prefix and the id (the
    same digest as the `workspace` label of BigQuery jobs, so a sweep's proof and the workspace's jobs match)."""
    return workspace_digest(workspace_id)
