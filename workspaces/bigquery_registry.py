"""The workspace registry as a control table (`SENTRUM_REGISTRY=bigquery`): `<prefix>ops.workspaces`.

One row per workspace with the YAML form's fields, flattened: `id, name, status, deletion_requested_at,
ad_accounts` (a JSON array of `act_...` ids: one portable column type on both backends) `, token_secret`, plus
`updated_at`. Written through the `Warehouse` interface (parameterised MERGE on BigQuery), so the same class runs on
DuckDB too, which is how the unit tests exercise it besides the emulator.

The key column is `id`, not `workspace_id`: the retention sweep's catalog walk (every table with `workspace_id`)
does not delete registry rows; retention decides what happens to a deleted workspace's registry entry.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from warehouse import OPS_SCHEMA, Table, Warehouse, WarehouseError
from workspaces.model import Workspace
from workspaces.registry import InvalidRegistry, RegistryError, WorkspaceNotFound, WriteCheck, validation_summary

REGISTRY_TABLE = Table(
    "workspaces",
    (
        ("id", "string"),
        ("name", "string"),
        ("status", "string"),
        ("deletion_requested_at", "timestamp"),
        ("ad_accounts", "string"),  # JSON array
        ("token_secret", "string"),  # a name in the secret store, never a token
        ("updated_at", "timestamp"),
    ),
    schema=OPS_SCHEMA,
)


def _row(workspace: Workspace, now: datetime) -> dict[str, Any]:
    return {
        "id": workspace.id,
        "name": workspace.name,
        "status": workspace.status.value,
        "deletion_requested_at": workspace.deletion_requested_at,
        "ad_accounts": json.dumps(workspace.meta.ad_accounts),
        "token_secret": workspace.meta.token_secret,
        "updated_at": now,
    }


def _workspace(row: dict[str, Any]) -> Workspace:
    try:
        accounts = json.loads(row["ad_accounts"]) if row.get("ad_accounts") else []
        return Workspace.model_validate(
            {
                "id": row["id"],
                "name": row["name"],
                "status": row["status"],
                "deletion_requested_at": row.get("deletion_requested_at"),
                "meta": {"ad_accounts": accounts, "token_secret": row["token_secret"]},
            }
        )
    except ValidationError as exc:
        raise InvalidRegistry(
            f"registry row {row.get('id')!r} in ops.{REGISTRY_TABLE.name} is invalid: {validation_summary(exc)}"
        ) from None
    except (ValueError, TypeError) as exc:
        raise InvalidRegistry(
            f"registry row {row.get('id')!r} in ops.{REGISTRY_TABLE.name} is invalid: {exc}"
        ) from None


class BigQueryRegistry:
    """`list`, `get`, `upsert`, `remove` over the control table (the `Registry` protocol). Any `Warehouse`
    works; production passes a `BigQueryWarehouse`."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._ready = False
        self._lock = threading.Lock()

    def _table(self) -> str:
        with self._lock:
            if not self._ready:
                try:
                    self.warehouse.ensure_table(REGISTRY_TABLE)
                except WarehouseError as exc:
                    raise RegistryError(f"cannot prepare the registry table: {exc}") from exc
                self._ready = True
        return self.warehouse.table_ref(OPS_SCHEMA, REGISTRY_TABLE.name)

    def _select(self, where: str = "", params: dict[str, Any] | None = None) -> list[Workspace]:
        cols = ", ".join(REGISTRY_TABLE.column_names)
        try:
            rows = self.warehouse.query(
                f"select {cols} from {self._table()} {where} order by id", params, labels={"job": "registry"}
            )
        except WarehouseError as exc:
            raise RegistryError(f"cannot read the workspace registry: {exc}") from exc
        return [_workspace(r) for r in rows]

    def list(self) -> list[Workspace]:
        """Every workspace, ordered by id."""
        out = self._select()
        ids = [w.id for w in out]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise RegistryError(f"duplicate workspace ids in the registry table: {dupes}")
        return out

    def get(self, workspace_id: str) -> Workspace:
        found = self._select("where id = @id", {"id": workspace_id})
        if not found:
            raise WorkspaceNotFound(f"no workspace {workspace_id!r} in the registry table")
        if len(found) > 1:
            raise RegistryError(f"workspace {workspace_id!r} appears {len(found)} times in the registry table")
        return found[0]

    def remove(self, workspace_id: str) -> bool:
        """Drop the entry (after a verified deletion sweep); True if it was there."""
        try:
            n = self.warehouse.execute(
                f"delete from {self._table()} where id = @id", {"id": workspace_id}, labels={"job": "registry"}
            )
        except WarehouseError as exc:
            raise RegistryError(f"cannot remove workspace {workspace_id!r} from the registry: {exc}") from exc
        return n > 0

    def upsert(self, workspace: Workspace, check: WriteCheck | None = None) -> None:
        """Insert or replace the workspace's row, atomically. `check` sees the rows as they are first; the table has
        no lock across processes, so two writers racing past the check both write (the MERGE keeps one row per id)."""
        self._table()
        if check is not None:
            check(self.list())
        try:
            self.warehouse.replace_rows(REGISTRY_TABLE, ["id"], [_row(workspace, datetime.now(UTC))])
        except WarehouseError as exc:
            raise RegistryError(f"cannot write workspace {workspace.id!r} to the registry: {exc}") from exc
