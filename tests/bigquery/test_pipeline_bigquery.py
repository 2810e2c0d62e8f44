"""The production path end to end on the BigQuery stand-in: the same Dagster jobs with SENTRUM_WAREHOUSE=bigquery
and SENTRUM_REGISTRY=bigquery: one night for the demo's three workspaces (accounts in four currencies and four
timezones) from the Graph API sandbox (one extraction run, load jobs; one dbt build on the BigQuery target), every
fact mart equal to the sandbox's truth to the cent (tests/support/mart_truth.py, the checks the demo's DuckDB file
passes), health and diagnostics recorded, then one workspace swept away with proof and the others left as they were."""

from __future__ import annotations

from collections import defaultdict

import dagster as dg
import pytest

from graph_sandbox import SandboxServer, Scenario
from orchestration.asset_keys import FINDINGS_KEY
from orchestration.definitions import build_definitions
from orchestration.resources import registry_resource, secret_store_resource
from orchestration.runner import run_nightly
from orchestration.settings import Settings
from retention import AUDIT_LOG, request_deletion, workspace_ref
from tests.support import bq_emulator, mart_truth
from warehouse import TableInfo, Warehouse
from workspaces import MetaConnection, Workspace

pytestmark = pytest.mark.bigquery

# Trailing days the night re-pulls: short, to keep the BigQuery build cheap; the marts must hold exactly these.
RESTATEMENT_DAYS = 3
SWEPT = "acme"


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(Scenario("demo", 42), job_seconds=0.2) as server:
        yield server


def _rows_by_workspace(wh: Warehouse) -> dict[str, dict[str, list[str]]]:
    """Every row of every table and view with workspace_id (one catalog walk), per table and workspace, as its JSON
    text. One query for all of them: the stand-in's cost is mostly per statement (it parses each one several times);
    a query per table cost this test ~7 s more CPU for each of its two snapshots."""
    tables = {f"{t.schema}.{t.name}": wh.table_ref(t.schema, t.name) for t in wh.tables_with_column("workspace_id")}
    out: dict[str, dict[str, list[str]]] = {name: defaultdict(list) for name in tables}
    union = " union all ".join(
        f"select '{name}' as tbl, workspace_id, to_json_string(t) as row_json from {ref} as t"
        for name, ref in tables.items()
    )
    for row in wh.query(union):
        out[row["tbl"]][row["workspace_id"]].append(row["row_json"])
    return {name: {ws: sorted(rows) for ws, rows in by_ws.items()} for name, by_ws in out.items()}


def _findings_reported(instance: dg.DagsterInstance, run_id: str) -> dict[str, int]:
    """Workspace -> the findings its diagnostics materialization reports, from the run's event log."""
    out = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = entry.dagster_event.step_materialization_data.materialization
        if mat.asset_key == FINDINGS_KEY:
            out[mat.partition] = int(mat.metadata["findings"].value)
    return out


def _without(rows: dict[str, dict[str, list[str]]], workspace_id: str) -> dict[str, dict[str, list[str]]]:
    """The rows of every other workspace, tables holding none of them left out."""
    kept = {table: {ws: r for ws, r in by_ws.items() if ws != workspace_id} for table, by_ws in rows.items()}
    return {table: by_ws for table, by_ws in kept.items() if by_ws}


def test_sync_then_sweep_on_bigquery(emulator, sandbox, tmp_path, monkeypatch):
    prefix = bq_emulator.unique_prefix("pipe")
    for key, value in {
        "SENTRUM_HOME": str(tmp_path),
        "SENTRUM_WAREHOUSE": "bigquery",
        "SENTRUM_REGISTRY": "bigquery",
        "SENTRUM_BQ_PROJECT": bq_emulator.PROJECT,
        "SENTRUM_BQ_LOCATION": "US",
        "SENTRUM_BQ_DATASET_PREFIX": prefix,
        "SENTRUM_BQ_API_ENDPOINT": emulator.url,
        "SENTRUM_META_GRAPH_URL": sandbox.url,
        "SENTRUM_RESTATEMENT_DAYS": str(RESTATEMENT_DAYS),
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    scenario = sandbox.scenario
    registry = registry_resource(settings).get()
    store = secret_store_resource(settings).get()
    ids = []
    for sw in scenario.workspaces():
        secret = f"t-{sw.workspace_id}"
        registry.upsert(
            Workspace(
                id=sw.workspace_id,
                name=sw.name,
                meta=MetaConnection(ad_accounts=list(sw.account_ids), token_secret=secret),
            )
        )
        store.put(secret, sw.token)
        ids.append(sw.workspace_id)
    assert SWEPT in ids and len(ids) >= 3

    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    outcomes = run_nightly(defs, instance, settings, queue=False)
    assert [o.job for o in outcomes] == ["meta_extract_job", "marts_job"]  # one extraction run, one dbt build
    assert all(o.all_ok for o in outcomes), [o.error for o in outcomes]
    assert sorted(outcomes[0].workspaces_ok) == sorted(ids)

    client = emulator.client()
    marts = mart_truth.Marts(
        fetch=lambda sql: [tuple(r.values()) for r in client.query(sql).result()],
        table=lambda name: f"`{bq_emulator.PROJECT}.{prefix}marts.{name}`",
    )
    timezones = mart_truth.timezones(scenario)
    currencies = mart_truth.currencies(marts)
    assert len(currencies) >= 2 and len(timezones) >= 2, (currencies, timezones)
    windows = mart_truth.account_windows(marts, scenario, days=RESTATEMENT_DAYS)
    comparisons = mart_truth.every_fact_mart(marts, scenario, windows)
    assert [c.describe() for c in comparisons if not c.holds] == []

    warehouse = defs.resources["warehouse"]
    with warehouse.open() as wh:
        health = wh.query(f"select workspace_id, status from {wh.table_ref('ops', 'workspace_health')}")
        before = _rows_by_workspace(wh)
    assert sorted((h["workspace_id"], h["status"]) for h in health) == [(w, "ok") for w in sorted(ids)]
    built = {table.removeprefix("marts.") for table in before if table.startswith("marts.fct_")}
    assert built == mart_truth.FACT_MARTS == {c.mart for c in comparisons}  # no fact mart left unchecked
    # diagnostics ran on BigQuery for every workspace (a materialization each) and stored what it reported; the sweep
    # below must then clear SWEPT's findings too
    reported = _findings_reported(instance, outcomes[-1].run_id)
    assert sorted(reported) == sorted(ids)
    stored = before["diagnostics.diagnostics_findings"]
    assert {ws: len(stored.get(ws, [])) for ws in ids} == reported
    assert all(before[f"marts.{mart}"].get(SWEPT) for mart in built)

    request_deletion(registry, SWEPT)
    result = defs.resolve_job_def("retention_sweep_job").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    with warehouse.open() as wh:
        after = _rows_by_workspace(wh)
        audit = wh.query(f"select workspace_ref, verification from {wh.table_ref('ops', AUDIT_LOG.name)}")
    # the audit log names a workspace by digest only, so it has no workspace_id column and nothing of SWEPT is left
    left = {table: len(by_ws.get(SWEPT, [])) for table, by_ws in after.items()}
    assert left and all(n == 0 for n in left.values()), left
    assert audit == [{"workspace_ref": workspace_ref(SWEPT), "verification": "passed"}]
    assert not store.exists(f"t-{SWEPT}")
    assert sorted(w.id for w in registry.list()) == sorted(set(ids) - {SWEPT})
    # every row of the other workspaces is still there, unchanged, in every table and view (only SWEPT's access
    # views, which held nothing else, are gone), and so are their tokens
    assert _without(after, SWEPT) == _without(before, SWEPT)
    assert all(store.exists(f"t-{w}") for w in ids if w != SWEPT)


def test_catalog_walk_covers_a_dataset_added_later(emulator):
    """Deletion covers every table with workspace_id, even in a dataset the code does not know (design rule 9)."""
    from google.cloud import bigquery

    from orchestration.bigquery import BigQueryWarehouseResource

    prefix = bq_emulator.unique_prefix("cat")
    client = emulator.client()
    client.create_dataset(bigquery.Dataset(f"{bq_emulator.PROJECT}.{prefix}scratch"))
    client.query(
        f"create table `{bq_emulator.PROJECT}.{prefix}scratch.notes` as "
        "select 'acme' as workspace_id, 1 as x union all select 'globex', 2"
    ).result()
    client.create_dataset(bigquery.Dataset(f"{bq_emulator.PROJECT}.other_app_scratch"), exists_ok=True)
    resource = BigQueryWarehouseResource(
        project=bq_emulator.PROJECT, location="US", dataset_prefix=prefix, api_endpoint=emulator.url
    )
    with resource.open() as wh:
        found = {(t.schema, t.name) for t in wh.tables_with_column("workspace_id")}
        assert ("scratch", "notes") in found
        assert all(not s.startswith("other_app") for s, _ in found)  # another deployment's datasets are not ours
        assert wh.delete_rows(TableInfo("scratch", "notes"), "acme") == 1
        assert wh.count_rows(TableInfo("scratch", "notes"), "globex") == 1
