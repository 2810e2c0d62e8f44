"""The sweep cannot be aimed wrong: it acts only on requested deletions (or a confirmed override), only inside the
folders it owns, never reports "passed" for what it refused, and leaves no deleted bytes in the DuckDB file."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime

import pytest

from retention import (
    AUDIT_LOG,
    ExportRefused,
    PathRefused,
    SweepRefused,
    export_workspace,
    plan_sweep,
    remove_owned,
    request_deletion,
    sweep_workspace,
    swept_refs,
    workspace_ref,
)
from secret_store import LocalSecretStore
from warehouse import BatchKey, DuckDBWarehouse
from warehouse.access import access_schema_name
from workspaces import MetaConnection, Workspace, WorkspaceStatus, YamlRegistry

CAMPAIGN = "Acme Zebra Launch 7731"  # a name only acme's rows hold


@pytest.fixture
def world(tmp_path):
    reg = YamlRegistry(tmp_path / "workspaces.yaml")
    store = LocalSecretStore(tmp_path / "secrets")
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.ensure_raw()
    for ws in ("acme", "globex"):
        reg.upsert(Workspace(id=ws, name=ws, meta=MetaConnection(ad_accounts=["act_1"], token_secret=f"tok-{ws}")))
        store.put(f"tok-{ws}", f"EAAB-{ws}-secret-token")
        batch = wh.open_batch(BatchKey(ws, "act_1", "entities"), {})
        name = CAMPAIGN if ws == "acme" else "Globex Campaign"
        # many rows, so the name is stored as plain bytes in several blocks (a positive control below)
        batch.append("meta_campaigns", [{"campaign_id": str(i), "name": f"{name} {i}"} for i in range(3000)])
        batch.commit()
    wh.execute("create schema if not exists marts")
    wh.execute("create table marts.facts as select * from raw.meta_campaigns")
    # the access layer dbt builds: a schema per workspace whose view SQL names the workspace
    for ws in ("acme", "globex"):
        schema = access_schema_name(ws)
        wh.execute(f"create schema {schema}")
        wh.execute(f"create view {schema}.facts as select * from marts.facts where workspace_id = '{ws}'")
    wh.execute("checkpoint")
    exports = tmp_path / "exports"
    yield wh, reg, store, exports, tmp_path
    wh.close()


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("acme", "is active"),
        ("nobody", "never swept"),
        ("..", "must match"),
        ("/tmp/x", "must match"),
        ("acme\n", "must match"),
        ("Acme", "must match"),
        ("", "must match"),
    ],
)
def test_a_sweep_is_refused_unless_deletion_was_requested(world, target, why):
    wh, reg, *_ = world
    with pytest.raises(SweepRefused, match=why):
        plan_sweep(reg.list(), swept_refs(wh), target)


def test_a_disconnected_workspace_is_not_swept_either(world):
    wh, reg, *_ = world
    reg.upsert(reg.get("globex").model_copy(update={"status": WorkspaceStatus.disconnected}))
    with pytest.raises(SweepRefused, match="is disconnected"):
        plan_sweep(reg.list(), swept_refs(wh), "globex")


def test_the_override_needs_the_id_typed_again(world):
    wh, reg, *_ = world
    with pytest.raises(SweepRefused, match="confirmation"):
        plan_sweep(reg.list(), swept_refs(wh), "acme", force=True)
    with pytest.raises(SweepRefused, match="confirmation"):
        plan_sweep(reg.list(), swept_refs(wh), "acme", force=True, confirm="globex")
    with pytest.raises(SweepRefused, match="names one workspace"):
        plan_sweep(reg.list(), swept_refs(wh), None, force=True, confirm="acme")
    [target] = plan_sweep(reg.list(), swept_refs(wh), "acme", force=True, confirm="acme")
    assert target.forced and target.workspace_id == "acme"
    # a dry run counts and changes nothing: no override needed
    [dry] = plan_sweep(reg.list(), swept_refs(wh), "acme", dry_run=True)
    assert not dry.forced


def test_requested_deletions_and_earlier_sweeps_are_what_a_sweep_acts_on(world):
    wh, reg, store, exports, _ = world
    assert plan_sweep(reg.list(), swept_refs(wh)) == []
    ws = request_deletion(reg, "acme")
    [target] = plan_sweep(reg.list(), swept_refs(wh))
    assert target.workspace_id == "acme" and target.workspace == ws
    report = sweep_workspace(wh, "acme", requested_at=ws.deletion_requested_at, secrets=store,
                             token_secret="tok-acme", exports_root=exports, registry=reg)  # fmt: skip
    assert report.verified and "acme" not in [w.id for w in reg.list()]
    # gone from the registry, but its digest is in the audit log: re-verifying is allowed without an override
    [again] = plan_sweep(reg.list(), swept_refs(wh), "acme")
    assert again.workspace is None and not again.forced


def test_exports_are_removed_only_inside_the_exports_folder(world, tmp_path):
    *_, exports, _ = world
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    exports.mkdir()
    (exports / "acme").symlink_to(outside, target_is_directory=True)
    for name in ("acme", "..", "/tmp", "a/b", ".", ""):
        with pytest.raises(PathRefused):
            remove_owned(exports, name)
    assert (outside / "precious.txt").read_text() == "keep me" and (exports / "acme").is_symlink()
    (exports / "globex" / "old").mkdir(parents=True)
    (exports / "globex" / "old" / "x.parquet").write_bytes(b"x")
    (exports / "globex" / "link").symlink_to(outside / "precious.txt")
    assert remove_owned(exports, "globex") == 2  # the file and the symlink; not what the link points to
    assert not (exports / "globex").exists() and (outside / "precious.txt").exists()


def test_a_refused_path_is_never_reported_as_passed(world, tmp_path):
    wh, reg, store, exports, _ = world
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    exports.mkdir()
    (exports / "acme").symlink_to(outside, target_is_directory=True)
    ws = request_deletion(reg, "acme")
    report = sweep_workspace(wh, "acme", requested_at=ws.deletion_requested_at, secrets=store,
                             token_secret="tok-acme", exports_root=exports, registry=reg,
                             remove_partition=lambda _w: True)  # fmt: skip
    assert not report.verified and report.remaining == {}
    assert any("symlink" in p for p in report.problems)
    assert (outside / "precious.txt").read_text() == "keep me"
    # the workspace stays registered and due, so the next sweep retries once the path is fixed
    assert reg.get("acme").status is WorkspaceStatus.deletion_requested and not report.partition_removed
    [audit] = wh.query(f"select verification, problems from {wh.table_ref('ops', AUDIT_LOG.name)}")
    assert audit["verification"] == "failed" and "symlink" in audit["problems"]


def test_swept_rows_are_gone_from_the_file_bytes(world, tmp_path):
    wh, reg, store, exports, _ = world
    path = tmp_path / "warehouse.duckdb"
    needle = CAMPAIGN.encode()
    assert needle in path.read_bytes()  # positive control: the search does find the name in the file
    ws = request_deletion(reg, "acme")
    report = sweep_workspace(wh, "acme", requested_at=ws.deletion_requested_at, secrets=store,
                             token_secret="tok-acme", registry=reg)  # fmt: skip
    assert report.verified and report.access_schema_dropped
    assert report.rows_deleted["raw.meta_campaigns"] == 3000 and report.rows_deleted["marts.facts"] == 3000
    wh.execute("checkpoint")
    wh.execute("vacuum")
    assert needle in path.read_bytes()  # DELETE + CHECKPOINT + VACUUM leave the bytes in free blocks
    assert wh.compact()
    data = path.read_bytes()
    assert needle not in data and b"'acme'" not in data and access_schema_name("acme").encode() not in data
    # everything else survived the rebuild, the proof included
    assert wh.query("select count(*) as n from raw.meta_campaigns")[0]["n"] == 3000
    assert wh.query("select count(*) as n from ws_globex.facts")[0]["n"] == 3000
    [audit] = wh.query(f"select workspace_ref, verification from {wh.table_ref('ops', AUDIT_LOG.name)}")
    assert audit == {"workspace_ref": workspace_ref("acme"), "verification": "passed"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p.name for p in tmp_path.iterdir() if "compact" in p.name]


def test_exports_stay_inside_the_workspace_folder(world, tmp_path):
    wh, *_ = world
    exports = tmp_path / "exports"
    for bad in ("..", "../x", "/tmp/x", "a/b", ".hidden", "x" * 200):
        with pytest.raises(ExportRefused):
            export_workspace(wh, "globex", exports, bad)
    export = export_workspace(wh, "globex", exports, "2026-12-01")
    assert export.path.parent == (exports / "globex").resolve()
    assert stat.S_IMODE(os.stat(export.path).st_mode) == 0o700
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in export.path.iterdir()} == {0o600}
    with pytest.raises(ExportRefused, match="already exists"):
        export_workspace(wh, "globex", exports, "2026-12-01")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (exports / "acme").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ExportRefused, match="symlink"):
        export_workspace(wh, "acme", exports)
    assert list(outside.iterdir()) == []
    manifest = json.loads((export.path / "manifest.json").read_text())
    assert manifest["workspace_id"] == "globex" and manifest["total_rows"] > 0


def test_the_sweep_checks_the_id_itself(world):
    wh, *_ = world
    for bad in ("..", "acme\n", "a'b"):
        with pytest.raises(ValueError):
            sweep_workspace(wh, bad, requested_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert wh.query("select count(*) as n from raw.meta_campaigns")[0]["n"] == 6000


def test_a_request_never_undoes_a_change_made_meanwhile(world):
    _, reg, *_ = world

    class Racing(YamlRegistry):
        """Another process adds an ad account right after this one read the entry (once)."""

        raced = False

        def get(self, workspace_id):
            ws = super().get(workspace_id)
            if not self.raced:
                self.raced = True
                other = YamlRegistry(self.path)
                other.upsert(
                    ws.model_copy(update={"meta": ws.meta.model_copy(update={"ad_accounts": ["act_1", "act_9"]})})
                )
            return ws

    ws = request_deletion(Racing(reg.path), "acme")
    assert ws.status is WorkspaceStatus.deletion_requested and ws.meta.ad_accounts == ["act_1", "act_9"]
    assert reg.get("acme") == ws
