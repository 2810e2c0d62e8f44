"""One agency workspace through the real `sentrum sync` (bench/volume/README.md).

    .venv/bin/python bench/volume/run.py                      # 20 accounts x 200 ads, 30 days (~5 minutes)
    .venv/bin/python bench/volume/run.py --days 90            # a backfill slice: 90 days in the default chunks
    .venv/bin/python bench/volume/run.py --case smoke         # a tiny workspace, for the test suite

The project's Graph API sandbox (`bench` scenario: 20 accounts x 200 ads, seed 42, "now" pinned) is served from this
process with 50 ms latency per call and 3 s async report runs. One token reads all 20 accounts, so they are ONE
workspace, registered with `sentrum workspaces add` (the token on stdin, checked with the sandbox). Then
`sentrum sync --workspace agency --start D --end D` runs as a subprocess, exactly as a user runs it, reaching the
sandbox only through SENTRUM_META_GRAPH_URL, with every other setting at its default. Meanwhile the resident memory
of its whole process tree (the dbt subprocess included) is sampled every 0.2 s.

After it exits: wall time per stage from the Dagster event log of the runs it made, the sandbox's call count, rows
per raw table, the warehouse file's size, and the ad-level marts (`fct_ad_insights_daily`, `fct_ad_actions_daily`)
against the sandbox's truth. Exit 1 when the sync failed or a mart differs from the truth. The last line printed is
one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from graph_sandbox import SandboxServer, Scenario  # noqa: E402
from graph_sandbox.specs import TokenSpec  # noqa: E402

SENTRUM = str(Path(sys.executable).with_name("sentrum"))
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LAST_DAY = date(2026, 11, 26)  # "yesterday" for the pinned sandbox
WORKSPACE = "agency"
TOKEN = "sandbox-token-agency"
# The marts' conversions by default (dbt var sentrum_conversion_action_types in dbt_project/dbt_project.yml).
CONVERSION_TYPES = (
    "offsite_conversion.fb_pixel_purchase",
    "offsite_conversion.fb_pixel_lead",
    "onsite_conversion.purchase",
    "onsite_conversion.lead_grouped",
)

CASES: dict[str, dict[str, Any]] = {
    "agency": {"days": 30, "server": {"latency_ms": 50, "job_seconds": 3.0}},
    # Seconds of extraction: 2 accounts x 4 ads, 3 days (dbt and Dagster still take their fixed ~minute).
    "smoke": {"days": 3, "server": {"latency_ms": 5, "job_seconds": 0.2}},
}


def _clock() -> datetime:
    return NOW


def scenario(case: str) -> Scenario:
    """The case's world with one more token, reading every account: an agency's single workspace."""
    if case == "agency":
        base = Scenario("bench", 42, clock=_clock)
    else:
        base = Scenario.generate(
            "volsmoke", 7, accounts=2, campaigns_per_account=2, adsets_per_campaign=1, ads_per_adset=6, tokens=1,
            history_days=60, clock=_clock,
        )  # fmt: skip
    accounts = tuple(a.id for a in base.accounts())
    spec = dataclasses.replace(base.spec, extra_tokens=(TokenSpec(TOKEN, accounts),))
    return Scenario(base.name, base.seed, spec=spec, clock=_clock)


# ---- memory of the sync's process tree ------------------------------------------------------------------------


def _kind(proc: Any) -> str:
    try:
        argv = proc.cmdline()
    except Exception:  # noqa: BLE001 - a process that just ended
        return "other"
    cmd = " ".join(argv)
    if "sentrum" in cmd and " sync" in cmd:
        return "sentrum sync"
    # dbt as the runs start it (`sentrum-dbt`, orchestration/dbt_command.py) or dbt's own executable
    if any(Path(a).name in ("dbt", "sentrum-dbt") for a in argv[:2]) or "dbt.cli" in cmd:
        return "dbt"
    return proc.name() or "other"


class TreeSampler:
    """Every `interval` s: RSS of the root and all its descendants (sum, and per kind of process), this process's own
    (the sandbox's), and the 1-minute load average."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.me = psutil.Process()
        self.interval = interval
        self.peak_sum = 0
        self.peak_kind: dict[str, int] = defaultdict(int)
        self.peak_pid: dict[int, tuple[str, int]] = {}
        self.peak_sandbox = 0
        self.cpu_pid: dict[int, tuple[str, float]] = {}  # the last CPU seconds seen per process
        self.kind_pid: dict[int, str] = {}
        self.samples = 0
        self.load: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                tree = []
            total, kinds = 0, defaultdict(int)
            for p in tree:
                try:
                    rss = p.memory_info().rss
                    cpu = p.cpu_times()
                except psutil.Error:
                    continue
                kind = self.kind_pid.setdefault(p.pid, _kind(p))  # once: a process ending has no command line
                self.cpu_pid[p.pid] = (kind, cpu.user + cpu.system)
                total += rss
                kinds[kind] += rss
                if rss > self.peak_pid.get(p.pid, ("", 0))[1]:
                    self.peak_pid[p.pid] = (kind, rss)
            self.peak_sum = max(self.peak_sum, total)
            for kind, rss in kinds.items():
                self.peak_kind[kind] = max(self.peak_kind[kind], rss)
            self.peak_sandbox = max(self.peak_sandbox, self.me.memory_info().rss)
            self.load.append(os.getloadavg()[0])
            self.samples += 1
            self._stop.wait(self.interval)

    def figures(self) -> dict[str, Any]:
        mb = 2**20
        return {
            "peak_rss_mb_sum": round(self.peak_sum / mb),
            "peak_rss_mb_by_kind": {k: round(v / mb) for k, v in sorted(self.peak_kind.items())},
            "processes_seen": len(self.peak_pid),
            "peak_rss_mb_by_process": sorted(
                ([k, round(v / mb)] for k, v in self.peak_pid.values() if v > 50 * mb), key=lambda kv: -kv[1]
            ),
            "peak_rss_mb_sandbox_process": round(self.peak_sandbox / mb),
            "cpu_s_by_kind_sampled": {
                k: round(sum(c for kk, c in self.cpu_pid.values() if kk == k), 1)
                for k in sorted({kk for kk, _ in self.cpu_pid.values()})
            },  # fmt: skip
            "rss_samples": self.samples,
            "loadavg_1m_during": [round(min(self.load), 2), round(max(self.load), 2)] if self.load else None,
        }


# ---- what the run left ----------------------------------------------------------------------------------------


def stages(dagster_home: Path) -> dict[str, Any]:
    """Per run: start to end; per step: STEP_START to STEP_SUCCESS/FAILURE, grouped into the stages."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    t = dg.DagsterEventType
    kinds = {t.STEP_START, t.STEP_SUCCESS, t.STEP_FAILURE, t.RUN_START, t.RUN_SUCCESS, t.RUN_FAILURE}
    out: dict[str, float] = defaultdict(float)
    steps: dict[str, float] = defaultdict(float)
    runs = []
    events = 0
    for run in reversed(instance.get_runs()):
        starts: dict[str, float] = {}
        begin = end = None
        events += len(instance.all_logs(run.run_id))
        for entry in instance.all_logs(run.run_id, of_type=kinds):
            ev = entry.dagster_event
            if ev.event_type == dg.DagsterEventType.RUN_START:
                begin = entry.timestamp
            elif ev.event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
                end = entry.timestamp
            elif ev.event_type == dg.DagsterEventType.STEP_START:
                starts[ev.step_key] = entry.timestamp
            elif ev.step_key in starts:
                seconds = entry.timestamp - starts.pop(ev.step_key)
                out[_stage(run.job_name, ev.step_key)] += seconds
                steps[ev.step_key] += seconds
        runs.append({"job": run.job_name, "status": run.status.value,
                     "seconds": round(end - begin, 1) if begin and end else None})  # fmt: skip
    return {"stages_s": {k: round(v, 1) for k, v in out.items()}, "steps_s": {k: round(v, 1) for k, v in steps.items()},
            "runs": runs, "dagster_events": events}  # fmt: skip


def _stage(job: str, step_key: str) -> str:
    """extraction (the extraction runs), then in the marts run: dbt (one step: models and their tests), diagnostics,
    and checks (the asset checks outside dbt: freshness, token expiry, delivery without ad rows)."""
    if job == "meta_extract_job":
        return "extraction"
    if "sentrum_dbt" in step_key:
        return "dbt"
    if "diagnostics" in step_key:
        return "diagnostics"
    return "checks"


def landed(db: Path) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        sql = "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        tables = [r[0] for r in con.execute(sql).fetchall()]
        rows = {t: con.execute(f'select count(*) from raw."{t}"').fetchone()[0] for t in tables}
        by_report = dict(con.execute("select report, count(*) from raw.meta_insights group by 1 order by 1").fetchall())
        records = con.execute("select coalesce(sum(len(actions)), 0) from raw.meta_insights").fetchone()[0]
    return {"raw_rows": rows, "insights_rows_by_report": by_report, "action_records": int(records)}


def _n(d: Any) -> str:
    """A number as canonical text ("8.50" and "8.5" alike)."""
    if d is None:
        return "0"
    d = Decimal(str(d))
    return format(d.normalize(), "f") if d else "0"


def check_marts(db: Path, sc: Scenario, start: date, end: date) -> dict[str, Any]:
    """The ad-level marts against the sandbox's truth: every (ad, day) of fct_ad_insights_daily exactly, and every
    non-zero action figure of fct_ad_actions_daily (per ad, day, action type, window)."""
    import duckdb

    expected: dict[tuple, tuple] = {}
    exp_actions: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for account in sc.accounts():
        for t in sc.truth_ad_daily(account.id, start, end):
            conv = sum((t.action(a) for a in CONVERSION_TYPES), Decimal(0))
            value = sum((t.action(a, metric="action_values") for a in CONVERSION_TYPES), Decimal(0))
            expected[(t.ad_id, t.date)] = (account.id, t.campaign_id, t.adset_id, account.currency, _n(t.spend),
                                           t.impressions, t.clicks, t.inline_link_clicks, t.reach, _n(conv),
                                           _n(value))  # fmt: skip
            for a in t.actions:
                exp_actions[(t.ad_id, t.date, a.action_type, a.window)][a.metric == "action_values"] += a.value
    want_actions = {k: (_n(v[0]), _n(v[1])) for k, v in exp_actions.items() if v[0] or v[1]}
    with duckdb.connect(str(db), read_only=True) as con:
        got = {
            (r[0], r[1]): (r[2], r[3], r[4], r[5], _n(r[6]), r[7], r[8], r[9], r[10], _n(r[11]), _n(r[12]))
            for r in con.execute(
                "select ad_id, date_day, account_id, campaign_id, adset_id, account_currency, spend, impressions, "
                "clicks, inline_link_clicks, reach, conversions, conversion_value from marts.fct_ad_insights_daily "
                "where workspace_id = ?",
                [WORKSPACE],
            ).fetchall()
        }
        got_actions = {}
        cur = con.execute(
            "select ad_id, date_day, action_type, attribution_window, actions, action_values "
            "from marts.fct_ad_actions_daily where workspace_id = ?",
            [WORKSPACE],
        )
        while chunk := cur.fetchmany(100_000):
            for r in chunk:
                if r[4] or r[5]:
                    got_actions[(r[0], r[1], r[2], r[3])] = (_n(r[4]), _n(r[5]))
    wrong = [k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k)]
    wrong_actions = [k for k in want_actions.keys() | got_actions.keys() if want_actions.get(k) != got_actions.get(k)]
    return {
        "ad_days_truth": len(expected),
        "ad_days_mart": len(got),
        "ad_days_differing": len(wrong),
        "action_figures_truth": len(want_actions),
        "action_figures_mart": len(got_actions),
        "action_figures_differing": len(wrong_actions),
        "marts_equal_truth": not wrong and not wrong_actions and bool(expected),
        "first_differences": [str(k) for k in (wrong + wrong_actions)[:3]],
    }


# ---- the run --------------------------------------------------------------------------------------------------


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _env(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_", "DBT_"))}
    env.update(SENTRUM_HOME=str(home), SENTRUM_META_GRAPH_URL=url)
    return env


def run(case: str, days: int | None, work: Path, prepared_dbt: Path | None = None) -> dict[str, Any]:
    days = days or CASES[case]["days"]
    start, end = LAST_DAY - timedelta(days=days - 1), LAST_DAY
    sc = scenario(case)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    home = work / ".sentrum"
    if prepared_dbt is not None:  # as a deployment's image has it: the sync then parses nothing
        from orchestration.dbt_prepare import copy_prepared

        home.mkdir(mode=0o700)  # as `sentrum` creates a home
        copy_prepared(prepared_dbt, home / "dbt")
    out: dict[str, Any] = {"case": case, "accounts": len(sc.accounts()),
                           "ads": sum(len(sc.ads(a.id)) for a in sc.accounts()), "days": days,
                           "window": [str(start), str(end)], "server": CASES[case]["server"]}  # fmt: skip
    load_before = os.getloadavg()
    with SandboxServer(sc, **CASES[case]["server"]) as server:
        env = _env(home, server.url)
        add = subprocess.run(
            [SENTRUM, "workspaces", "add", WORKSPACE, "--name", "Agency", "--ad-accounts",
             ",".join(a.id for a in sc.accounts())],
            input=TOKEN, capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        if add.returncode != 0:
            raise RuntimeError(f"workspaces add failed: {add.stderr.strip()}")
        server.reset()  # count the sync's calls only
        log = (work / "sync.out").open("w")
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [SENTRUM, "sync", "--workspace", WORKSPACE, "--start", str(start), "--end", str(end)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        with TreeSampler(proc.pid) as sampler:
            proc.wait(timeout=3600)
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
        log.close()
        calls = server.stats()
    out.update(sync_exit=proc.returncode, wall_s=round(wall, 1))
    out["sync_output_tail"] = (work / "sync.out").read_text()[-600:]
    out.update(sampler.figures())
    # CPU seconds (user + sys), which other load on the machine disturbs less than wall time: the sync's whole
    # process tree (every descendant is waited for, so RUSAGE_CHILDREN has them all), and this process (the sandbox
    # serving the calls, and the sampler).
    children, me = (_cpu(a) - _cpu(b) for a, b in zip(cpu_after, cpu_before, strict=True))
    out.update(cpu_s_sync_tree=round(children, 1), cpu_s_sandbox=round(me, 1))
    out["loadavg_1m_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    out.update(stages(home / "dagster"))
    stage_sum = sum(out["stages_s"].values())
    out["outside_steps_s"] = round(wall - stage_sum, 1)  # process start, dbt parse, Dagster, run bookkeeping
    out["api_calls"] = calls.get("total", 0)
    out["throttled_by_sandbox"] = sum(n for k, n in calls.items() if k.startswith("throttled_"))
    db = home / "warehouse.duckdb"
    out["warehouse_mb"] = round(db.stat().st_size / 2**20, 1)
    out.update(landed(db))
    out.update(check_marts(db, sc, start, end))
    out["targets"] = {"end_to_end_le_300s": wall <= 300, "peak_rss_le_4GiB": out["peak_rss_mb_sum"] <= 4096}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=sorted(CASES), default="agency")
    p.add_argument("--days", type=int, help="days ending 2026-11-26 (default: the case's; 30 for agency)")
    p.add_argument("--work", default=str(ROOT / "bench" / ".work" / "volume"))
    p.add_argument("--keep", action="store_true", help="keep the work directory (warehouse, Dagster home)")
    p.add_argument(
        "--prepared-dbt", metavar="DIR", help="a prepared dbt target to copy into the fresh home (default: the sync "
        "parses the project, as a first sync on a new machine does)",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.days is not None and not 1 <= args.days <= 1130:
        print("run.py: --days must be 1..1130", file=sys.stderr)
        return 2
    prepared = Path(args.prepared_dbt) if args.prepared_dbt else None
    if prepared is not None and not (prepared / "manifest.json").is_file():
        print(f"run.py: --prepared-dbt {prepared} holds no manifest.json", file=sys.stderr)
        return 2
    work = Path(args.work)
    out = run(args.case, args.days, work, prepared)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, default=str))
    return 0 if out["sync_exit"] == 0 and out["marts_equal_truth"] else 1


if __name__ == "__main__":
    sys.exit(main())
