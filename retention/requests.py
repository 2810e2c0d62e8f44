"""Customer requests on a workspace: disconnect Meta (data kept), request deletion (swept within days)."""

from __future__ import annotations

from datetime import UTC, datetime

from secret_store import SecretStore
from workspaces import Registry, Workspace, WorkspaceStatus


def disconnect(registry: Registry, secrets: SecretStore, workspace_id: str) -> tuple[Workspace, bool]:
    """Delete the Meta token and mark the workspace disconnected: extraction stops at once, history is kept
    (period-over-period comparisons still work) until a deletion request. Returns the workspace and whether a
    token was deleted."""
    ws = registry.get(workspace_id)
    deleted = secrets.delete(ws.meta.token_secret)
    if ws.status is WorkspaceStatus.active:
        ws = ws.model_copy(update={"status": WorkspaceStatus.disconnected})
        registry.upsert(ws)
    return ws, deleted


def request_deletion(registry: Registry, workspace_id: str, now: datetime | None = None) -> Workspace:
    """Mark the workspace for deletion (idempotent: a repeated request keeps the first timestamp, which is the
    one the 30-day promise counts from). Extraction stops from this moment; the sweep removes the data."""
    ws = registry.get(workspace_id)
    if ws.status is WorkspaceStatus.deletion_requested:
        return ws
    ws = ws.model_copy(
        update={"status": WorkspaceStatus.deletion_requested, "deletion_requested_at": now or datetime.now(UTC)}
    )
    registry.upsert(Workspace.model_validate(ws.model_dump()))
    return ws
