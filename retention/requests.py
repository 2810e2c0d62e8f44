"""Customer requests on a workspace: disconnect Meta (data kept), request deletion (swept within days)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from secret_store import SecretStore
from workspaces import Registry, RegistryError, Workspace, WorkspaceStatus

MAX_ATTEMPTS = 5


class _ChangedMeanwhile(Exception):
    pass


def _update(registry: Registry, workspace_id: str, change: Callable[[Workspace], Workspace]) -> Workspace:
    """Apply `change` to the workspace's current entry and write it, unless another process changed the entry
    between the read and the write (checked under the registry's lock): then read again and retry."""
    for _ in range(MAX_ATTEMPTS):
        current = registry.get(workspace_id)
        new = change(current)
        if new == current:
            return current

        def unchanged(entries: list[Workspace], current: Workspace = current) -> None:
            if next((w for w in entries if w.id == workspace_id), None) != current:
                raise _ChangedMeanwhile

        try:
            registry.upsert(new, check=unchanged)
        except _ChangedMeanwhile:
            continue
        return new
    raise RegistryError(f"workspace {workspace_id} kept changing while it was updated; try again")


def disconnect(registry: Registry, secrets: SecretStore, workspace_id: str) -> tuple[Workspace, bool]:
    """Delete the Meta token and mark the workspace disconnected: extraction stops at once, history is kept
    (period-over-period comparisons still work) until a deletion request. Returns the workspace and whether a
    token was deleted."""
    ws = registry.get(workspace_id)
    deleted = secrets.delete(ws.meta.token_secret)

    def disconnected(w: Workspace) -> Workspace:
        if w.status is not WorkspaceStatus.active:
            return w
        return w.model_copy(update={"status": WorkspaceStatus.disconnected})

    return _update(registry, workspace_id, disconnected), deleted


def request_deletion(registry: Registry, workspace_id: str, now: datetime | None = None) -> Workspace:
    """Mark the workspace for deletion (idempotent: a repeated request keeps the first timestamp, which is the
    one the 30-day promise counts from). Extraction stops from this moment; the sweep removes the data."""
    stamp = now or datetime.now(UTC)

    def requested(w: Workspace) -> Workspace:
        if w.status is WorkspaceStatus.deletion_requested:
            return w
        return Workspace.model_validate(
            {**w.model_dump(), "status": WorkspaceStatus.deletion_requested, "deletion_requested_at": stamp}
        )

    return _update(registry, workspace_id, requested)
