"""Privacy rights through the CLI: three workspaces synced, one deleted and swept; export of another."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from secret_store import LocalSecretStore
from tests.e2e.conftest import make_env


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox)
    for w in sandbox.scenario.workspaces():
        r = e.sentrum("workspaces", "add", w.workspace_id, "--ad-accounts", ",".join(w.account_ids), stdin=w.token)
        assert r.returncode == 0, r.stderr
    r = e.sentrum("nightly")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    with duckdb.connect(str(e.duckdb_file)) as con:  # an analyst's table, created after the sync
        con.execute("create schema if not exists scratch")
        con.execute("create table scratch.notes as select distinct workspace_id, 'note' as note from marts.dim_ads")
    return e


def _rows_by_workspace(env) -> dict[tuple[str, str], int]:
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        tables = con.execute(
            "select c.table_schema, c.table_name from information_schema.columns c join information_schema.tables t "
            "using (table_catalog, table_schema, table_name) where c.column_name = 'workspace_id' "
            "and t.table_type = 'BASE TABLE' and c.table_name <> 'retention_audit_log'"
        ).fetchall()
        out = {}
        for schema, table in tables:
            for ws, n in con.execute(f'select workspace_id, count(*) from "{schema}"."{table}" group by 1').fetchall():
                out[(f"{schema}.{table}", ws)] = n
    return out


def test_export_contains_exactly_the_workspace_rows(env, tmp_path):
    out = tmp_path / "globex-export"
    r = env.sentrum("export", "--workspace", "globex", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    expected = {t: n for (t, ws), n in _rows_by_workspace(env).items() if ws == "globex"}
    assert {f["table"]: f["rows"] for f in manifest["files"]} == expected
    for f in manifest["files"]:
        assert set(pq.read_table(out / f["file"]).column("workspace_id").to_pylist()) == {"globex"}


def test_delete_needs_confirmation(env):
    r = env.sentrum("workspaces", "delete", "acme")
    assert r.returncode == 2 and "--yes" in r.stderr


def test_sweep_removes_every_row_secret_and_partition_and_proves_it(env):
    before = _rows_by_workspace(env)
    assert before[("scratch.notes", "acme")] == 1 and before[("raw.meta_insights", "acme")] > 0
    r = env.sentrum("workspaces", "delete", "acme", "--yes")
    assert r.returncode == 0 and "deletion requested" in r.stdout

    dry = env.sentrum("sweep", "--dry-run")
    assert dry.returncode == 0 and "would delete" in dry.stdout and _rows_by_workspace(env) == before

    swept = env.sentrum("sweep")
    assert swept.returncode == 0, (swept.stdout + swept.stderr)[-3000:]
    assert "verification over" in swept.stdout and "passed" in swept.stdout
    after = _rows_by_workspace(env)
    assert not [k for k in after if k[1] == "acme"]
    assert {k: v for k, v in after.items()} == {k: v for k, v in before.items() if k[1] != "acme"}

    assert not LocalSecretStore(env.home / "secrets").exists("meta-token-acme")
    listed = env.sentrum("workspaces", "list").stdout
    assert "acme" not in listed and "globex" in listed
    instance = dg.DagsterInstance.from_config(str(env.home / "dagster"))
    assert "acme" not in instance.get_dynamic_partitions("workspaces")
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        audit = con.execute(
            "select verification, secret_deleted, partition_removed, rows_deleted_total, tables_touched "
            "from ops.retention_audit_log where workspace_id = 'acme'"
        ).fetchall()
    [(verification, secret_deleted, partition_removed, total, touched)] = audit
    assert verification == "passed" and secret_deleted and partition_removed
    assert total == sum(n for (t, ws), n in before.items() if ws == "acme")
    assert "scratch.notes" in json.loads(touched)

    again = env.sentrum("sweep", "--workspace", "acme")
    assert again.returncode == 0 and "deleted 0 row(s)" in again.stdout and "passed" in again.stdout
