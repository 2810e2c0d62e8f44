"""Export of a workspace's data: every table's rows for the workspace as Parquet, with a manifest of row counts
and SHA-256 checksums. Only the workspace's rows: each table is read with `WHERE workspace_id = @ws`.

Exports are written only to `<exports root>/<workspace id>/<name>/` (files 0600, folders 0700), the folder the
deletion sweep removes with the workspace: a copy written anywhere else would outlive a deletion request. `name` is
a plain folder name (default: the UTC time of the export); an existing folder is never written into.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from retention.paths import PathRefused, owned_child, private_dir
from warehouse import Warehouse
from workspaces import check_workspace_id

MANIFEST = "manifest.json"
WORKSPACE_COLUMN = "workspace_id"
FILE_MODE = 0o600


class ExportRefused(PathRefused):
    """The export would be written outside `<exports root>/<workspace id>/`, or over an earlier export."""


@dataclass(frozen=True)
class ExportedFile:
    table: str
    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Export:
    path: Path
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_dir(exports_root: Path, workspace_id: str, name: str | None = None, now: datetime | None = None) -> Path:
    """The folder an export of the workspace goes to, checked and created (0700); ExportRefused if it escapes the
    workspace's exports folder or already exists."""
    check_workspace_id(workspace_id)
    name = name or (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    try:
        workspace_dir = owned_child(private_dir(exports_root), workspace_id)
        private_dir(workspace_dir)
        target = owned_child(workspace_dir, name)
    except PathRefused as exc:
        raise ExportRefused(f"export refused: {exc}") from None
    if target.exists():
        raise ExportRefused(f"export refused: {target} already exists (choose another --out name)")
    target.mkdir(mode=0o700)
    os.chmod(target, 0o700)
    return target


def _write_private(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)  # a crashed export never leaves a half file under the final name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export_workspace(wh: Warehouse, workspace_id: str, exports_root: Path, name: str | None = None) -> Export:
    """Write `<layer>.<table>.parquet` for every table holding rows of the workspace, and `manifest.json`, into a
    new folder `<exports_root>/<workspace_id>/<name>/`. Views are not exported (their rows are the tables')."""
    out_dir = export_dir(exports_root, workspace_id, name)
    files: list[ExportedFile] = []
    for t in wh.tables_with_column(WORKSPACE_COLUMN):
        if t.kind != "table":
            continue
        rows = wh.query(
            f"select * from {wh.table_ref(t.schema, t.name)} where workspace_id = @ws", {"ws": workspace_id}
        )
        if not rows:
            continue
        table = f"{t.schema}.{t.name}"
        path = out_dir / f"{table}.parquet"
        _write_private(path, lambda tmp, rows=rows: pq.write_table(pa.Table.from_pylist(rows), tmp))
        files.append(ExportedFile(table, path.name, len(rows), _sha256(path)))
    manifest = {
        "workspace_id": workspace_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "format": "parquet",
        "files": [f.__dict__ for f in sorted(files, key=lambda f: f.table)],
        "total_rows": sum(f.rows for f in files),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True)
    _write_private(out_dir / MANIFEST, lambda tmp: tmp.write_text(text))
    return Export(out_dir, manifest)
