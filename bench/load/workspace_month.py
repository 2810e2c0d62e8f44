"""One agency workspace's month of raw insights, written as the extractor writes it, then `dbt build` under a memory
limit: rows, bytes, time and the peak RSS of the dbt process (bench/load/README.md, "A workspace month").

    .venv/bin/python bench/load/workspace_month.py                          # 20 accounts x 200 ads x 30 days
    .venv/bin/python bench/load/workspace_month.py --accounts 2 --keep      # smaller; keep the warehouse file
    .venv/bin/python bench/load/workspace_month.py --from W --copies 4 --compare-unbounded
        # W: a kept warehouse; its month copied into 4 workspaces; dbt at the limit and at DuckDB's default

The rows are the project's Graph API sandbox's (`bench` scenario, seed 42: 20 accounts of 200 ads), every report of
the extractor (ad, ad set, campaign, account levels and the four breakdowns), rendered as Meta's JSON rows in-process
(no HTTP: this measures the load and the marts, not the extraction), then `normalize_insights` and the DuckDB batch
writer, one batch per (account, report). Then the nightly's `dbt build` over the month's window, in a subprocess whose
resident memory (the whole process tree) is sampled every 0.1 s. `--copies K` copies the month's raw rows into K
workspaces (SQL, same rows under other workspace and batch ids) for a volume dbt needs more memory for; with
`--compare-unbounded` dbt runs a second time on a copy at 80% of RAM (DuckDB's own default), to show what the limit
holds back. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
START = date(2026, 7, 11)


def write_raw(db: Path, accounts: int, days: int, memory_limit: str, threads: int, spill: Path) -> dict[str, Any]:
    from graph_sandbox import Scenario
    from graph_sandbox.insights import InsightsQuery, RowRenderer
    from insights_jobs.normalize import normalize_insights
    from insights_jobs.reports import ATTRIBUTION_WINDOWS, REPORTS
    from warehouse import BatchKey, DuckDBWarehouse

    scenario = Scenario("bench", 42, clock=lambda: NOW)
    until = START + timedelta(days=days - 1)
    rows = records = 0
    started = time.perf_counter()
    with DuckDBWarehouse(db, memory_limit=memory_limit, threads=threads, temp_directory=spill) as wh:
        wh.ensure_raw()
        for account in scenario.accounts()[:accounts]:
            for spec in REPORTS.values():
                query = InsightsQuery(
                    level=spec.level,
                    fields=tuple(spec.fields),
                    ranges=((START, until),),
                    time_increment=1,
                    windows=tuple(ATTRIBUTION_WINDOWS),
                    filters=(),
                    breakdowns=spec.breakdowns,
                )
                truth = scenario.truth(spec.level, account.id, START, until, breakdowns=spec.breakdowns)
                api_rows = RowRenderer(scenario, account, query).render(truth)
                batch = wh.open_batch(BatchKey("agency", account.id, spec.name, START, until), spec.lineage())
                for i in range(0, len(api_rows), 500):  # the extractor's pages
                    insights = normalize_insights(api_rows[i : i + 500], spec.name, spec.level)
                    batch.append("meta_insights", insights)
                    rows += len(insights)
                    records += sum(len(r["actions"] or ()) for r in insights)
                batch.commit()
        wh.execute("checkpoint")
    return {
        "insights_rows": rows,
        "action_records": records,
        "write_s": round(time.perf_counter() - started, 1),
        # this process renders each (account, report) from the sandbox at once: its peak is mostly the sandbox's
        "write_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "warehouse_mb": round(db.stat().st_size / 2**20, 1),
    }


def copy_workspaces(db: Path, copies: int) -> dict[str, Any]:
    """The month's raw rows (insights and manifest) again under workspaces agency_2..agency_K."""
    import duckdb

    with duckdb.connect(str(db)) as con:
        for k in range(2, copies + 1):
            for table in ("meta_insights", "meta_batches"):
                con.execute(
                    f"insert into raw.{table} select * replace ('agency_{k}' as workspace_id, "
                    f"batch_id || '_{k}' as batch_id) from raw.{table} where workspace_id = 'agency'"
                )
        rows = con.execute("select count(*) from raw.meta_insights").fetchone()[0]
        con.execute("checkpoint")
    return {"copies": copies, "insights_rows_copied": rows, "warehouse_mb_copied": round(db.stat().st_size / 2**20, 1)}


def run_dbt(
    db: Path, days: int, memory_limit: str, threads: int, spill: Path, work: Path, workspaces: list[str] | None = None
) -> dict[str, Any]:
    import psutil

    workspaces = workspaces or ["agency"]
    until = START + timedelta(days=days - 1)
    dbt_vars = {"sentrum_window_start": str(START), "sentrum_window_end": str(until), "sentrum_workspaces": workspaces}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DBT_"))},
        "SENTRUM_DUCKDB_PATH": str(db),
        "SENTRUM_DUCKDB_MEMORY_LIMIT": memory_limit,
        "SENTRUM_DUCKDB_THREADS": str(threads),
        "SENTRUM_DUCKDB_TEMP_DIR": str(spill),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    project = REPO / "dbt_project"
    cmd = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps(dbt_vars),
    ]  # fmt: skip
    log = (work / "dbt.out").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass  # a child that just ended
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    log.close()
    results = json.loads((work / "target" / "run_results.json").read_text())
    statuses: dict[str, int] = {}
    for r in results["results"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:3]
    return {
        "dbt_exit": proc.returncode,
        "dbt_s": round(seconds, 1),
        "dbt_peak_rss_mb": round(peak / 2**20),
        "dbt_statuses": statuses,
        "dbt_slowest": {r["unique_id"].split(".")[2][:60]: round(r["execution_time"], 1) for r in slowest},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB's memory limit, for the writer and dbt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (the warehouse file)")
    parser.add_argument("--from", dest="source", help="start from a copy of this warehouse (a kept run's)")
    parser.add_argument("--copies", type=int, default=1, help="the month's raw rows in this many workspaces")
    parser.add_argument("--compare-unbounded", action="store_true", help="also run dbt at 80%% of RAM")
    args = parser.parse_args()
    (REPO / "bench" / ".work").mkdir(parents=True, exist_ok=True)  # ignored by git
    work = Path(tempfile.mkdtemp(prefix="month-", dir=REPO / "bench" / ".work"))
    spill = work / "spill"
    db = work / "warehouse.duckdb"
    load = os.getloadavg()
    out: dict[str, Any] = {"accounts": args.accounts, "days": args.days, "memory_limit": args.memory_limit}
    if args.source:
        shutil.copyfile(args.source, db)
        out["from"] = args.source
    else:
        out.update(write_raw(db, args.accounts, args.days, args.memory_limit, args.threads, spill))
        print(json.dumps(out), flush=True)
    workspaces = ["agency"]
    if args.copies > 1:
        out.update(copy_workspaces(db, args.copies))
        workspaces += [f"agency_{k}" for k in range(2, args.copies + 1)]
    if args.compare_unbounded:
        import psutil

        unbounded = work / "unbounded"
        unbounded.mkdir()
        shutil.copyfile(db, unbounded / db.name)
        default = f"{int(psutil.virtual_memory().total * 0.8 / 2**20)}MB"
        result = run_dbt(
            unbounded / db.name, args.days, default, args.threads, unbounded / "spill", unbounded, workspaces
        )
        out["unbounded"] = {"memory_limit": default, **result}
        print(json.dumps(out), flush=True)
    out.update(run_dbt(db, args.days, args.memory_limit, args.threads, spill, work, workspaces))
    out["loadavg_1m_before_after"] = [round(load[0], 2), round(os.getloadavg()[0], 2)]
    out["work"] = str(work) if args.keep else None
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
