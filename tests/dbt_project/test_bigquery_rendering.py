"""The BigQuery rendering of every model, test and the access layer, without BigQuery.

- `dbt parse --target bigquery` needs no credentials; its manifest holds the BigQuery configs (partitioning,
  clustering, static insert_overwrite partitions computed from the window vars).
- `dbt compile --target bigquery` against a fake endpoint that answers `tables.get`: raw tables from
  warehouse.schema (minus one column, which must become a typed null), marts as existing tables so the facts compile
  in their incremental form. Every compiled statement is parsed as BigQuery SQL with sqlglot. The real BigQuery run
  is the warehouse suite's emulator test.

The three dbt invocations start together (none needs the others or the shared build).
"""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import sqlglot

from tests.dbt_project.helpers import failed, vars_arg
from tests.dbt_project.marts import INCREMENTAL_FACTS
from warehouse import ALL_TABLES

DIMS = ["dim_ad_accounts", "dim_campaigns", "dim_adsets", "dim_ads", "dim_creatives", "dim_budget_history"]


class FakeBigQuery(BaseHTTPRequestHandler):
    """Answers `tables.get`: raw tables with their schemas (minus one column), the facts as existing tables (so
    is_incremental() is true), 404 for anything else."""

    dropped = ("meta_insights", "frequency")  # a raw column missing on the warehouse side
    requests: list[str] = []

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.requests.append(self.path)
        m = re.match(r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/?]+)", self.path)
        if m:
            project, dataset, table = m.groups()
            ref = {"projectId": project, "datasetId": dataset, "tableId": table}
            if dataset == "sentrum_raw" and table in ALL_TABLES:
                fields = [f for f in ALL_TABLES[table].bigquery_fields() if (table, f["name"]) != self.dropped]
                return self._reply(
                    200,
                    {"kind": "bigquery#table", "tableReference": ref, "type": "TABLE", "schema": {"fields": fields}},
                )
            if dataset == "sentrum_marts" and table in INCREMENTAL_FACTS:
                return self._reply(
                    200, {"kind": "bigquery#table", "tableReference": ref, "type": "TABLE", "schema": {"fields": []}}
                )
        self._reply(404, {"error": {"code": 404, "message": "Not found", "errors": [{"reason": "notFound"}]}})

    do_POST = do_GET


WINDOW = vars_arg(sentrum_window_start="2026-11-01", sentrum_window_end="2026-11-03")


@pytest.fixture(scope="module")
def rendered(early_runs):
    """parse, compile (against FakeBigQuery) and a run-operation with a bad workspace id, started with the session
    (tests/dbt_project/runs.py: start_bigquery)."""
    started = early_runs["test_bigquery_rendering"]
    procs = {name: started[name].result() for name in ("parse", "compile", "bad_id")}
    started["server"].shutdown()
    tmp = started["parse"].tmp.parent
    return tmp, started, procs


def test_parse_for_bigquery_needs_no_credentials(rendered):
    tmp, _, procs = rendered
    assert procs["parse"].returncode == 0, failed(procs["parse"])
    manifest = json.loads((tmp / "parse" / "target" / "manifest.json").read_text())
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert nodes["fct_ad_insights_daily"]["schema"] == "sentrum_marts"
    assert nodes["stg_meta__insights"]["schema"] == "sentrum_staging"
    assert nodes["int_meta__insights_daily"]["schema"] == "sentrum_intermediate"
    assert {s["schema"] for s in manifest["sources"].values()} == {"sentrum_raw"}
    for fact in INCREMENTAL_FACTS:
        config = nodes[fact]["config"]
        assert config["materialized"] == "incremental", fact
        assert config["incremental_strategy"] == "insert_overwrite", fact
        assert config["partition_by"] == {"field": "date_day", "data_type": "date", "granularity": "day"}, fact
        assert config["on_schema_change"] == "fail", fact
        assert config["cluster_by"] == ["workspace_id", "account_id"], fact
        # static partitions from the window vars (the command line's, not the environment's other window: the command
        # line wins): never the dynamic form (costly; the emulator cannot run it)
        assert config["partitions"] == ["date '2026-11-01'", "date '2026-11-02'", "date '2026-11-03'"], fact
    for dim in DIMS:
        assert nodes[dim]["config"]["materialized"] == "table"
        assert nodes[dim]["config"]["cluster_by"] == ["workspace_id"], dim


def test_compiles_for_bigquery(rendered):
    """BigQuery rendering of every model, test and analysis, each statement parsed as BigQuery SQL."""
    tmp, _, procs = rendered
    assert procs["compile"].returncode == 0, failed(procs["compile"])
    introspected = {re.search(r"/tables/([^/?]+)", p).group(1) for p in FakeBigQuery.requests if "/tables/" in p}
    assert set(ALL_TABLES) <= introspected

    compiled = {p.stem: p.read_text() for p in (tmp / "compile" / "target" / "compiled").rglob("*.sql")}
    insights = compiled["stg_meta__insights"]
    assert "`test-project`.`sentrum_raw`.`meta_insights`" in insights
    assert "cast(spend as numeric) as spend" in insights
    assert "cast(null as float64) as frequency" in insights  # the missing column becomes a typed null
    assert "unnest(generate_date_array(batches.date_start, batches.date_end))" in insights
    assert "cast(creative_id as string) as creative_id" in compiled["stg_meta__ad_creatives"]
    assert "cast(error_code as int64) as error_code" in compiled["stg_meta__extraction_errors"]
    for fact in INCREMENTAL_FACTS:
        sql = compiled[fact]
        assert "safe_divide(" in sql or fact == "fct_ad_actions_daily", fact
        # incremental form with the default window, relative to BigQuery's current_date() (see fact_window_filter)
        assert (
            "date_day between date_sub(current_date(), interval 30 day) and date_sub(current_date(), interval 0 day)"
            in sql
        ), fact
    # the nested action lists: typed as BigQuery arrays of structs, unnested with UNNEST, summed per row
    assert "as array<struct<action_type string, actions_value numeric," in insights
    assert "cross join unnest(insights.actions) as action" in compiled["stg_meta__insights_actions"]
    assert "from unnest(insights.actions) as record" in compiled["int_meta__insights_daily"]
    assert "cross join unnest(['value', '1d_click'," in compiled["int_meta__insights_actions_pivoted"]
    for name, sql in compiled.items():
        try:
            sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{name} is not valid BigQuery SQL: {exc}")


def test_partitions_default_to_the_restatement_window_relative_to_current_date(rendered):
    tmp, _, procs = rendered
    assert procs["compile"].returncode == 0, failed(procs["compile"])
    manifest = json.loads((tmp / "compile" / "target" / "manifest.json").read_text())
    fct = next(n for n in manifest["nodes"].values() if n["name"] == "fct_ad_insights_daily")
    # the partition list is fixed at parse time, which may be days before the run: relative, never literal dates
    assert fct["config"]["partitions"] == [
        f"date_sub(current_date(), interval {back} day)" for back in range(30, -1, -1)
    ]


def test_access_layer_renders_for_bigquery(rendered):
    tmp, _, procs = rendered
    assert procs["compile"].returncode == 0, failed(procs["compile"])
    sql = next((tmp / "compile" / "target" / "compiled").rglob("workspace_access_statements.sql")).read_text()
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    datasets = {re.search(r"`test-project`\.`([^`]+)`", s).group(1) for s in statements}
    # dataset names allow [A-Za-z0-9_] only: `_` is doubled and `-` becomes `_h`, so acme-eu and acme_eu differ
    assert datasets == {"sentrum_ws_acme", "sentrum_ws_acme_heu", "sentrum_ws_acme__eu"}
    views = [s for s in statements if s.startswith("create or replace view")]
    assert len(views) == 3 * (len(INCREMENTAL_FACTS) + len(DIMS))
    assert (
        "create or replace view `test-project`.`sentrum_ws_acme_heu`.`fct_ad_insights_daily` as\n"
        "select * from `test-project`.`sentrum_marts`.`fct_ad_insights_daily`\n"
        "where workspace_id = 'acme-eu'"
    ) in views
    grants = [s for s in statements if s.startswith("grant")]
    assert grants == [
        "grant `roles/bigquery.dataViewer` on schema `test-project`.`sentrum_ws_acme` "
        'to "group:acme-analysts@example.com", "user:ana@example.com"'
    ]
    for statement in statements:
        if not statement.startswith("grant"):  # sqlglot has no BigQuery DCL
            sqlglot.parse_one(statement, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)


def test_a_bad_workspace_id_is_refused_before_any_sql(rendered):
    _, _, procs = rendered
    proc = procs["bad_id"]
    assert proc.returncode != 0
    assert "invalid workspace id" in proc.stdout + proc.stderr
    assert "drop table" not in (proc.stdout + proc.stderr).replace("x'; drop table marts.dim_ads; --", "")
