"""The dbt invocations of the suite besides the shared build, started as early as they can be and concurrently.

dbt costs ~5-10 s of CPU per invocation here, mostly its own start-up, and a single invocation uses about one core;
so the invocations that do not depend on each other run together (each on its own copy of the warehouse: DuckDB
admits one process per file):
- at session start, with the shared build: the BigQuery renderings (no warehouse needed);
- right after the shared build: incremental vs full refresh, the reconciliation tests on tampered marts, docs and
  source freshness.
Each test module waits for the runs it asserts on. Only the runs of collected modules are started.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

import duckdb

from tests.dbt_project.helpers import DUCKDB_ENV, WAREHOUSE, Built, DbtRun, start_dbt, vars_arg

# ---- after the shared build


def start_incremental(built: Built, tmp: Path) -> dict[str, DbtRun | Path]:
    from tests.dbt_project.test_incremental import WINDOW, change_raw

    inc_db = built.copy(tmp / "inc" / WAREHOUSE)
    change_raw(inc_db)
    full_db = built.workdir(tmp / "full") / WAREHOUSE
    change_raw(full_db)
    window = vars_arg(
        sentrum_window_start=WINDOW[0].isoformat(),
        sentrum_window_end=WINDOW[1].isoformat(),
        sentrum_workspaces=["acme", "initech-eu"],
    )
    return {
        "inc_db": inc_db,
        "full_db": full_db,
        "inc": start_dbt(["build", *window], tmp / "inc", DUCKDB_ENV),
        # the shared build's target and vars: its parse is reused
        "full": start_dbt(["build", "--full-refresh", *built.args], tmp / "full", DUCKDB_ENV),
    }


def start_reconciliation(built: Built, tmp: Path) -> dict[str, DbtRun | Path]:
    from tests.dbt_project.test_reconciliation import TAMPER, WINDOW

    db = built.copy(tmp / WAREHOUSE)
    with duckdb.connect(str(db)) as con:
        for sql in TAMPER:
            con.execute(sql)
            assert con.fetchone()[0] >= 1, sql  # each statement touched rows
    window = vars_arg(sentrum_window_start=WINDOW[0].isoformat(), sentrum_window_end=WINDOW[1].isoformat())
    run = start_dbt(
        ["test", "--select", "test_type:singular", "--store-failures", *window],
        tmp,
        DUCKDB_ENV,
    )
    return {"db": db, "run": run}


def start_docs(built: Built, tmp: Path) -> dict[str, DbtRun | Path]:
    # the shared build's target and vars (the access layer is not applied by these commands): its parse is reused
    return {
        "docs": start_dbt(["docs", "generate", *built.args], built.workdir(tmp / "docs"), DUCKDB_ENV),
        "freshness": start_dbt(["source", "freshness", *built.args], built.workdir(tmp / "freshness"), DUCKDB_ENV),
    }


def start_bounds(built: Built, tmp: Path) -> dict[str, DbtRun | Path]:
    from tests.dbt_project.test_bounds import BOUNDS, SETTINGS_SQL

    work = built.workdir(tmp / "bounds")
    env = {**DUCKDB_ENV, **BOUNDS, "SENTRUM_DUCKDB_TEMP_DIR": str(work / "spill")}
    show = ["show", "--inline", SETTINGS_SQL, "--output", "json", "--log-format", "text", *built.args]
    return {"spill": work / "spill", "show": start_dbt(show, work, env)}


AFTER_BUILD: dict[str, Callable[[Built, Path], dict[str, DbtRun | Path]]] = {
    "test_incremental": start_incremental,
    "test_reconciliation": start_reconciliation,
    "test_docs": start_docs,
    "test_bounds": start_bounds,
}


# ---- at session start


def start_bigquery(tmp: Path) -> dict[str, object]:
    from tests.dbt_project.test_bigquery_rendering import WINDOW, FakeBigQuery

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBigQuery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bq_env = {
        "SENTRUM_BQ_AUTH_METHOD": "oauth-secrets",
        "SENTRUM_BQ_TOKEN": "not-a-real-token",
        "SENTRUM_BQ_API_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
        "SENTRUM_BQ_PROJECT": "test-project",
        "SENTRUM_BQ_JOB_RETRIES": "0",
    }
    compile_vars = vars_arg(
        sentrum_workspace_readers={"acme": ["group:acme-analysts@example.com", "user:ana@example.com"]},
    )
    # the ids as the orchestrator passes the run's vars, in the environment (macros/vars/run_var.sql)
    bad_ids = {"SENTRUM_DBT_WORKSPACES": json.dumps(["acme", "x'; drop table marts.dim_ads; --"])}
    # the window on the command line wins over the environment's (an ad-hoc `dbt build --vars` in a shell that has it)
    other_window = {"SENTRUM_DBT_WINDOW_START": "2026-10-01", "SENTRUM_DBT_WINDOW_END": "2026-10-02"}
    return {
        "server": server,
        "parse": start_dbt(
            ["parse", "--target", "bigquery", *WINDOW],
            tmp / "parse",
            other_window,
        ),
        "compile": start_dbt(
            ["compile", "--target", "bigquery", "--no-populate-cache", *compile_vars], tmp / "compile", bq_env
        ),
        "bad_id": start_dbt(
            ["run-operation", "sentrum_apply_workspace_access", "--args", json.dumps({"dry_run": True})],
            tmp / "bad_id",
            {"SENTRUM_DUCKDB_PATH": str(tmp / "bad_id" / "unused.duckdb"), **bad_ids},
        ),
    }


AT_START: dict[str, Callable[[Path], dict[str, object]]] = {"test_bigquery_rendering": start_bigquery}
