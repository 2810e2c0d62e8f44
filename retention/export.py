"""Export of a workspace's data: every table's rows for the workspace as Parquet, with a manifest of row counts
and SHA-256 checksums. Only the workspace's rows: each table is read with `WHERE workspace_id = @ws`."""

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

from warehouse import Warehouse

MANIFEST = "manifest.json"
WORKSPACE_COLUMN = "workspace_id"


@dataclass(frozen=True)
class ExportedFile:
    table: str
    file: str
    rows: int
    sha256: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_workspace(wh: Warehouse, workspace_id: str, out_dir: Path) -> dict[str, Any]:
    """Write `<out_dir>/<layer>.<table>.parquet` for every table holding rows of the workspace, and
    `<out_dir>/manifest.json`. Views are not exported (their rows are the tables'). Returns the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[ExportedFile] = []
    for t in wh.tables_with_column(WORKSPACE_COLUMN):
        if t.kind != "table":
            continue
        rows = wh.query(
            f"select * from {wh.table_ref(t.schema, t.name)} where workspace_id = @ws", {"ws": workspace_id}
        )
        if not rows:
            continue
        name = f"{t.schema}.{t.name}"
        path = out_dir / f"{name}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(pa.Table.from_pylist(rows), tmp)
        os.replace(tmp, path)  # a crashed export never leaves a half file under the final name
        files.append(ExportedFile(name, path.name, len(rows), _sha256(path)))
    manifest = {
        "workspace_id": workspace_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "format": "parquet",
        "files": [f.__dict__ for f in sorted(files, key=lambda f: f.table)],
        "total_rows": sum(f.rows for f in files),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest
