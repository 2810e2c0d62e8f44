"""Extraction benchmarks against the Graph API sandbox (targets: ../shared/docs/targets.md).

    .venv/bin/python bench/extract/run.py                     # all three cases, once
    .venv/bin/python bench/extract/run.py --case full --repeat 3

Cases:
- full: 20 ad accounts x 200 ads x 30 days of ad-level daily insights (`bench` scenario), 50 ms latency per call,
  3 s report runs. Target: <= 52 s wall, <= 1.8 API calls per account-day.
- breakdown: 3 accounts x 40 ads x 35 days, ad_daily plus the age x gender breakdown, same latency and jobs.
  Target: <= 35 s, every deleted/archived ad's spend included.
- tight: the same 3 accounts, every report over 90 days, with a rate budget of 120 calls/min per ad account and
  80 insights calls/min per ad account (a real 60 s window). Target: no throttling errors, >= 80% of the budget used.

The sandbox runs in this process; the extractor runs in a child process (`--worker`), so the two use both cores as
a real deployment would (client and Meta on different machines). The child checks what it extracted against the
scenario's truth after the timed run: every insights row exactly (content digest per account, report and day) and
every action figure summed per (day, metric, action type, window).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / ".work" / "extract"  # the warehouse files (ignored by git)

from graph_sandbox import SandboxServer, Scenario  # noqa: E402
from graph_sandbox.metrics import CONVERSION_TYPES  # noqa: E402
from insights_jobs import ExtractConfig, Window, WorkspaceJob, extract_workspaces, make_governor  # noqa: E402
from insights_jobs.normalize import ACTION_RECORD_FIELDS, BREAKDOWNS  # noqa: E402
from insights_jobs.reports import REPORTS  # noqa: E402

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# 30 days with 60,440 ad-day rows in the `bench` scenario (seed 42), the size the peers' figure was measured on
# (60,375 rows).
THIRTY = Window(date(2026, 7, 11), date(2026, 8, 9))


def _clock() -> datetime:
    return NOW


def scenario(name: str) -> Scenario:
    if name == "bench":
        return Scenario("bench", 42, clock=_clock)
    if name == "bench3x40":
        return Scenario.generate(
            "bench3x40", 7, accounts=3, campaigns_per_account=4, adsets_per_campaign=2, ads_per_adset=5,
            tokens=3, history_days=400, clock=_clock,
        )  # fmt: skip
    raise ValueError(name)


CASES: dict[str, dict[str, Any]] = {
    "full": {
        "scenario": "bench",
        "window": THIRTY,
        "reports": ("ad_daily",),
        "server": {"latency_ms": 50, "job_seconds": 3.0},
    },
    "breakdown": {
        "scenario": "bench3x40",
        "window": Window(date(2026, 9, 26), date(2026, 10, 30)),  # 35 days
        "reports": ("ad_daily", "ad_daily_age_gender"),
        "server": {"latency_ms": 50, "job_seconds": 3.0},
    },
    # A seconds-long run of the whole harness, for the test suite (not in "all").
    "smoke": {
        "scenario": "bench3x40",
        "window": Window(date(2026, 10, 28), date(2026, 10, 30)),
        "reports": ("ad_daily", "ad_daily_device"),
        "server": {"latency_ms": 5, "job_seconds": 0.2, "calls_per_minute": 600, "insights_calls_per_minute": 400},
    },
    "tight": {
        "scenario": "bench3x40",
        "window": Window(date(2026, 8, 2), date(2026, 10, 30)),  # 90 days, every report
        "reports": tuple(REPORTS),
        "server": {"latency_ms": 50, "job_seconds": 3.0, "calls_per_minute": 120, "insights_calls_per_minute": 80},
    },
}


# ---- the worker (child process) -----------------------------------------------------------------------------


def _n(d: Any) -> str:
    """A number as canonical text ("8.50" and "8.5" alike)."""
    if d is None:
        return "-"
    d = Decimal(str(d))
    return format(d.normalize(), "f") if d else "0"


def visible(db: Path) -> tuple[dict, dict, Counter]:
    """Read back from the warehouse what the marts would see: per (report, account, day) the rows of the latest
    committed batch covering that day (the manifest's rule), as a digest of each row and sums of the action figures."""
    import duckdb

    rows: dict[tuple, tuple[int, int]] = defaultdict(lambda: (0, 0))
    actions: dict[tuple, Decimal] = defaultdict(Decimal)
    with duckdb.connect(str(db), read_only=True) as con:
        tables = Counter(
            {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
             for (t,) in con.execute("select table_name from information_schema.tables where table_schema = 'raw'"
                                     " and table_name <> 'meta_batches'").fetchall()}
        )  # fmt: skip
        batches = con.execute(
            "select batch_id, account_id, report, date_start, date_end from raw.meta_batches "
            "where completed_at is not null and date_start is not null order by completed_at, batch_id"
        ).fetchall()
        winners: dict[tuple, str] = {}
        for batch_id, account_id, report, first, last in batches:
            d = first
            while d <= last:
                winners[(report, account_id, d)] = batch_id  # a later batch supersedes an earlier one
                d += timedelta(days=1)
        accounts = {b[0]: b[1] for b in batches}
        cur = con.execute("select * from raw.meta_insights")
        names = [c[0] for c in cur.description]
        while chunk := cur.fetchmany(50_000):
            for values in chunk:
                r = dict(zip(names, values, strict=True))
                account_id = accounts.get(r["batch_id"])
                key = (r["report"], account_id, r["date_day"])
                if winners.get(key) != r["batch_id"]:
                    continue
                n, h = rows[key]
                rows[key] = (n + 1, (h + hash(_row_tuple(r))) % 2**64)
                # the action lists, nested in the row: one record per type, a field per (list, window)
                for record in r.get("actions") or ():
                    for metric, fields in ACTION_RECORD_FIELDS.items():
                        for window, field in fields:
                            figure = Decimal(record[field]) if record.get(field) is not None else 0
                            if figure:
                                actions[(*key, metric, record["action_type"], window)] += figure
    return dict(rows), dict(actions), tables


def _row_tuple(r: Mapping[str, Any]) -> tuple:
    return (r["date_day"], r["campaign_id"], r["adset_id"], r["ad_id"], *(r.get(b) for b in BREAKDOWNS),
            _n(r["spend"]), r["impressions"], r["clicks"], r["inline_link_clicks"], r["reach"])  # fmt: skip


def truth_digest(sc: Scenario, account_ids: Sequence[str], reports: Sequence[str], window: Window):
    rows: dict[tuple, tuple[int, int]] = defaultdict(lambda: (0, 0))
    actions: dict[tuple, Decimal] = defaultdict(Decimal)
    for account_id in account_ids:
        for name in reports:
            spec = REPORTS[name]
            for t in sc.truth(spec.level, account_id, window.start, window.end, breakdowns=list(spec.breakdowns)):
                key = (name, account_id, t.date)
                b = t.breakdowns
                tup = (t.date, t.campaign_id, t.adset_id, t.ad_id, *(b.get(x) for x in BREAKDOWNS), _n(t.spend),
                       t.impressions, t.clicks, t.inline_link_clicks, t.reach)  # fmt: skip
                n, h = rows[key]
                rows[key] = (n + 1, (h + hash(tup)) % 2**64)
                for a in t.actions:
                    actions[(name, account_id, t.date, a.metric, a.action_type, a.window)] += a.value
                    if a.action_type in CONVERSION_TYPES:
                        metric = "conversions" if a.metric == "actions" else "conversion_values"
                        actions[(name, account_id, t.date, metric, a.action_type, a.window)] += a.value
    return dict(rows), dict(actions)


def production_defaults() -> dict[str, Any]:
    """The settings the pipeline runs with when nothing is set (orchestration/settings.py's defaults, not the
    environment: this benchmark measures the defaults)."""
    from orchestration.settings import Settings

    fields = Settings.model_fields
    return {
        "concurrency": fields["extract_concurrency"].default,
        "memory_limit": fields["duckdb_memory_limit"].default,
        "threads": fields["duckdb_threads"].default,
        "write_buffer_mb": fields["duckdb_write_buffer_mb"].default,
    }


def worker(args: argparse.Namespace) -> None:
    from orchestration.resources import WarehouseSink
    from warehouse import DuckDBWarehouse

    case = CASES[args.case]
    sc = scenario(case["scenario"])
    window: Window = case["window"]
    tight = "calls_per_minute" in case["server"]
    defaults = production_defaults()
    concurrency = args.concurrency or defaults["concurrency"]
    smoke = args.case == "smoke"
    config = ExtractConfig(
        graph_url=args.url,
        api_version="v26.0",
        reports=case["reports"],
        concurrency=concurrency,
        # production's polls (ExtractConfig's defaults), faster only for the seconds-long smoke case
        **({"job_poll_initial_s": 0.1, "job_poll_min_s": 0.05} if smoke else {}),
    )
    governor = make_governor(config)
    db = Path(args.db)
    db.unlink(missing_ok=True)
    jobs = [WorkspaceJob(w.workspace_id, w.token, w.account_ids) for w in sc.workspaces()]
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    started = time.monotonic()
    # The warehouse as the pipeline's extraction step opens it (orchestration/resources.py), at the defaults.
    with DuckDBWarehouse(
        db,
        memory_limit=defaults["memory_limit"],
        threads=defaults["threads"],
        temp_directory=db.parent / "duckdb_tmp",
        insert_bytes=defaults["write_buffer_mb"] * 2**20,
    ) as wh:
        wh.ensure_raw()
        results = extract_workspaces(jobs, WarehouseSink(wh), config, governor=governor, window=window, now=NOW)
    wall = time.monotonic() - started
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # Checked after the clock stopped, from what the warehouse holds.
    got_rows, got_actions, tables = visible(db)
    accounts = [a for w in sc.workspaces() for a in w.account_ids]
    exp_rows, exp_actions = truth_digest(sc, accounts, case["reports"], window)
    gone = {ad.id for a in accounts for ad in sc.ads(a) if ad.effective_status in ("DELETED", "ARCHIVED")}
    gone_with_spend = {
        t.ad_id for a in accounts for t in sc.truth("ad", a, window.start, window.end) if t.ad_id in gone and t.spend
    }
    out = {
        "case": args.case,
        "wall_s": round(wall, 2),
        "concurrency": concurrency,
        "duckdb": {k: defaults[k] for k in ("memory_limit", "threads", "write_buffer_mb")},
        "worker_peak_rss_mb": peak_rss_mb,
        "warehouse_mb": round(db.stat().st_size / 2**20, 1),
        "ok": all(r.ok for r in results),
        "errors": [e for r in results for e in r.errors],
        "failed_slices": sum(len(r.failed_slices) for r in results),
        "throttle_errors": sum(r.throttle_errors for r in results),
        "http_requests": sum(r.api_calls for r in results),
        "batch_items": sum(r.calls.get("batch_items", 0) for r in results),
        "jobs": dict(sum((Counter(r.jobs) for r in results), Counter())),
        "tables": dict(tables),
        "insights_rows": tables.get("meta_insights", 0),
        "rows_equal_truth": got_rows == exp_rows,
        "actions_equal_truth": got_actions == exp_actions,
        "deleted_or_archived_ads_with_spend": len(gone_with_spend),
        "accounts": len(accounts),
        "days": window.days,
        "governor": governor.snapshot(),
        "tight": tight,
    }
    print(json.dumps(out, default=str))


# ---- the driver -----------------------------------------------------------------------------------------------


def budget_use(requests: list[Any], cpm: int, ipm: int) -> dict[str, Any]:
    """Per ad account: calls against each budget over the account's busy span (first to last call)."""
    by_account: dict[str, list[Any]] = defaultdict(list)
    for r in requests:
        if r.account_id:
            by_account[r.account_id].append(r)
    out = {}
    for account, recs in sorted(by_account.items()):
        span = max(r.timestamp for r in recs) - min(r.timestamp for r in recs)
        minutes = max(span, 1e-9) / 60
        insights = [r for r in recs if r.kind in ("insights", "insights_async", "report_run_insights")]
        out[account] = {
            "span_s": round(span, 1),
            "calls": len(recs),
            "insights_calls": len(insights),
            "account_budget_used_pct": round(100 * len(recs) / (cpm * minutes), 1),
            "insights_budget_used_pct": round(100 * len(insights) / (ipm * minutes), 1),
            "peak_calls_in_60s": _peak(recs),
            "peak_insights_in_60s": _peak(insights),
            # While the account was busy for more than a minute: the share of each budget in use, second by second
            # (calls in the trailing 60 s / budget), averaged. 100% = the budget used to the last call.
            "sliding_account_pct": _sliding(recs, cpm),
            "sliding_insights_pct": _sliding(insights, ipm),
        }
    return out


def _sliding(recs: list[Any], budget: int) -> float | None:
    ts = sorted(r.timestamp for r in recs)
    if not ts or ts[-1] - ts[0] < 61:
        return None
    samples, t, lo = [], ts[0] + 60, 0
    hi = 0
    while t <= ts[-1]:
        while hi < len(ts) and ts[hi] <= t:
            hi += 1
        while ts[lo] <= t - 60:
            lo += 1
        samples.append(100 * (hi - lo) / budget)
        t += 1
    return round(sum(samples) / len(samples), 1)


def _peak(recs: list[Any]) -> int:
    ts = sorted(r.timestamp for r in recs)
    best, j = 0, 0
    for i, t in enumerate(ts):
        while ts[j] <= t - 60:
            j += 1
        best = max(best, i - j + 1)
    return best


def run_case(name: str, concurrency: int | None = None, work: Path = WORK) -> dict[str, Any]:
    """One run of a case; `concurrency` None: the pipeline's default (Settings)."""
    case = CASES[name]
    sc = scenario(case["scenario"])
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"{name}.duckdb"
    load_before = os.getloadavg()[0]
    with SandboxServer(sc, **case["server"]) as server:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", "--case", name, "--url", server.url, "--db", str(db),
             *(["--concurrency", str(concurrency)] if concurrency else [])],
            capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"worker failed: {proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        stats = server.stats()
        requests = server.requests
    result["sandbox_calls"] = stats.get("total", 0)  # every call Meta would count: requests and batch items
    result["sandbox_stats"] = stats
    result["calls_per_account_day"] = round(stats.get("total", 0) / (result["accounts"] * result["days"]), 3)
    result["rows_per_s"] = round(result["insights_rows"] / result["wall_s"], 1)
    result["throttled_by_sandbox"] = sum(n for k, n in stats.items() if k.startswith("throttled_"))
    result["loadavg_1m_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    db.unlink(missing_ok=True)
    if "calls_per_minute" in case["server"]:
        result["budget"] = budget_use(
            requests, case["server"]["calls_per_minute"], case["server"]["insights_calls_per_minute"]
        )
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=[*CASES, "all"], default="all")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--concurrency", type=int, help="accounts extracted at once (default: the pipeline's, 8)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--out", help="append each result as a JSON line to this file")
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return
    names = [n for n in CASES if n != "smoke"] if args.case == "all" else [args.case]
    summary: dict[str, Any] = {}
    for name in names:
        walls = []
        for i in range(args.repeat):
            r = run_case(name, args.concurrency)
            walls.append(r["wall_s"])
            brief = {k: r[k] for k in ("case", "wall_s", "ok", "rows_equal_truth", "actions_equal_truth",
                                        "insights_rows", "sandbox_calls", "http_requests", "batch_items",
                                        "calls_per_account_day", "throttle_errors", "throttled_by_sandbox",
                                        "rows_per_s", "deleted_or_archived_ads_with_spend", "jobs", "concurrency",
                                        "worker_peak_rss_mb", "warehouse_mb", "loadavg_1m_before_after")}  # fmt: skip
            summary.setdefault(name, {"runs": []})["runs"].append(brief)
            print(f"[{name} {i + 1}/{args.repeat}] {json.dumps(brief)}", flush=True)
            if "budget" in r:
                print(f"  budget: {json.dumps(r['budget'])}", flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(r, default=str) + "\n")
        summary[name]["median_wall_s"] = statistics.median(walls)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
