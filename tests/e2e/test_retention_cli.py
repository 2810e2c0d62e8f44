"""Privacy rights through the CLI: three workspaces synced, one deleted and swept (and searched for, byte by byte, in
every file under SENTRUM_HOME afterwards); exports, refusals, the confirmed override.

The sandbox's `acme` workspace is registered under the id GONE, a string found nowhere in the repository (the
project's docs use `acme` as an example, and dbt's manifest carries them), so the search for it is meaningful.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from retention import workspace_ref
from secret_store import LocalSecretStore
from tests.e2e.conftest import make_env

GONE = "tenant-zq7"
IDS = {"acme": GONE, "globex": "globex", "initech": "initech"}


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    e = make_env(tmp_path_factory.mktemp("home"), sandbox, dbt_prepared=True)
    # A short nightly window: what a sweep must remove and prove does not depend on how many days were pulled (every
    # table still holds rows of each workspace; the positive controls below check that the searches find them).
    e.vars["SENTRUM_RESTATEMENT_DAYS"] = "3"
    for w in sandbox.scenario.workspaces():
        wid = IDS[w.workspace_id]
        r = e.sentrum("workspaces", "add", wid, "--ad-accounts", ",".join(w.account_ids), stdin=w.token)
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


def _files_naming(root: Path, needle: str, whole_token: bool = True) -> list[str]:
    """Every file under `root` whose bytes hold `needle`: as a whole token (an id: not inside a longer id), or
    anywhere (a campaign name: DuckDB stores strings back to back)."""
    pattern = re.compile(re.escape(needle.encode()))
    if whole_token:
        pattern = re.compile(rb"(?<![A-Za-z0-9_-])" + re.escape(needle.encode()) + rb"(?![A-Za-z0-9_-])")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and pattern.search(p.read_bytes()))


def test_export_contains_exactly_the_workspace_rows(env):
    r = env.sentrum("export", "--workspace", "globex", "--out", "first")
    assert r.returncode == 0, r.stderr[-2000:]
    out = env.home / "exports" / "globex" / "first"
    assert str(out) in r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    expected = {t: n for (t, ws), n in _rows_by_workspace(env).items() if ws == "globex"}
    assert {f["table"]: f["rows"] for f in manifest["files"]} == expected
    for f in manifest["files"]:
        assert set(pq.read_table(out / f["file"]).column("workspace_id").to_pylist()) == {"globex"}
    assert {oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {"0o600"}


@pytest.mark.parametrize("out", ["../../escaped", "/tmp/sentrum-export-escape", "a/b", "..", ".hidden", "first"])
def test_export_writes_nowhere_but_its_workspace_folder(env, out):
    before = sorted(p for p in env.home.rglob("*"))
    r = env.sentrum("export", "--workspace", "globex", "--out", out)
    assert r.returncode == 2 and r.stderr.startswith("sentrum: --out") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p for p in env.home.rglob("*")) == before
    assert not Path("/tmp/sentrum-export-escape").exists() and not (env.home.parent / "escaped").exists()


def test_delete_needs_confirmation(env):
    r = env.sentrum("workspaces", "delete", GONE)
    assert r.returncode == 2 and "--yes" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--workspace", "globex"],  # active: no deletion was requested
        ["--workspace", "nobody"],  # never registered, never swept
        ["--workspace", ".."],  # the audit's case: SENTRUM_HOME itself
        ["--workspace", "/tmp"],  # an absolute path
        ["--workspace", "globex\n"],  # a trailing newline
        ["--workspace", "globex", "--force"],  # the override, unconfirmed (no terminal, no --yes)
        ["--force", "--yes"],  # an override names one workspace
    ],
)
def test_a_sweep_aimed_wrong_is_refused_and_deletes_nothing(env, args):
    before = _rows_by_workspace(env)
    files = sorted(str(p) for p in env.home.rglob("*"))
    r = env.sentrum("sweep", *args, stdin="")  # no terminal: an override cannot be confirmed by typing
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 5  # argparse: usage + error
    assert _rows_by_workspace(env) == before and sorted(str(p) for p in env.home.rglob("*")) == files


@pytest.fixture(scope="module")
def dagster_defs(env):
    """The project's Definitions and instance for this home, as the Dagster UI or daemon would use them."""
    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    settings = Settings(home=env.home, meta_graph_url=env.vars["SENTRUM_META_GRAPH_URL"])
    return build_definitions(settings), dg.DagsterInstance.from_config(str(env.home / "dagster"))


@pytest.mark.parametrize(
    "config",
    [
        {"workspace": "globex"},
        {"workspace": ".."},
        {"workspace": "/tmp"},
        {"workspace": "globex\n"},
        {"workspace": "globex", "force": True},
        {"workspace": "globex", "force": True, "confirm": "initech"},
        {"force": True, "confirm": "globex"},
    ],
)
def test_the_dagster_config_cannot_aim_the_sweep_wrong_either(env, dagster_defs, config):
    defs, instance = dagster_defs
    before = _rows_by_workspace(env)
    files = sorted(str(p) for p in env.home.rglob("*") if "dagster" not in p.parts)
    try:
        result = defs.resolve_job_def("retention_sweep_job").execute_in_process(
            run_config={"ops": {"ops__retention_audit_log": {"config": {"dry_run": False, **config}}}},
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
    except dg.DagsterInvalidConfigError:
        pass  # refused before the run started
    assert _rows_by_workspace(env) == before
    assert sorted(str(p) for p in env.home.rglob("*") if "dagster" not in p.parts) == files


def test_sweep_removes_every_trace_and_proves_it(env):
    before = _rows_by_workspace(env)
    assert before[("scratch.notes", GONE)] == 1 and before[("raw.meta_insights", GONE)] > 0
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        names = {
            ws: {
                n
                for (n,) in con.execute(
                    "select campaign_name from marts.dim_campaigns where workspace_id = ?", [ws]
                ).fetchall()
            }
            for ws in IDS.values()
        }
    r = env.sentrum("export", "--workspace", GONE, "--out", "before-deletion")
    assert r.returncode == 0, r.stderr[-2000:]
    # Positive controls: the searches below do find the id and the names wherever they are stored in plain bytes.
    named = _files_naming(env.home, GONE)
    assert "warehouse.duckdb" in named and "workspaces.yaml" in named
    assert any(f.startswith("dagster/") for f in named) and any(f.startswith("dbt/runs/") for f in named)
    # DuckDB may store a string FSST-compressed (no plain bytes): the campaign names searched for are those of this
    # workspace alone that the file holds in plain bytes now, so their absence afterwards means something.
    data = env.duckdb_file.read_bytes()
    campaigns = sorted(n for n in names[GONE] - names["globex"] - names["initech"] if n.encode() in data)
    assert campaigns, "no campaign name of the workspace is stored in plain bytes: the byte search would prove nothing"
    for campaign in campaigns:
        assert "warehouse.duckdb" in _files_naming(env.home, campaign, whole_token=False)

    r = env.sentrum("workspaces", "delete", GONE, "--yes")
    assert r.returncode == 0 and "deletion requested" in r.stdout
    dry = env.sentrum("sweep", "--dry-run")
    assert dry.returncode == 0 and "would delete" in dry.stdout and _rows_by_workspace(env) == before

    swept = env.sentrum("sweep")
    assert swept.returncode == 0, (swept.stdout + swept.stderr)[-3000:]
    assert "verification over" in swept.stdout and "passed" in swept.stdout and GONE in swept.stdout
    assert "warehouse file rebuilt" in swept.stdout
    after = _rows_by_workspace(env)
    assert not [k for k in after if k[1] == GONE]
    assert after == {k: v for k, v in before.items() if k[1] != GONE}

    # Nothing under SENTRUM_HOME names it any more: warehouse bytes, registry, secrets, exports, dbt, Dagster.
    assert _files_naming(env.home, GONE) == []
    assert {c: _files_naming(env.home, c, whole_token=False) for c in campaigns} == {c: [] for c in campaigns}
    assert _files_naming(env.home, "act_1001") == [] and _files_naming(env.home, "ws_tenant_hzq7") == []
    # ... while the others' history is still there
    assert "warehouse.duckdb" in _files_naming(env.home, "globex")
    assert any(f.startswith("dagster/") for f in _files_naming(env.home, "globex"))

    assert not LocalSecretStore(env.home / "secrets").exists(f"meta-token-{GONE}")
    listed = env.sentrum("workspaces", "list").stdout
    assert GONE not in listed and "globex" in listed
    instance = dg.DagsterInstance.from_config(str(env.home / "dagster"))
    assert GONE not in instance.get_dynamic_partitions("workspaces")
    # The scrubbed history is still a working Dagster history: every run and event reads back, the kept
    # workspaces' partitions are still materialized.
    for run_id in instance.get_run_ids():
        assert instance.get_run_by_id(run_id) is not None and instance.all_logs(run_id)
    materialized = instance.get_materialized_partitions(dg.AssetKey(["raw", "meta_insights"]))
    assert {"globex", "initech"} <= materialized and GONE not in materialized
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        audit = con.execute(
            "select verification, secret_deleted, partition_removed, rows_deleted_total, tables_touched, "
            "access_schema_dropped, exports_removed, history from ops.retention_audit_log where workspace_ref = ?",
            [workspace_ref(GONE)],
        ).fetchall()
    [(verification, secret_deleted, partition_removed, total, touched, dropped, exports, history)] = audit
    assert verification == "passed" and secret_deleted and partition_removed and dropped and exports > 0
    assert total == sum(n for (t, ws), n in before.items() if ws == GONE)
    assert "scratch.notes" in json.loads(touched)
    assert json.loads(history)["runs_scrubbed"] >= 2  # the nightly's extraction and marts runs served three

    again = env.sentrum("sweep", "--workspace", GONE)  # re-verify: allowed, it was swept before
    assert again.returncode == 0 and "deleted 0 row(s)" in again.stdout and "passed" in again.stdout
    assert _files_naming(env.home, GONE) == []  # that run's config named it: the run went too


def test_the_confirmed_override_sweeps_an_active_workspace(env):
    r = env.sentrum("sweep", "--workspace", "initech", "--force", "--yes")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "(forced)" in r.stdout and "passed" in r.stdout
    assert not [k for k in _rows_by_workspace(env) if k[1] == "initech"]
    assert "initech" not in env.sentrum("workspaces", "list").stdout
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        [(forced, requested)] = con.execute(
            "select forced, requested_at from ops.retention_audit_log where workspace_ref = ?",
            [workspace_ref("initech")],
        ).fetchall()
    assert forced and requested is not None  # the request was recorded before anything was deleted
