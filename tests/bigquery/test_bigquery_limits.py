"""BigQuery's limits on the pipeline's side (deploy/README.md, "BigQuery limits"): the catalog walk in chunks under
the 1,000-tables-per-query limit, labels and the byte cap on every job the warehouse submits."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.bigquery.conftest import SpyClient, make_warehouse
from tests.support import bq_emulator
from warehouse import BatchKey, TableInfo, WarehouseError
from warehouse.bigquery_backend import BigQueryWarehouse
from warehouse.bigquery_catalog import CATALOG_CHUNK, catalog_queries
from warehouse.schema import ALL_TABLES, Table

pytestmark = pytest.mark.bigquery

REPO = Path(__file__).resolve().parents[2]

# BigQuery's documented quota: "Maximum number of tables referenced per query: 1,000" (views count).
BQ_MAX_TABLES_PER_QUERY = 1_000
# BigQuery's documented limit of authorized datasets in one dataset's access list.
BQ_MAX_AUTHORIZED_DATASETS = 2_500
FIVE_LAYERS = ("raw", "staging", "intermediate", "marts", "ops")


def make(emulator, **kwargs) -> tuple[BigQueryWarehouse, SpyClient]:
    return make_warehouse(emulator, "lim", **kwargs)


def _referenced(sql: str) -> list[str]:
    """The tables and views a catalog query references (every name in backticks)."""
    return re.findall(r"`([^`]+)`", sql)


def test_the_catalog_walk_in_chunks_of_two_finds_every_table_of_five_datasets(emulator):
    wh, spy = make(emulator, layers=FIVE_LAYERS, catalog_chunk=2)
    # a table with the column in every dataset but raw (where ensure_raw created them), and a view
    added = {TableInfo(layer, f"scratch_{layer}") for layer in FIVE_LAYERS if layer != "raw"}
    for info in added:
        wh.execute(f"create table {wh.table_ref(info.schema, info.name)} (workspace_id string, n int64)")
    wh.execute(
        f"create view {wh.table_ref('marts', 'scratch_view')} as "
        f"select workspace_id from {wh.table_ref('marts', 'scratch_marts')}"
    )
    added.add(TableInfo("marts", "scratch_view", "view"))
    wh.execute(f"create table {wh.table_ref('staging', 'no_workspace')} (n int64)")
    created = {TableInfo(t.schema, t.name) for t in ALL_TABLES.values() if "workspace_id" in t.column_names}
    assert {t.schema for t in created} == {"raw"} and len(created) > 1

    spy.queries.clear()
    found = wh.tables_with_column("workspace_id")
    assert set(found) == created | added and len(found) == len(created | added)
    walks = [q for q in spy.queries if q["config"].labels.get("job") == "catalog"]
    assert len(walks) == 3  # five datasets, two per query
    assert all(len(_referenced(q["sql"])) <= 4 for q in walks)
    assert sorted(ref.split(".")[1] for q in walks for ref in _referenced(q["sql"])) == sorted(
        wh.dataset_id(layer) for layer in FIVE_LAYERS for _ in range(2)
    )

    # one query over all of them finds the same
    whole = BigQueryWarehouse(
        emulator.client(), dataset_prefix=wh.prefix, layers=FIVE_LAYERS, retry=bq_emulator.TEST_RETRY, job_retry=None
    )
    assert whole.tables_with_column("workspace_id") == found
    wh.close()
    whole.close()


def test_the_default_chunk_stays_under_the_table_limit_past_the_authorized_dataset_limit():
    datasets = [f"sentrum_{layer}" for layer in (*FIVE_LAYERS, "diagnostics")] + [
        f"sentrum_ws_{i}" for i in range(BQ_MAX_AUTHORIZED_DATASETS + 500)
    ]
    queries = catalog_queries("p-roject", datasets, CATALOG_CHUNK)
    assert max(len(_referenced(sql)) for sql in queries) <= BQ_MAX_TABLES_PER_QUERY
    walked = [ref.split(".")[1] for sql in queries for ref in _referenced(sql)]
    assert sorted(walked) == sorted(datasets * 2)  # every dataset, COLUMNS and TABLES, once each
    with pytest.raises(WarehouseError, match="catalog chunk"):
        catalog_queries("p-roject", datasets, BQ_MAX_TABLES_PER_QUERY // 2 + 1)
    with pytest.raises(WarehouseError, match="catalog chunk"):
        catalog_queries("p-roject", datasets, 0)


def _digest(workspace_id: str) -> str:
    # docs/privacy.md: a workspace is named outside the data by SHA-256 of "sentrum-workspace:<id>", 32 hex digits
    return hashlib.sha256(f"sentrum-workspace:{workspace_id}".encode()).hexdigest()[:32]


OPS = Table("limits_probe", (("workspace_id", "string"), ("n", "int64")), schema="ops")


def test_every_job_carries_labels_and_every_query_the_byte_cap(emulator):
    cap = 50 * 1024**3
    wh, spy = make(emulator, labels={"app": "sentrum"}, maximum_bytes_billed=cap)
    day = date(2026, 11, 1)
    batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", day, day), {})
    batch.append("meta_insights", [{"report": "ad_daily", "level": "ad", "date_day": day, "spend": Decimal(1)}])
    batch.commit()
    wh.flush()
    wh.query("select 1 as x")
    wh.execute(f"delete from {wh.table_ref('raw', 'meta_insights')} where false")
    wh.append_rows(OPS, [{"workspace_id": "acme", "n": 1}])
    wh.replace_rows(OPS, ["workspace_id"], [{"workspace_id": "acme", "n": 2}])
    tables = wh.tables_with_column("workspace_id")
    assert wh.count_rows(TableInfo("raw", "meta_insights"), "acme") == 1
    assert wh.delete_rows(TableInfo("ops", OPS.name), "acme") == 1
    wh.query("select 2 as x", labels={"sentrum_component": "diagnostics", "workspace": "acme"})

    assert TableInfo("ops", OPS.name) in tables
    jobs = {q["config"].labels["job"] for q in spy.queries}
    assert {"query", "dml", "insert", "replace", "catalog", "count", "delete"} <= jobs
    for q in spy.queries:
        labels = q["config"].labels
        assert labels["app"] == "sentrum" and labels["sentrum_component"], (q["sql"], labels)
        assert q["config"].maximum_bytes_billed == cap, q["sql"]
        assert "acme" not in labels.values()
    assert len(spy.loads) == 2  # the table, then the manifest
    for load in spy.loads:
        labels = load["config"].labels
        assert labels["sentrum_component"] == "extract" and labels["job"] == "load" and labels["app"] == "sentrum"
        assert labels["workspace"] == _digest("acme")
    by_job = {q["config"].labels["job"]: q["config"].labels for q in spy.queries}
    assert by_job["query"]["sentrum_component"] == "diagnostics"  # a caller's component wins
    assert by_job["query"]["workspace"] == _digest("acme")
    assert by_job["dml"]["sentrum_component"] == "pipeline"
    assert by_job["count"]["sentrum_component"] == "retention"
    assert by_job["count"]["workspace"] == _digest("acme") and by_job["count"]["layer"] == "raw"
    wh.close()

    uncapped, spy = make(emulator)
    uncapped.query("select 1 as x")
    assert spy.queries[-1]["config"].maximum_bytes_billed is None
    uncapped.close()
    with pytest.raises(WarehouseError, match="maximum_bytes_billed"):
        BigQueryWarehouse(emulator.client(), maximum_bytes_billed=0)


# dbt reads its profile and project as below (in a child process: dbt's flags and invocation context are global),
# once per SENTRUM_BQ_MAX_BYTES_BILLED value given, in one process (importing dbt costs seconds of CPU)
_DBT_CONFIG = """
import json, os, sys
from argparse import Namespace
import yaml
from dbt_common.context import set_invocation_context
from dbt.flags import set_from_args
from dbt.config.profile import Profile
from dbt.config.project import Project
from dbt.config.renderer import DbtProjectYamlRenderer, ProfileRenderer
set_from_args(Namespace(), {})
root = sys.argv[1]
out = {}
for value in json.loads(sys.argv[2]):
    set_invocation_context({**os.environ, "SENTRUM_BQ_MAX_BYTES_BILLED": value})
    raw = yaml.safe_load(open(os.path.join(root, "profiles.yml")))
    profile = Profile.from_raw_profiles(raw, "sentrum", ProfileRenderer({}), target_override="bigquery")
    project = Project.from_project_root(root, DbtProjectYamlRenderer(None, {}))
    out[value] = {"cap": profile.credentials.maximum_bytes_billed, "job_label": project.query_comment.job_label,
                  "comment": project.query_comment.comment}
print(json.dumps(out))
"""
CAPS = [("123456789", 123456789), ("", 0)]


@pytest.fixture(scope="module")
def dbt_rendered() -> dict[str, dict]:
    """What dbt renders for each value of SENTRUM_BQ_MAX_BYTES_BILLED in CAPS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DBT_"))}
    out = subprocess.run(
        [sys.executable, "-c", _DBT_CONFIG, str(REPO / "dbt_project"), json.dumps([value for value, _ in CAPS])],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("value", "cap"), CAPS)
def test_dbt_profile_and_project_render_the_byte_cap_and_job_labels(dbt_rendered, value, cap):
    """0 is dbt-bigquery's "no cap" (it sends maximum_bytes_billed only when set and not 0). What dbt then sends
    to BigQuery is checked in tests/bigquery/test_dbt_bigquery.py."""
    rendered = dbt_rendered[value]
    assert rendered["cap"] == cap
    assert rendered["job_label"] is True and "'sentrum_component': 'dbt'" in rendered["comment"]
