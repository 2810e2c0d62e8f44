"""Nightly dbt time with 90 vs 900 days of history (same workspaces), and the full-refresh time, on DuckDB.

    .venv/bin/python bench/dbt/bench.py --days 90 --days 900 --workspaces 10 --ads 12 --repeat 3

For each history length, in bench/.work/dbt/<days>d/:
1. raw data written with SQL straight into the raw tables (warehouse.schema's DDL via `DuckDBWarehouse.ensure_raw`):
   a backfill of the history in 30-day batches per (workspace, account, report), then one batch per night per
   (workspace, account, report) re-pulling that night's day, and one entities snapshot per night (so the manifest
   and the entity tables grow with history as they do in production). Every report is derived from the same ad-days
   (breakdown cells split exactly, parents summed), so the build's reconciliation tests pass;
2. `dbt build --full-refresh` (timed);
3. "tonight": a re-pull of the trailing 28 days (restated numbers) for every (workspace, account, report) and a new
   entities snapshot, then the nightly `dbt build --vars {window, workspaces}`, timed `--repeat` times (the same
   window over the same raw data does the same work each time).

Figures: wall time of the dbt command, and dbt's own elapsed time from run_results.json (without the process
start-up and parsing, ~5 s here). Printed as a table and written to bench/.work/dbt/results.json.
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from orchestration.dbt_prepare import run_var_env  # noqa: E402
from warehouse import DuckDBWarehouse  # noqa: E402

DBT = Path(sys.executable).with_name("dbt")
WORK = REPO / "bench" / ".work" / "dbt"
TONIGHT = date(2026, 11, 26)  # the nightly run's "today" (UTC); the window is the 28 days ending yesterday
WINDOW = (TONIGHT - timedelta(days=28), TONIGHT - timedelta(days=1))

# breakdown report -> (column names, cells as value tuples, weights)
BREAKDOWNS = {
    "ad_daily_age_gender": (
        ["age", "gender"],
        [("18-24", "female"), ("25-34", "female"), ("25-34", "male"), ("35-44", "male"), ("Unknown", "unknown")],
        [3, 4, 3, 2, 1],
    ),
    "ad_daily_country": (["country"], [("US",), ("CA",), ("GB",)], [6, 2, 1]),
    "ad_daily_placement": (
        ["publisher_platform", "platform_position"],
        [
            ("facebook", "feed"),
            ("instagram", "instagram_stories"),
            ("instagram", "instagram_reels"),
            ("audience_network", "an_classic"),
        ],
        [5, 3, 2, 1],
    ),  # fmt: skip
    "ad_daily_device": (["device_platform"], [("mobile_app",), ("mobile_web",), ("desktop",)], [6, 2, 2]),
}
LEVELS = {"account_daily": ("account", []), "campaign_daily": ("campaign", ["campaign_id"]),
          "adset_daily": ("adset", ["campaign_id", "adset_id"])}  # fmt: skip
REPORTS = ["ad_daily", *LEVELS, *BREAKDOWNS]
BREAKDOWN_COLUMNS = ["age", "gender", "country", "publisher_platform", "platform_position", "device_platform"]
INSIGHT_COLUMNS = ["workspace_id", "batch_id", "account_id", "report", "level", "date_day", "campaign_id", "adset_id",
                   "ad_id", *BREAKDOWN_COLUMNS]  # fmt: skip


def _cells_sql(report: str) -> str:
    columns, cells, weights = BREAKDOWNS[report]
    total = sum(weights)
    rows, cumulative = [], 0
    for values, weight in zip(cells, weights, strict=True):
        lo, cumulative = cumulative, cumulative + weight
        rows.append(", ".join([*(f"'{v}'" for v in values), str(lo), str(cumulative), str(total)]))
    names = ", ".join([*columns, "lo", "hi", "total"])
    return f"(select * from (values ({'), ('.join(rows)})) as cells({names}))"


def _split(expr: str) -> str:
    """The cell's exact share of an integer: floor(v*hi/total) - floor(v*lo/total) (the shares add up to v)."""
    return f"(({expr}) * cells.hi // cells.total - ({expr}) * cells.lo // cells.total)"


def generate(db: Path, days: int, workspaces: int, ads: int) -> dict[str, int]:
    """Raw tables of `workspaces` x 1 account x `ads` ads (3 campaigns, 2 ad sets each) over `days` days of history
    ending the day before TONIGHT's window, in batches laid out as the extractor writes them."""
    if db.exists():
        db.unlink()
    with DuckDBWarehouse(db) as wh:
        wh.ensure_raw()
    first = WINDOW[0] - timedelta(days=days)
    last = WINDOW[0] - timedelta(days=1)
    con = duckdb.connect(str(db))
    con.execute("set preserve_insertion_order = true")
    con.execute(f"""
        create temp table ads as
        select
            'ws' || lpad(w::varchar, 4, '0') as workspace_id,
            'act_' || w as account_id,
            'c_' || w || '_' || (a % 3) as campaign_id,
            's_' || w || '_' || (a % 6) as adset_id,
            'ad_' || w || '_' || a as ad_id
        from range(1, {workspaces} + 1) as w(w), range(0, {ads}) as a(a)
    """)
    # the "pulls": (workspace, account, report, batch_id, date_start, date_end, completed_at, version)
    con.execute("""
        create temp table pulls (
            workspace_id varchar, account_id varchar, report varchar, batch_id varchar,
            date_start date, date_end date, completed_at timestamptz, version integer
        )
    """)
    reports = ", ".join(f"('{r}')" for r in REPORTS)
    accounts = "(select distinct workspace_id, account_id from ads)"
    # backfill: 30-day chunks
    con.execute(f"""
        insert into pulls
        select a.workspace_id, a.account_id, r.report,
               'bf_' || a.account_id || '_' || r.report || '_' || strftime(c.start, '%Y%m%d'),
               c.start, least(c.start + 29, date '{last}'),
               cast(date '{first}' as timestamptz) - interval 1 day + to_seconds(epoch(c.start) // 86400), 0
        from {accounts} as a
        cross join (values {reports}) as r(report)
        cross join (
            select cast(d as date) as start from range(date '{first}', date '{last}' + 1, interval 30 day) t(d)
        ) as c
    """)
    # one re-pull per night of the night's day (a later complete batch for the date: it wins)
    con.execute(f"""
        insert into pulls
        select a.workspace_id, a.account_id, r.report,
               'n_' || a.account_id || '_' || r.report || '_' || strftime(n.day, '%Y%m%d'),
               n.day, n.day, cast(n.day as timestamptz) + interval 26 hour, 1
        from {accounts} as a
        cross join (values {reports}) as r(report)
        cross join (select cast(d as date) as day from range(date '{first}', date '{last}' + 1, interval 1 day) t(d))
            as n
    """)
    _write_pulls(con)
    _write_entities(con, first, last)
    con.execute("drop table pulls")
    counts = {
        t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
        for t in ("meta_batches", "meta_insights", "meta_ads")
    }
    counts["action_records"] = con.execute("select sum(len(actions)) from raw.meta_insights").fetchone()[0]
    con.close()
    return counts


def tonight(db: Path) -> None:
    """Tonight's extraction: the trailing 28 days re-pulled (restated numbers) and a new entities snapshot."""
    con = duckdb.connect(str(db))
    con.execute("""
        create temp table ads as
        select distinct workspace_id, account_id, campaign_id, adset_id, ad_id from raw.meta_ads
    """)
    con.execute("""
        create temp table pulls (
            workspace_id varchar, account_id varchar, report varchar, batch_id varchar,
            date_start date, date_end date, completed_at timestamptz, version integer
        )
    """)
    reports = ", ".join(f"('{r}')" for r in REPORTS)
    con.execute(f"""
        insert into pulls
        select a.workspace_id, a.account_id, r.report, 't_' || a.account_id || '_' || r.report,
               date '{WINDOW[0]}', date '{WINDOW[1]}', cast(date '{TONIGHT}' as timestamptz) + interval 2 hour, 2
        from (select distinct workspace_id, account_id from ads) as a
        cross join (values {reports}) as r(report)
    """)
    _write_pulls(con)
    _write_entities(con, TONIGHT, TONIGHT)
    con.close()


def _write_pulls(con: duckdb.DuckDBPyConnection) -> None:
    # the ad-days of every pull, metrics a deterministic function of (ad, day, version)
    con.execute("""
        create or replace temp table ad_days as
        select
            p.batch_id, p.report, p.workspace_id, p.account_id, ads.campaign_id, ads.adset_id, ads.ad_id,
            cast(d.d as date) as date_day,
            200 + hash(ads.ad_id, d.d, p.version) % 4800 as impressions,
            hash(ads.ad_id, d.d, 'c', p.version) % 120 as clicks,
            hash(ads.ad_id, d.d, 'l', p.version) % 60 as link_clicks,
            100 + hash(ads.ad_id, d.d, 'r', p.version) % 2000 as reach,
            100 + hash(ads.ad_id, d.d, 's', p.version) % 90000 as spend_cents,
            hash(ads.ad_id, d.d, 'p', p.version) % 5 as purchases,
            hash(ads.ad_id, d.d, 'v', p.version) % 50000 as value_cents
        from pulls as p
        inner join ads on p.workspace_id = ads.workspace_id and p.account_id = ads.account_id
        cross join range(p.date_start, p.date_end + 1, interval 1 day) as d(d)
    """)
    cols = ", ".join(INSIGHT_COLUMNS)
    null_bd = ", ".join(f"null as {c}" for c in BREAKDOWN_COLUMNS)

    def insert(select_insights: str) -> None:
        con.execute(f"""
            insert into raw.meta_insights ({cols}, spend, impressions, clicks, inline_link_clicks, reach, frequency,
                                           actions)
            {select_insights}
        """)

    def actions_of(purchases: str, value_cents: str) -> str:
        """The row's action lists, nested as raw holds them: one record for the pixel purchases (count under
        `value` and `7d_click`, value under `value`; a list without a figure is left out, as Meta leaves it)."""
        return f"""case when {purchases} > 0 or {value_cents} > 0 then [struct_pack(
                action_type := 'offsite_conversion.fb_pixel_purchase',
                actions_value := case when {purchases} > 0 then {purchases} end,
                actions_7d_click := case when {purchases} > 0 then {purchases} end,
                action_values_value := case when {value_cents} > 0 then {value_cents} / 100 end
            )] end"""

    ad_keys = f"workspace_id, batch_id, account_id, report, 'ad', date_day, campaign_id, adset_id, ad_id, {null_bd}"
    insert(
        f"""select {ad_keys}, spend_cents / 100, impressions, clicks, link_clicks, reach, impressions / reach,
                   {actions_of("purchases", "value_cents")}
            from ad_days where report = 'ad_daily'"""
    )
    for report, (level, ids) in LEVELS.items():
        group = ", ".join(["workspace_id", "batch_id", "account_id", "report", "date_day", *ids])
        id_cols = ", ".join(c if c in ids else f"null as {c}" for c in ("campaign_id", "adset_id", "ad_id"))
        source = f"""(
            select {group}, sum(spend_cents) as spend_cents, sum(impressions) as impressions,
                   sum(clicks) as clicks, sum(link_clicks) as link_clicks,
                   max(reach) + (sum(reach) - max(reach)) // 2 as reach,
                   sum(purchases) as purchases, sum(value_cents) as value_cents
            from ad_days where report = '{report}' group by {group}
        )"""
        keys = f"workspace_id, batch_id, account_id, report, '{level}', date_day, {id_cols}, {null_bd}"
        insert(
            f"""select {keys}, spend_cents / 100, impressions, clicks, link_clicks, reach, impressions / reach,
                       {actions_of("purchases", "value_cents")}
                from {source}"""
        )
    for report, (columns, _, _) in BREAKDOWNS.items():
        bd = ", ".join(f"cells.{c}" if c in columns else f"null as {c}" for c in BREAKDOWN_COLUMNS)
        source = f"""(
            select ad_days.*, {bd},
                   {_split("spend_cents")} as cell_spend_cents, {_split("impressions")} as cell_impressions,
                   {_split("clicks")} as cell_clicks, {_split("link_clicks")} as cell_link_clicks,
                   greatest(1, {_split("reach")}) as cell_reach,
                   {_split("purchases")} as cell_purchases, {_split("value_cents")} as cell_value_cents
            from ad_days cross join {_cells_sql(report)} as cells
            where ad_days.report = '{report}'
        )"""
        keys = "workspace_id, batch_id, account_id, report, 'ad', date_day, campaign_id, adset_id, ad_id, " + ", ".join(
            BREAKDOWN_COLUMNS
        )
        insert(
            f"""select {keys}, cell_spend_cents / 100, cell_impressions, cell_clicks, cell_link_clicks, cell_reach,
                       cell_impressions / cell_reach, {actions_of("cell_purchases", "cell_value_cents")}
                from {source}"""
        )
    con.execute("""
        insert into raw.meta_batches
            (workspace_id, batch_id, account_id, report, date_start, date_end, row_count, tables, params,
             started_at, completed_at)
        select workspace_id, batch_id, account_id, report, date_start, date_end, 0, '{}', '{"bench": true}',
               completed_at, completed_at
        from pulls
    """)
    con.execute("drop table ad_days")


def _write_entities(con: duckdb.DuckDBPyConnection, first: date, last: date) -> None:
    """One entities snapshot per night per account: every object, as the nightly extraction writes them."""
    con.execute(f"""
        create or replace temp table snapshots as
        select a.workspace_id, a.account_id, 'e_' || a.account_id || '_' || strftime(cast(n.d as date), '%Y%m%d')
                   as batch_id,
               cast(n.d as timestamptz) + interval 25 hour as snapshot_at
        from (select distinct workspace_id, account_id from ads) as a
        cross join range(date '{first}', date '{last}' + 1, interval 1 day) as n(d)
    """)
    con.execute("""
        insert into raw.meta_ad_accounts (workspace_id, batch_id, account_id, name, currency, timezone_name,
                                          timezone_offset_hours_utc, account_status, extracted_at)
        select workspace_id, batch_id, account_id, 'Account ' || account_id, 'USD', 'America/New_York', -5, 1,
               snapshot_at
        from snapshots
    """)
    con.execute("""
        insert into raw.meta_campaigns (workspace_id, batch_id, account_id, campaign_id, name, status,
                                        effective_status, extracted_at)
        select s.workspace_id, s.batch_id, s.account_id, c.campaign_id, 'Campaign ' || c.campaign_id, 'ACTIVE',
               'ACTIVE', s.snapshot_at
        from snapshots as s
        inner join (select distinct workspace_id, campaign_id from ads) as c on s.workspace_id = c.workspace_id
    """)
    con.execute("""
        insert into raw.meta_adsets (workspace_id, batch_id, account_id, adset_id, campaign_id, name, status,
                                     effective_status, extracted_at)
        select s.workspace_id, s.batch_id, s.account_id, c.adset_id, c.campaign_id, 'Ad set ' || c.adset_id,
               'ACTIVE', 'ACTIVE', s.snapshot_at
        from snapshots as s
        inner join (select distinct workspace_id, campaign_id, adset_id from ads) as c
            on s.workspace_id = c.workspace_id
    """)
    con.execute("""
        insert into raw.meta_ads (workspace_id, batch_id, account_id, ad_id, adset_id, campaign_id, name, status,
                                  effective_status, creative_id, extracted_at)
        select s.workspace_id, s.batch_id, s.account_id, a.ad_id, a.adset_id, a.campaign_id, 'Ad ' || a.ad_id,
               'ACTIVE', 'ACTIVE', 'cr_' || a.ad_id, s.snapshot_at
        from snapshots as s inner join ads as a on s.workspace_id = a.workspace_id
    """)
    con.execute("""
        insert into raw.meta_ad_creatives (workspace_id, batch_id, account_id, creative_id, name, status,
                                           extracted_at)
        select s.workspace_id, s.batch_id, s.account_id, 'cr_' || a.ad_id, 'Creative ' || a.ad_id, 'ACTIVE',
               s.snapshot_at
        from snapshots as s inner join ads as a on s.workspace_id = a.workspace_id
    """)
    con.execute("""
        insert into raw.meta_batches
            (workspace_id, batch_id, account_id, report, row_count, tables, params, started_at, completed_at)
        select workspace_id, batch_id, account_id, 'entities', 0, '{}', '{"bench": true}', snapshot_at, snapshot_at
        from snapshots
    """)
    con.execute("drop table snapshots")


def run_dbt(args: list[str], db: Path, work: Path, run_env: dict[str, str] | None = None) -> dict[str, float]:
    """One dbt invocation: wall time, CPU time of the dbt process (user + sys: less sensitive to other load on a
    shared machine than wall time) and dbt's own elapsed time (without start-up and parsing)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DBT_"))}
    env.update(SENTRUM_DUCKDB_PATH=str(db), DBT_SEND_ANONYMOUS_USAGE_STATS="false", DO_NOT_TRACK="1", **(run_env or {}))
    cmd = [str(DBT), *args, "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project"),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs")]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    results = json.loads((work / "target" / "run_results.json").read_text())
    statuses = [r["status"] for r in results["results"]]
    if proc.returncode != 0 or any(s not in ("success", "pass") for s in statuses):
        sys.exit(f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "dbt": results["elapsed_time"]}


def prepare(days: int, workspaces: int, ads: int) -> dict:
    """Raw history, the full refresh (timed), then tonight's extraction."""
    work = WORK / f"{days}d"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "warehouse.duckdb"
    started = time.perf_counter()
    counts = generate(db, days, workspaces, ads)
    print(f"{days:>4} days: raw written in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
    full = run_dbt(["build", "--full-refresh"], db, work)
    print(f"{days:>4} days: full refresh {_fmt(full)}", flush=True)
    tonight(db)
    return {"days": days, "db": db, "work": work, "raw_rows": counts, "full_refresh": full, "nightly": []}


def _fmt(t: dict[str, float]) -> str:
    return f"wall {t['wall']:.1f} s, cpu {t['cpu']:.1f} s, dbt elapsed {t['dbt']:.1f} s"


def _median(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, action="append", help="history lengths (default: 90 and 900)")
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--ads", type=int, default=12, help="ads per workspace (one account each)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setups = [prepare(d, args.workspaces, args.ads) for d in (args.days or [90, 900])]
    workspace_ids = [f"ws{w:04d}" for w in range(1, args.workspaces + 1)]
    # the run's vars as the orchestrator passes them: in the environment
    nightly_env = run_var_env({
        "sentrum_window_start": WINDOW[0].isoformat(),
        "sentrum_window_end": WINDOW[1].isoformat(),
        "sentrum_workspaces": workspace_ids,
    })  # fmt: skip
    # alternate the histories, so load from other processes on a shared machine hits both alike
    for i in range(args.repeat):
        for setup in setups:
            t = run_dbt(["build"], setup["db"], setup["work"], nightly_env)
            setup["nightly"].append(t)
            print(f"{setup['days']:>4} days: nightly #{i + 1} {_fmt(t)}", flush=True)
    results = []
    for s in setups:
        results.append({
            "days": s["days"],
            "workspaces": args.workspaces,
            "ads_per_workspace": args.ads,
            "raw_rows": s["raw_rows"],
            "db_mb": round(s["db"].stat().st_size / 1e6),
            "full_refresh": {k: round(v, 2) for k, v in s["full_refresh"].items()},
            "nightly_runs": [{k: round(v, 2) for k, v in t.items()} for t in s["nightly"]],
            "nightly_median": {k: _median(s["nightly"], k) for k in ("wall", "cpu", "dbt")},
        })  # fmt: skip
    print()
    print(f"{'history':>8} {'raw insights':>13} {'full refresh wall':>18} {'nightly wall':>13} {'nightly cpu':>12} "
          f"{'nightly dbt elapsed':>20}  (medians of {args.repeat})")  # fmt: skip
    for r in results:
        m = r["nightly_median"]
        print(
            f"{r['days']:>7}d {r['raw_rows']['meta_insights']:>13,} {r['full_refresh']['wall']:>17.1f}s "
            f"{m['wall']:>12.1f}s {m['cpu']:>11.1f}s {m['dbt']:>19.1f}s"
        )
    if len(results) >= 2:
        base, big = results[0]["nightly_median"], results[-1]["nightly_median"]
        print(
            f"nightly growth {results[-1]['days']}d / {results[0]['days']}d: wall {big['wall'] / base['wall']:.2f}x, "
            f"cpu {big['cpu'] / base['cpu']:.2f}x, dbt elapsed {big['dbt'] / base['dbt']:.2f}x"
        )
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
