"""The production path end to end on the BigQuery stand-in: the same Dagster jobs with SENTRUM_WAREHOUSE=bigquery
and SENTRUM_REGISTRY=bigquery: sync a workspace from the Graph API sandbox (load jobs), build the marts with dbt on
the BigQuery target, record health and diagnostics, then sweep the workspace away with proof."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import dagster as dg
import pytest

from graph_sandbox import SandboxServer, Scenario
from insights_jobs import Window
from orchestration.definitions import build_definitions
from orchestration.resources import registry_resource, secret_store_resource
from orchestration.runner import sync_workspace
from orchestration.settings import Settings
from retention import AUDIT_LOG, request_deletion, workspace_ref
from tests.support import bq_emulator
from warehouse import TableInfo
from workspaces import MetaConnection, Workspace

pytestmark = pytest.mark.bigquery

START, END = date(2026, 10, 1), date(2026, 10, 7)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(Scenario("small", 42), job_seconds=0.2) as server:
        yield server


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
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    ws = next(w for w in sandbox.scenario.workspaces() if len(w.account_ids) > 1)
    registry = registry_resource(settings).get()
    registry.upsert(
        Workspace(id="acme", name="Acme", meta=MetaConnection(ad_accounts=list(ws.account_ids), token_secret="t-acme"))
    )
    secret_store_resource(settings).get().put("t-acme", ws.token)

    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    outcomes = sync_workspace(defs, instance, settings, "acme", Window(START, END))
    assert [o.job for o in outcomes] == ["meta_extract_job", "marts_job"]
    assert all(o.all_ok for o in outcomes), [o.error for o in outcomes]

    truth = {}
    for account in ws.account_ids:
        for t in sandbox.scenario.truth_ad_daily(account, START, END):
            truth[(t.ad_id, t.date)] = t.spend
    client = emulator.client()
    rows = client.query(
        f"select ad_id, date_day, spend from `{bq_emulator.PROJECT}.{prefix}marts.fct_ad_insights_daily` "
        "where workspace_id = 'acme'"
    ).result()
    assert {(r.ad_id, r.date_day): Decimal(r.spend) for r in rows} == truth

    warehouse = defs.resources["warehouse"]
    with warehouse.open() as wh:
        [health] = wh.query(f"select * from {wh.table_ref('ops', 'workspace_health')}")
        assert health["workspace_id"] == "acme" and health["status"] == "ok"
        # a week of the small scenario is too short for any detector's baseline, so no finding is due; the diagnostics
        # step still ran on BigQuery and created its table, which the sweep below must then clear
        tables = {(t.schema, t.name) for t in wh.tables_with_column("workspace_id")}
        assert ("diagnostics", "diagnostics_findings") in tables

    request_deletion(registry, "acme")
    result = defs.resolve_job_def("retention_sweep_job").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    with warehouse.open() as wh:
        left = {f"{t.schema}.{t.name}": wh.count_rows(t, "acme") for t in wh.tables_with_column("workspace_id")}
        audit = wh.query(f"select workspace_ref, verification from {wh.table_ref('ops', AUDIT_LOG.name)}")
    # the audit log names a workspace by digest only, so it has no workspace_id column and nothing of acme is left
    assert left and all(n == 0 for n in left.values()), left
    assert audit == [{"workspace_ref": workspace_ref("acme"), "verification": "passed"}]
    assert not secret_store_resource(settings).get().exists("t-acme")
    assert [w.id for w in registry.list()] == []


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
