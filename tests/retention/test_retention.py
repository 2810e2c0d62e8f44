"""The retention package on a real DuckDB warehouse: sweeps with proof, crash and re-run, dry run, export."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from retention import (
    AUDIT_LOG,
    disconnect,
    export_workspace,
    overdue_requests,
    request_deletion,
    sweep_workspace,
    verify_deleted,
    workspace_ref,
)
from secret_store import LocalSecretStore
from warehouse import BatchKey, DuckDBWarehouse
from workspaces import MetaConnection, Workspace, WorkspaceStatus, YamlRegistry
from workspaces.health import HEALTH

WORKSPACES = ("acme", "globex", "initech")


def _load(wh, ws: str, n: int) -> None:
    batch = wh.open_batch(BatchKey(ws, "act_1", "ad_daily", date(2026, 10, 1), date(2026, 10, 1)), {})
    batch.append(
        "meta_insights",
        [
            {"report": "ad_daily", "level": "ad", "date_day": date(2026, 10, 1), "ad_id": str(i), "spend": Decimal(i)}
            for i in range(n)
        ],
    )
    batch.commit()


@pytest.fixture
def world(tmp_path):
    reg = YamlRegistry(tmp_path / "workspaces.yaml")
    store = LocalSecretStore(tmp_path / "secrets")
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.ensure_raw()
    for i, ws in enumerate(WORKSPACES):
        reg.upsert(Workspace(id=ws, name=ws, meta=MetaConnection(ad_accounts=["act_1"], token_secret=f"tok-{ws}")))
        store.put(f"tok-{ws}", f"EAAB-{ws}-secret")
        _load(wh, ws, 3 + i)
    # A table added later, in another layer, and a view over it: covered without editing any list.
    wh.execute("create schema if not exists marts")
    wh.execute("create table marts.added_later (workspace_id varchar, x integer)")
    wh.execute("insert into marts.added_later values ('acme', 1), ('globex', 2), ('acme', 3), ('initech', 4)")
    wh.execute("create view marts.added_later_view as select * from marts.added_later")
    wh.ensure_table(HEALTH)
    wh.append_rows(HEALTH, [{"workspace_id": ws, "status": "ok"} for ws in WORKSPACES])
    exports = tmp_path / "exports"
    (exports / "acme" / "old").mkdir(parents=True)
    (exports / "acme" / "old" / "x.parquet").write_bytes(b"x")
    yield wh, reg, store, exports
    wh.close()


def _counts(wh) -> dict[tuple[str, str], int]:
    out = {}
    for t in wh.tables_with_column("workspace_id"):
        if (t.schema, t.name) == (AUDIT_LOG.schema, AUDIT_LOG.name):
            continue
        for ws in WORKSPACES:
            out[(f"{t.schema}.{t.name}", ws)] = wh.count_rows(t, ws)
    return out


def test_sweep_deletes_everything_of_one_workspace_with_proof(world):
    wh, reg, store, exports = world
    requested = request_deletion(reg, "acme", now=datetime(2026, 11, 20, tzinfo=UTC))
    assert requested.status is WorkspaceStatus.deletion_requested and not requested.extractable
    before = _counts(wh)
    removed = []
    report = sweep_workspace(
        wh, "acme", requested_at=requested.deletion_requested_at, secrets=store, token_secret="tok-acme",
        exports_root=exports, remove_partition=lambda w: removed.append(w) or True, registry=reg, run_id="r1",
    )  # fmt: skip
    after = _counts(wh)
    assert report.verified and report.remaining == {}
    assert all(n == 0 for (table, ws), n in after.items() if ws == "acme")
    assert {k: v for k, v in after.items() if k[1] != "acme"} == {k: v for k, v in before.items() if k[1] != "acme"}
    assert report.rows_deleted["marts.added_later"] == 2 and report.rows_deleted["raw.meta_insights"] == 3
    assert report.rows_deleted["ops.workspace_health"] == 1 and report.rows_deleted["raw.meta_batches"] == 1
    assert "marts.added_later_view" not in report.rows_deleted  # views hold no rows; verification counts them
    assert not store.exists("tok-acme") and store.exists("tok-globex")
    assert removed == ["acme"] and report.partition_removed and report.exports_removed == 1
    assert not (exports / "acme").exists()
    assert [w.id for w in reg.list()] == ["globex", "initech"]
    [audit] = wh.query(f"select * from {wh.table_ref('ops', AUDIT_LOG.name)}")
    assert audit["workspace_ref"] == workspace_ref("acme") and audit["verification"] == "passed"
    assert audit["secret_deleted"] and json.loads(audit["problems"]) == []
    assert json.loads(audit["rows_deleted"])["raw.meta_insights"] == 3
    assert audit["rows_deleted_total"] == report.total_deleted and "EAAB" not in json.dumps(audit, default=str)
    # the proof names the workspace by digest only: the id itself is nowhere in the row
    assert "acme" not in json.dumps(audit, default=str)


class CrashingWarehouse:
    """The real warehouse, with the process 'killed' after a number of deletes."""

    def __init__(self, wh, crash_after: int) -> None:
        self._wh, self._left = wh, crash_after

    def delete_rows(self, table, workspace_id):
        if self._left == 0:
            raise KeyboardInterrupt("killed mid-sweep")
        self._left -= 1
        return self._wh.delete_rows(table, workspace_id)

    def __getattr__(self, name):
        return getattr(self._wh, name)


def test_a_sweep_killed_mid_way_completes_and_verifies_when_run_again(world):
    wh, reg, store, exports = world
    ws = request_deletion(reg, "globex")
    with pytest.raises(KeyboardInterrupt):
        sweep_workspace(CrashingWarehouse(wh, 2), "globex", requested_at=ws.deletion_requested_at, registry=reg)
    remaining, _ = verify_deleted(wh, "globex")
    assert remaining  # half done: some rows gone, some left
    assert reg.get("globex").status is WorkspaceStatus.deletion_requested  # still due: the next sweep finds it
    report = sweep_workspace(wh, "globex", requested_at=ws.deletion_requested_at, registry=reg, secrets=store,
                             token_secret="tok-globex")  # fmt: skip
    assert report.verified and verify_deleted(wh, "globex")[0] == {}
    # sweeping an already swept workspace is a no-op that still verifies (and leaves another audit row)
    again = sweep_workspace(wh, "globex", requested_at=None)
    assert again.verified and again.total_deleted == 0
    audit = wh.query(f"select verification from {wh.table_ref('ops', AUDIT_LOG.name)} where workspace_ref = @w",
                     {"w": workspace_ref("globex")})  # fmt: skip
    assert [a["verification"] for a in audit] == ["passed", "passed"]


def test_dry_run_changes_nothing(world):
    wh, reg, store, exports = world
    before = _counts(wh)
    report = sweep_workspace(wh, "initech", requested_at=None, secrets=store, token_secret="tok-initech",
                             registry=reg, dry_run=True)  # fmt: skip
    assert report.rows_deleted["raw.meta_insights"] == 5 and not report.verified
    assert "would delete" in report.describe()
    assert _counts(wh) == before and store.exists("tok-initech") and reg.get("initech")
    assert AUDIT_LOG.name not in {t.name for t in wh.tables_with_column("workspace_id")}


def test_export_holds_exactly_the_workspace_rows(world, tmp_path):
    wh, *_ = world
    export = export_workspace(wh, "globex", tmp_path / "exports", "first")
    out, manifest = export.path, export.manifest
    assert out == (tmp_path / "exports" / "globex" / "first").resolve()
    files = {f["table"]: f for f in manifest["files"]}
    assert files["raw.meta_insights"]["rows"] == 4 and files["marts.added_later"]["rows"] == 1
    assert "marts.added_later_view" not in files
    for f in manifest["files"]:
        path = out / f["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
        table = pq.read_table(path)
        assert table.num_rows == f["rows"]
        assert set(table.column("workspace_id").to_pylist()) == {"globex"}
    assert json.loads((out / "manifest.json").read_text())["total_rows"] == manifest["total_rows"]


def test_disconnect_deletes_the_token_and_keeps_the_data(world):
    wh, reg, store, _ = world
    ws, deleted = disconnect(reg, store, "initech")
    assert deleted and not store.exists("tok-initech")
    assert reg.get("initech").status is WorkspaceStatus.disconnected and not reg.get("initech").extractable
    assert (
        wh.query("select count(*) as n from raw.meta_insights where workspace_id = @w", {"w": "initech"})[0]["n"] == 5
    )


def test_overdue_requests():
    now = datetime(2026, 11, 27, tzinfo=UTC)
    old = Workspace(id="a", name="a", status="deletion_requested", deletion_requested_at=now - timedelta(days=9),
                    meta=MetaConnection(token_secret="t"))  # fmt: skip
    new = old.model_copy(update={"id": "b", "deletion_requested_at": now - timedelta(days=1)})
    assert overdue_requests([old, new], [], now, timedelta(days=7)) == {"a": old.deletion_requested_at.isoformat()}
    swept = [{"workspace_ref": workspace_ref("a"), "swept_at": now - timedelta(days=8), "verification": "passed"}]
    assert overdue_requests([old, new], swept, now, timedelta(days=7)) == {}
    failed = [{"workspace_ref": workspace_ref("a"), "swept_at": now - timedelta(days=8), "verification": "failed"}]
    assert "a" in overdue_requests([old, new], failed, now, timedelta(days=7))
